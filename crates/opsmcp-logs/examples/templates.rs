//! Mines a file with default settings on one thread and prints count, id and template per line
//! (for comparing runs while working on the engine).
//!
//! `cargo run -p opsmcp-logs --example templates -- FILE [--per-line]` (`--per-line`: only the
//! template id of every line).

use opsmcp_logs::{Engine, MineOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: templates FILE [--per-line]")?;
    let per_line = std::env::args().any(|a| a == "--per-line");
    let mut e = Engine::new(MineOptions {
        threads: 1,
        per_line,
        ..MineOptions::default()
    })?;
    e.feed_reader(std::fs::File::open(&path)?)?;
    let r = e.finish();
    eprintln!(
        "{} lines, {} templates, relearned {}, formats {:?}",
        r.lines,
        r.templates.len(),
        r.relearned,
        r.formats
    );
    if per_line {
        for id in &r.per_line {
            println!("{id}");
        }
        return Ok(());
    }
    for t in &r.templates {
        println!("{}\t{}\t{}", t.count, t.id, t.template);
    }
    Ok(())
}
