//! Grouping accuracy (GA) on the format zoo (`tests/logzoo`: 37 formats the engine was not
//! developed on, each with Loghub-style ground truth; see its README) and on the ten Loghub-2k
//! datasets, raw lines, one configuration (the defaults) for all.
//!
//! Print the tables with `cargo test --release -p opsmcp-logs --test zoo_ga -- --nocapture`.

mod common;

use std::path::{Path, PathBuf};

use common::{grouping_accuracy, mine, truth};

/// Every zoo format and every Loghub dataset must reach this.
const FLOOR: f64 = 0.0;
/// And the averages this.
const AVG_FLOOR: f64 = 0.0;

fn zoo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/logzoo")
}

fn loghub_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("OPSMCP_LOGHUB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/loghub-2k")
        });
    dir.join("HDFS").is_dir().then_some(dir)
}

/// (name, raw log, structured csv) per format in `dir`, by name.
fn formats(dir: &Path, log_name: impl Fn(&str) -> String) -> Vec<(String, PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let log = e.path().join(log_name(&name));
        let csv = e.path().join(format!("{}_structured.csv", log_name(&name)));
        if log.is_file() && csv.is_file() {
            out.push((name, log, csv));
        }
    }
    out.sort();
    out
}

/// Prints a table of GA per format and returns the failures and the average.
fn table(title: &str, sets: &[(String, PathBuf, PathBuf)]) -> (Vec<String>, f64) {
    println!("\n| {title} | lines | GA |\n|---|---|---|");
    let mut failures = Vec::new();
    let mut sum = 0.0;
    for (name, log, csv) in sets {
        let raw = std::fs::read(log).expect("log");
        let (labels, _) = truth(&std::fs::read(csv).expect("csv"));
        let ids = mine(&raw, false, 1);
        assert_eq!(ids.len(), labels.len(), "{name}: one id per line");
        let ga = grouping_accuracy(&labels, &ids);
        println!("| {name} | {} | {ga:.3} |", labels.len());
        sum += ga;
        if ga < FLOOR {
            failures.push(format!("{name}: {ga:.3}"));
        }
        // The answer does not depend on threads.
        assert_eq!(mine(&raw, false, 2), ids, "{name}: 2 threads differ");
    }
    let avg = sum / sets.len().max(1) as f64;
    println!("| **average** | | **{avg:.3}** |");
    (failures, avg)
}

#[test]
fn grouping_accuracy_on_the_zoo_and_loghub() {
    let zoo = formats(&zoo_dir(), |n| format!("{n}.log"));
    assert!(zoo.len() >= 25, "the zoo has {} formats", zoo.len());
    let (mut failures, zoo_avg) = table("zoo format", &zoo);
    let mut avgs = vec![zoo_avg];
    match loghub_dir() {
        Some(dir) => {
            let loghub = formats(&dir, |n| format!("{n}_2k.log"));
            let (f, avg) = table("Loghub-2k (raw)", &loghub);
            failures.extend(f);
            avgs.push(avg);
        }
        None => eprintln!("Loghub-2k not found (set OPSMCP_LOGHUB_DIR): zoo only"),
    }
    assert!(
        avgs.iter().all(|&a| a >= AVG_FLOOR),
        "average GA {avgs:?} below {AVG_FLOOR}"
    );
    assert!(failures.is_empty(), "below {FLOOR}: {failures:#?}");
}
