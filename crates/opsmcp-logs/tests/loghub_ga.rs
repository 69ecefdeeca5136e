//! Grouping accuracy (GA) on Loghub-2k, on the raw lines (headers included, no format given) and
//! on the ground truth's `Content` column, with the same settings for every dataset.
//!
//! GA: a line is parsed correctly when the set of lines in its group is exactly the set of lines
//! sharing its ground-truth `EventId`; GA is the share of such lines (see the data's README).
//!
//! The data lives outside the repository (`OPSMCP_LOGHUB_DIR`, default `../shared/data/loghub-2k`
//! beside the clone); without it the test says it was skipped. Print the table with
//! `cargo test --release -p opsmcp-logs --test loghub_ga -- --nocapture`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use opsmcp_logs::{Engine, MineOptions};

/// Floors per dataset, (raw, content): one point under the values measured when they were set
/// (the engine is deterministic; the slack only lets a deliberate trade-off between datasets
/// through). Linux stays near 0.81 because its ground truth splits `user=root`, `user=guest`
/// and `user=test` into three events, which generic masking merges.
const FLOORS: &[(&str, f64, f64)] = &[
    ("Android", 0.95, 0.95),
    ("BGL", 0.96, 0.97),
    ("HDFS", 0.99, 0.99),
    ("HPC", 0.94, 0.94),
    ("Hadoop", 0.98, 0.98),
    ("Linux", 0.80, 0.80),
    ("OpenSSH", 0.99, 0.99),
    ("Spark", 0.99, 0.99),
    ("Thunderbird", 0.97, 0.97),
    ("Windows", 0.99, 0.99),
];
const AVG_FLOOR: (f64, f64) = (0.95, 0.95);

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("OPSMCP_LOGHUB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/loghub-2k")
        });
    dir.join("HDFS").is_dir().then_some(dir)
}

/// A minimal RFC 4180 reader: fields, quotes, doubled quotes, newlines inside quotes.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut in_q = false;
    while let Some(c) = chars.next() {
        if in_q {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    in_q = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => in_q = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            '\r' => {}
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// GA of `predicted` against `truth` (one label per line).
fn grouping_accuracy(truth: &[String], predicted: &[String]) -> f64 {
    assert_eq!(truth.len(), predicted.len());
    let mut by_truth: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_pred: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (t, p)) in truth.iter().zip(predicted).enumerate() {
        by_truth.entry(t).or_default().push(i);
        by_pred.entry(p).or_default().push(i);
    }
    let mut correct = 0;
    for (p, lines) in &by_pred {
        let t = &truth[lines[0]];
        if by_truth[t.as_str()] == *lines {
            correct += lines.len();
        }
        let _ = p;
    }
    correct as f64 / truth.len() as f64
}

fn mine(text: &str, messages_only: bool, threads: usize) -> Vec<String> {
    let mut e = Engine::new(MineOptions {
        per_line: true,
        messages_only,
        threads,
        chunk_bytes: 16 << 10,
        ..MineOptions::default()
    })
    .expect("engine");
    e.feed(text.as_bytes());
    e.finish().per_line
}

struct Dataset {
    name: String,
    raw: String,
    content: String,
    truth: Vec<String>,
}

fn load(dir: &Path, name: &str) -> Dataset {
    let raw = std::fs::read(dir.join(name).join(format!("{name}_2k.log"))).expect("raw log");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let csv = std::fs::read(dir.join(name).join(format!("{name}_2k.log_structured.csv")))
        .expect("structured csv");
    let rows = csv_rows(&String::from_utf8_lossy(&csv));
    let head = &rows[0];
    let col = |n: &str| head.iter().position(|h| h == n).expect("column");
    let (c, e) = (col("Content"), col("EventId"));
    let body: Vec<&Vec<String>> = rows[1..].iter().filter(|r| r.len() == head.len()).collect();
    let content = body
        .iter()
        .map(|r| r[c].replace('\n', " "))
        .collect::<Vec<_>>()
        .join("\n");
    Dataset {
        name: name.into(),
        raw,
        content,
        truth: body.iter().map(|r| r[e].clone()).collect(),
    }
}

#[test]
fn grouping_accuracy_on_loghub_2k() {
    let Some(dir) = data_dir() else {
        eprintln!("skipped: Loghub-2k not found (set OPSMCP_LOGHUB_DIR)");
        return;
    };
    let mut sum = (0.0, 0.0);
    let mut failures = Vec::new();
    println!("| dataset | GA raw | GA content |\n|---|---|---|");
    for &(name, floor_raw, floor_content) in FLOORS {
        let d = load(&dir, name);
        let raw = mine(&d.raw, false, 1);
        assert_eq!(raw.len(), d.truth.len(), "{}: one id per line", d.name);
        let content = mine(&d.content, true, 1);
        let (ga_raw, ga_content) = (
            grouping_accuracy(&d.truth, &raw),
            grouping_accuracy(&d.truth, &content),
        );
        println!("| {name} | {ga_raw:.3} | {ga_content:.3} |");
        sum.0 += ga_raw;
        sum.1 += ga_content;
        if ga_raw < floor_raw || ga_content < floor_content {
            failures.push(format!(
                "{name}: raw {ga_raw:.3} (floor {floor_raw}), content {ga_content:.3} (floor {floor_content})"
            ));
        }
        // The answer does not depend on threads or chunking.
        assert_eq!(mine(&d.raw, false, 2), raw, "{name}: 2 threads differ");
    }
    let n = FLOORS.len() as f64;
    let avg = (sum.0 / n, sum.1 / n);
    println!("| **average** | **{:.3}** | **{:.3}** |", avg.0, avg.1);
    assert!(
        avg.0 >= AVG_FLOOR.0 && avg.1 >= AVG_FLOOR.1,
        "average GA {avg:?} below {AVG_FLOOR:?}"
    );
    assert!(failures.is_empty(), "below floor: {failures:#?}");
}
