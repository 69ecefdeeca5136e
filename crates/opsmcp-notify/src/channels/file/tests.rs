use jiff::Timestamp;

use super::*;

fn notification(key: &str) -> Notification {
    Notification {
        id: 1,
        idempotency_key: key.into(),
        channel: "file".into(),
        message: "db down".into(),
        severity: None,
        incident_id: Some("INC-0001".into()),
        created_at: Timestamp::UNIX_EPOCH,
        attempt: 1,
    }
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test]
async fn a_key_is_written_once_even_by_a_new_instance() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = FileConfig {
        path: Some("sub/n.jsonl".into()),
    };
    let a = FileChannel::new("file", &config, dir.path()).expect("build");
    a.send(&notification("k1")).await.expect("first");
    a.send(&notification("k1")).await.expect("repeat");
    a.send(&notification("k2")).await.expect("second key");
    // A restarted process: a fresh index, read from the file.
    let b = FileChannel::new("file", &config, dir.path()).expect("build again");
    b.send(&notification("k1"))
        .await
        .expect("repeat after restart");
    b.send(&notification("k3")).await.expect("third key");
    // And the first instance sees what the second appended.
    a.send(&notification("k3"))
        .await
        .expect("repeat from the other instance");
    let keys: Vec<String> = lines(&dir.path().join("sub/n.jsonl"))
        .iter()
        .map(|v| {
            v["idempotency_key"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(keys, ["k1", "k2", "k3"]);
}

#[tokio::test]
async fn a_torn_line_is_ended_and_rewritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("n.jsonl");
    std::fs::write(
        &path,
        b"{\"idempotency_key\":\"k0\"}\n{\"idempotency_key\":\"k1\",\"mess",
    )
    .expect("write");
    let c = FileChannel::new(
        "file",
        &FileConfig {
            path: Some(path.clone()),
        },
        dir.path(),
    )
    .expect("build");
    c.send(&notification("k0")).await.expect("k0 is there");
    c.send(&notification("k1")).await.expect("k1 was torn");
    let all = lines(&path);
    assert_eq!(all.len(), 2, "the torn line is skipped, k1 written whole");
    assert_eq!(all[1]["idempotency_key"], "k1");
    assert_eq!(all[1]["message"], "db down");
}
