//! What the GA tests share: a CSV reader, grouping accuracy, and mining a text the way the CLI
//! does (`opsmcp logs templates --per-line`).

#![allow(dead_code)]

use std::collections::HashMap;

use opsmcp_logs::{Engine, MineOptions};

/// A minimal RFC 4180 reader: fields, quotes, doubled quotes, newlines inside quotes.
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
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

/// The `EventId` column and the `Content` column (newlines inside it made spaces) of a
/// Loghub-style structured CSV.
pub fn truth(csv: &[u8]) -> (Vec<String>, Vec<String>) {
    let rows = csv_rows(&String::from_utf8_lossy(csv));
    let head = &rows[0];
    let col = |n: &str| head.iter().position(|h| h == n).expect("column");
    let (c, e) = (col("Content"), col("EventId"));
    let body: Vec<&Vec<String>> = rows[1..].iter().filter(|r| r.len() == head.len()).collect();
    (
        body.iter().map(|r| r[e].clone()).collect(),
        body.iter().map(|r| r[c].replace('\n', " ")).collect(),
    )
}

/// GA of `predicted` against `truth` (one label per line): a line is right when the set of
/// lines in its predicted group is exactly the set sharing its true label.
pub fn grouping_accuracy(truth: &[String], predicted: &[String]) -> f64 {
    assert_eq!(truth.len(), predicted.len());
    let mut by_truth: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_pred: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (t, p)) in truth.iter().zip(predicted).enumerate() {
        by_truth.entry(t).or_default().push(i);
        by_pred.entry(p).or_default().push(i);
    }
    let mut correct = 0;
    for lines in by_pred.values() {
        let t = &truth[lines[0]];
        if by_truth[t.as_str()] == *lines {
            correct += lines.len();
        }
    }
    correct as f64 / truth.len() as f64
}

/// Every line's template id, mined with the default settings (what the CLI uses).
pub fn mine(bytes: &[u8], messages_only: bool, threads: usize) -> Vec<String> {
    let mut e = Engine::new(MineOptions {
        per_line: true,
        messages_only,
        threads,
        chunk_bytes: 16 << 10,
        ..MineOptions::default()
    })
    .expect("engine");
    e.feed(bytes);
    e.finish().per_line
}
