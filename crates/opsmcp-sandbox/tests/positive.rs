//! What an analysis script needs works inside the sandbox: the data file through `sys.argv[1]`,
//! the stdlib, threads, sqlite3, files in the output folder.

mod common;

use std::collections::BTreeMap;

use common::{Fixture, log_entries};

#[tokio::test]
async fn error_counts_per_service_match() {
    let f = Fixture::new();
    let body = r#"
import json, collections
entries = json.load(open(sys.argv[1]))
counts = collections.Counter(e["service"] for e in entries if e["level"] == "ERROR")
with open("errors.json", "w") as fh:
    json.dump(dict(counts), fh)
print(json.dumps(dict(sorted(counts.items()))))
"#;
    let (o, out) = f.run("counts", body).await;
    assert_eq!(o.exit_code, Some(0), "stderr:\n{}", o.stderr.text);
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for (svc, level) in log_entries() {
        if level == "ERROR" {
            *expected.entry(svc).or_default() += 1;
        }
    }
    let got: BTreeMap<String, u64> =
        serde_json::from_str(o.stdout.text.trim()).expect("json on stdout");
    assert_eq!(got, expected);
    let file: BTreeMap<String, u64> = serde_json::from_str(
        &std::fs::read_to_string(f.path(&format!("{out}/errors.json"))).expect("errors.json"),
    )
    .expect("json file");
    assert_eq!(file, expected);
    assert!(
        o.files_written
            .iter()
            .any(|w| w.path == format!("{out}/errors.json") && w.bytes > 0),
        "{:?}",
        o.files_written
    );
    assert!(
        o.layers.iter().any(|l| l.starts_with("landlock-fs"))
            && o.layers.iter().any(|l| l == "seccomp")
    );
    assert_eq!(o.limit_hit, None);
}

#[tokio::test]
async fn stdlib_threads_and_sqlite_work() {
    let f = Fixture::new();
    let body = r#"
import json, csv, statistics, collections, re, threading, sqlite3, io, datetime, math, tempfile
entries = json.load(open(sys.argv[1]))
again = json.load(open(sys.argv[1]))
assert entries == again
assert statistics.mean([1, 2, 3]) == 2 and statistics.median([3, 1, 2]) == 2
assert re.findall(r"event (\d+)", entries[7]["msg"]) == ["7"]
with open("rows.csv", "w", newline="") as fh:
    w = csv.writer(fh)
    for e in entries[:10]:
        w.writerow([e["ts"], e["service"], e["level"]])
assert len(list(csv.reader(open("rows.csv")))) == 10
results = [0] * 4
def work(i):
    results[i] = sum(1 for e in entries if e["ts"] % 4 == i)
threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
assert sum(results) == len(entries), results
mem = sqlite3.connect(":memory:")
mem.execute("create table logs(service, level)")
mem.executemany("insert into logs values (?, ?)", [(e["service"], e["level"]) for e in entries])
n = mem.execute("select count(*) from logs where level = 'ERROR'").fetchone()[0]
disk = sqlite3.connect("logs.db")
disk.execute("create table logs(service, level)")
disk.executemany("insert into logs values (?, ?)", [(e["service"], e["level"]) for e in entries])
disk.commit()
assert disk.execute("select count(*) from logs where level = 'ERROR'").fetchone()[0] == n
with tempfile.NamedTemporaryFile("w", delete=False, dir=".") as t:
    t.write("scratch")
os.makedirs("sub/dir", exist_ok=True)
open("sub/dir/nested.txt", "w").write("nested")
print("ALL OK", n, results)
"#;
    let (o, out) = f.run("stdlib", body).await;
    assert_eq!(
        o.exit_code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        o.stdout.text,
        o.stderr.text
    );
    assert!(o.stdout.text.contains("ALL OK"));
    let names: Vec<&str> = o.files_written.iter().map(|w| w.path.as_str()).collect();
    for want in ["rows.csv", "logs.db", "sub/dir/nested.txt"] {
        assert!(
            names.contains(&format!("{out}/{want}").as_str()),
            "{want} missing from {names:?}"
        );
    }
}

#[tokio::test]
async fn a_failing_script_is_an_outcome_not_an_error() {
    let f = Fixture::new();
    let (o, _) = f
        .run("fails", "print('before')\nraise ValueError('bad input')\n")
        .await;
    assert_eq!(o.exit_code, Some(1));
    assert_eq!(o.limit_hit, None);
    assert!(o.stdout.text.contains("before"));
    assert!(o.stderr.text.contains("ValueError: bad input"));
}
