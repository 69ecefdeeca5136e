//! Prints what the engine learns about a log file's structure: the parser of its first lines
//! and, for the first lines, where each message starts.
//!
//! `cargo run -p opsmcp-logs --example structure -- FILE [LINES]`

use opsmcp_logs::Parser;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: structure FILE [LINES]");
        std::process::exit(2);
    };
    let show: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1);
    });
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let sample: Vec<&str> = lines.iter().take(200).copied().collect();
    let parser = Parser::learn(&sample);
    println!(
        "format {:?}, columns {:?}",
        parser.format(),
        parser.columns()
    );
    println!("fit on the sample: {:.3}", parser.fit(&sample));
    for l in lines.iter().take(show) {
        let r = parser.parse(l);
        println!(
            "{:?} | time {:?} | level {:?} | service {:?} | {}",
            r.format,
            r.time_text.as_deref(),
            r.level.map(|l| l.as_str()),
            r.service.as_deref(),
            r.message
        );
    }
}
