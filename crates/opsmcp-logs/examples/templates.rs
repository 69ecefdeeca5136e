//! Mines a file with default settings on one thread and prints count, id and template per line
//! (for comparing runs while working on the engine).
//!
//! `cargo run -p opsmcp-logs --example templates -- FILE`

use opsmcp_logs::{Engine, MineOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: templates FILE")?;
    let mut e = Engine::new(MineOptions {
        threads: 1,
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
    for t in &r.templates {
        println!("{}\t{}\t{}", t.count, t.id, t.template);
    }
    Ok(())
}
