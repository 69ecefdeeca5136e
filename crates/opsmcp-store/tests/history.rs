//! The live world's history on both backends: samples round-trip exactly, ranges are
//! `[from, to)`, reads come ordered by series then time, a bad batch writes nothing, pruning
//! averages old buckets (once: a second run changes nothing) and deletes what is past keeping;
//! change events round-trip and are pruned alike.

#[macro_use]
mod common;

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use opsmcp_store::{ChangeEvent, PruneReport, Retention, Sample, Store, StoreError};

fn t(s: &str) -> Timestamp {
    s.parse().expect("time")
}

fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

fn sample(at: Timestamp, service: &str, signal: &str, value: f64) -> Sample {
    Sample {
        at,
        service: service.into(),
        signal: signal.into(),
        value,
    }
}

fn change(at: Timestamp, kind: &str, service: &str, detail: &str) -> ChangeEvent {
    ChangeEvent {
        at,
        kind: kind.into(),
        service: service.into(),
        detail: detail.into(),
        source: "webhook".into(),
    }
}

/// Everything stored, whatever its age.
async fn all_samples(store: &Store) -> Vec<Sample> {
    store
        .samples(t("2000-01-01T00:00:00Z"), t("2100-01-01T00:00:00Z"))
        .await
        .expect("read all")
}

both_backends!(samples_round_trip, round_trip_test);
async fn round_trip_test(store: Store, _url: String) {
    let t0 = t("2026-11-26T10:00:00.123456Z");
    // Values that a lossy encoding (f32, text with few digits) would change.
    let batch = vec![
        sample(t0, "api", "cpu_percent", 0.1),
        sample(t0 + secs(10), "api", "cpu_percent", -3.5e-7),
        sample(t0 + secs(20), "api", "cpu_percent", 1.0e300),
        sample(t0, "api", "latency_ms", f64::MIN_POSITIVE),
        sample(t0, "orders-db", "connections", 0.0),
        sample(
            t0 + secs(10),
            "orders-db",
            "connections",
            123_456_789.123_456_78,
        ),
    ];
    assert_eq!(store.record_samples(&batch).await.expect("record"), 6);
    assert_eq!(store.record_samples(&[]).await.expect("empty batch"), 0);
    assert_eq!(all_samples(&store).await, batch);
    // Bitwise too: -0.0 == 0.0, so compare the bits of what came back.
    let back = all_samples(&store).await;
    for (a, b) in back.iter().zip(&batch) {
        assert_eq!(a.value.to_bits(), b.value.to_bits(), "{a:?} vs {b:?}");
    }
}

both_backends!(sample_ranges_include_from_exclude_to, range_test);
async fn range_test(store: Store, _url: String) {
    let t0 = t("2026-11-26T10:00:00Z");
    let batch: Vec<Sample> = (0..5)
        .map(|i| sample(t0 + secs(10 * i), "api", "cpu", i as f64))
        .collect();
    store.record_samples(&batch).await.expect("record");

    let got = store
        .samples(t0 + secs(10), t0 + secs(30))
        .await
        .expect("read");
    assert_eq!(got, batch[1..3].to_vec(), "from inclusive, to exclusive");
    let got = store
        .samples(
            t0 + secs(10),
            t0 + secs(30) + SignedDuration::from_micros(1),
        )
        .await
        .expect("read");
    assert_eq!(
        got,
        batch[1..4].to_vec(),
        "one microsecond more takes in the 30 s sample"
    );
    // A bound between two microseconds: the sample at 10 s is before 10.0000005 s, so it is out
    // of a range starting there and in one ending there.
    let half = t0 + secs(10) + SignedDuration::from_nanos(500);
    assert_eq!(
        store.samples(half, t0 + secs(60)).await.expect("read"),
        batch[2..].to_vec()
    );
    assert_eq!(
        store.samples(t0, half).await.expect("read"),
        batch[..2].to_vec()
    );
    assert!(store.samples(t0, t0).await.expect("empty").is_empty());
    let err = store
        .samples(t0 + secs(1), t0)
        .await
        .expect_err("from after to");
    assert!(
        matches!(err, StoreError::Invalid { field: "from", .. }),
        "{err}"
    );
}

both_backends!(samples_come_by_series_then_time, ordering_test);
async fn ordering_test(store: Store, _url: String) {
    let t0 = t("2026-11-26T10:00:00Z");
    // Recorded newest first and interleaved across series, in two batches, so neither the order
    // recorded nor the order of the key (time first) is the order asked for.
    let mut batch = Vec::new();
    for i in (0..4).rev() {
        for (service, signal) in [
            ("web", "rss"),
            ("api", "rss"),
            ("web", "cpu"),
            ("api", "cpu"),
        ] {
            batch.push(sample(t0 + secs(10 * i), service, signal, i as f64));
        }
    }
    store.record_samples(&batch[8..]).await.expect("older half");
    store.record_samples(&batch[..8]).await.expect("newer half");

    let got = store.samples(t0, t0 + secs(60)).await.expect("read");
    let keys: Vec<(String, String, Timestamp)> = got
        .iter()
        .map(|s| (s.service.clone(), s.signal.clone(), s.at))
        .collect();
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(got.len(), 16);
    assert_eq!(
        (got[0].service.as_str(), got[0].signal.as_str(), got[0].at),
        ("api", "cpu", t0)
    );
    assert_eq!(
        (
            got[15].service.as_str(),
            got[15].signal.as_str(),
            got[15].at
        ),
        ("web", "rss", t0 + secs(30))
    );
}

both_backends!(a_failed_batch_writes_nothing, failed_batch_test);
async fn failed_batch_test(store: Store, _url: String) {
    let t0 = t("2026-11-26T10:00:00Z");
    let good = |i: i64| sample(t0 + secs(i), "api", "cpu", 1.0);
    store.record_samples(&[good(0)]).await.expect("one stored");

    // Not a number, in the middle of the batch: refused, named, and nothing of it written.
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let batch = vec![
            good(1),
            good(2),
            sample(t0 + secs(3), "api", "cpu", bad),
            good(4),
        ];
        let err = store.record_samples(&batch).await.expect_err("non-finite");
        let text = err.to_string();
        assert!(
            matches!(
                err,
                StoreError::Invalid {
                    field: "samples",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(text.contains("sample 2 (api/cpu at"), "{text}");
        assert!(text.contains("finite"), "{text}");
        assert!(
            text.contains("nothing of this batch was recorded"),
            "{text}"
        );
    }

    // Empty names and a series twice at one instant are refused before writing too.
    let err = store
        .record_samples(&[good(1), sample(t0, "api", " ", 1.0)])
        .await
        .expect_err("empty signal");
    assert!(err.to_string().contains("sample 1"), "{err}");
    let err = store
        .record_samples(&[good(1), good(2), good(1)])
        .await
        .expect_err("duplicate in the batch");
    assert!(err.to_string().contains("as sample 0"), "{err}");

    // A sample that clashes with a stored one is only found by the database, after the batch's
    // first 2,000 rows (two INSERT statements) went in: the transaction must take them back.
    let mut batch: Vec<Sample> = (0..2500)
        .map(|i| sample(t0 + secs(1 + i), "web", "cpu", i as f64))
        .collect();
    batch.push(good(0));
    let err = store
        .record_samples(&batch)
        .await
        .expect_err("clash with a stored sample");
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                field: "samples",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("already stored"), "{err}");

    assert_eq!(all_samples(&store).await, vec![good(0)]);
    // And the same batch without the clash goes in whole.
    batch.pop();
    assert_eq!(store.record_samples(&batch).await.expect("record"), 2500);
    assert_eq!(all_samples(&store).await.len(), 2501);
}

both_backends!(prune_averages_old_buckets_once, downsampling_test);
async fn downsampling_test(store: Store, _url: String) {
    let now = t("2026-11-26T12:00:00Z");
    let raw_cut = now - secs(24 * 3600);
    let b1 = raw_cut - secs(3600); // 11:00 the day before, a bucket start
    let b2 = b1 + secs(300);
    let last = raw_cut - secs(300); // the last bucket before the raw cut
    let mut batch: Vec<Sample> = (0..30)
        .map(|i| sample(b1 + secs(10 * i), "api", "cpu", (i + 1) as f64))
        .collect();
    batch.extend([
        sample(b1 + secs(42), "api", "mem", 7.0),
        sample(b2 + secs(1), "db", "cpu", 2.0),
        sample(b2 + secs(100), "db", "cpu", 4.0),
        sample(b2 + secs(299), "db", "cpu", 9.0),
        sample(raw_cut - secs(10), "api", "cpu", 3.0),
        sample(raw_cut - secs(5), "api", "cpu", 5.0),
        // From the raw cut on, samples stay as they are.
        sample(raw_cut, "api", "cpu", 8.0),
        sample(raw_cut + secs(3), "api", "cpu", 6.0),
        sample(now - secs(3600), "api", "cpu", 99.0),
    ]);
    store.record_samples(&batch).await.expect("record");

    let policy = Retention::default();
    let report = store.prune_samples(now, &policy).await.expect("prune");
    assert_eq!(
        report,
        PruneReport {
            downsampled: 30 + 1 + 3 + 2,
            deleted: 0
        }
    );
    let expected = vec![
        sample(b1, "api", "cpu", 15.5),
        sample(last, "api", "cpu", 4.0),
        sample(raw_cut, "api", "cpu", 8.0),
        sample(raw_cut + secs(3), "api", "cpu", 6.0),
        sample(now - secs(3600), "api", "cpu", 99.0),
        sample(b1, "api", "mem", 7.0),
        sample(b2, "db", "cpu", 5.0),
    ];
    assert_eq!(all_samples(&store).await, expected);

    // Again, same time: nothing to do, nothing changed.
    let again = store
        .prune_samples(now, &policy)
        .await
        .expect("prune again");
    assert_eq!(again, PruneReport::default());
    assert_eq!(all_samples(&store).await, expected);

    // A late sample in an averaged bucket counts as one sample against the 30 already in it.
    store
        .record_samples(&[sample(b1 + secs(17), "api", "cpu", 100.0)])
        .await
        .expect("late sample");
    let report = store.prune_samples(now, &policy).await.expect("prune late");
    assert_eq!(report.downsampled, 2);
    let cpu = store
        .samples(b1, b1 + secs(300))
        .await
        .expect("read bucket");
    assert_eq!(cpu.len(), 2, "{cpu:?}");
    assert_eq!(
        cpu[0],
        sample(b1, "api", "cpu", (15.5 * 30.0 + 100.0) / 31.0)
    );
    assert_eq!(cpu[1], sample(b1, "api", "mem", 7.0));

    // An hour later the raw samples of that hour are averaged too, the rest left alone.
    let later = now + secs(3600);
    let report = store
        .prune_samples(later, &policy)
        .await
        .expect("prune later");
    assert_eq!(report.downsampled, 2, "{report:?}");
    let got = store
        .samples(raw_cut, raw_cut + secs(300))
        .await
        .expect("read");
    assert_eq!(got, vec![sample(raw_cut, "api", "cpu", 7.0)]);
    assert_eq!(
        store.prune_samples(later, &policy).await.expect("idle"),
        PruneReport::default()
    );

    // A wider step later folds the 5-minute means in by their weights: api/cpu's 11:00 hour
    // holds a mean of 31 samples (at 11:00) and one of 2 (at 11:55); db/cpu's lone 11:05 mean
    // moves to 11:00 unchanged.
    let wide = Retention {
        coarse_step: Duration::from_secs(3600),
        ..policy
    };
    let report = store.prune_samples(later, &wide).await.expect("wide");
    assert_eq!(report.downsampled, 3, "{report:?}");
    let hour = store.samples(b1, b1 + secs(3600)).await.expect("read");
    assert_eq!(hour.len(), 3, "{hour:?}");
    assert_eq!((hour[0].service.as_str(), hour[0].at), ("api", b1));
    let weighted = (15.5 * 30.0 + 100.0 + 4.0 * 2.0) / 33.0;
    assert!((hour[0].value - weighted).abs() < 1e-9, "{hour:?}");
    let db: Vec<Sample> = all_samples(&store)
        .await
        .into_iter()
        .filter(|s| s.service == "db")
        .collect();
    assert_eq!(db, vec![sample(b1, "db", "cpu", 5.0)]);
    let api_mem: Vec<Sample> = all_samples(&store)
        .await
        .into_iter()
        .filter(|s| s.signal == "mem")
        .collect();
    assert_eq!(api_mem, vec![sample(b1, "api", "mem", 7.0)]);
}

both_backends!(prune_deletes_past_keep_for, deletion_test);
async fn deletion_test(store: Store, _url: String) {
    let now = t("2026-11-26T12:00:00Z");
    let keep_cut = now - secs(7 * 24 * 3600);
    store
        .record_samples(&[
            sample(keep_cut - secs(1), "api", "cpu", 1.0),
            sample(keep_cut, "api", "cpu", 2.0),
            sample(keep_cut + secs(120), "api", "mem", 3.0),
            sample(now - secs(60), "api", "cpu", 4.0),
        ])
        .await
        .expect("record");
    let old = change(
        keep_cut - SignedDuration::from_micros(1),
        "deploy",
        "api",
        "v1",
    );
    let kept = change(keep_cut, "config", "api", "/etc/api.toml");
    store.record_change(&old).await.expect("old change");
    store.record_change(&kept).await.expect("kept change");

    let policy = Retention::default();
    let report = store.prune_samples(now, &policy).await.expect("prune");
    assert_eq!(
        report,
        PruneReport {
            downsampled: 1,
            deleted: 2
        }
    );
    assert_eq!(
        all_samples(&store).await,
        vec![
            sample(keep_cut, "api", "cpu", 2.0),
            sample(now - secs(60), "api", "cpu", 4.0),
            sample(keep_cut, "api", "mem", 3.0),
        ]
    );
    let all_changes = || store.changes(t("2000-01-01T00:00:00Z"), now + secs(1));
    assert_eq!(all_changes().await.expect("changes"), vec![kept.clone()]);
    assert_eq!(
        store.prune_samples(now, &policy).await.expect("again"),
        PruneReport::default()
    );

    // Ten minutes on, the bucket at the old edge has passed keep_for too (by whole buckets).
    let report = store
        .prune_samples(now + secs(600), &policy)
        .await
        .expect("later");
    assert_eq!(
        report,
        PruneReport {
            downsampled: 0,
            deleted: 3
        }
    );
    assert_eq!(
        all_samples(&store).await,
        vec![sample(now - secs(60), "api", "cpu", 4.0)]
    );
    assert!(all_changes().await.expect("changes").is_empty());

    // Policies that cannot be applied say why.
    let err = store
        .prune_samples(
            now,
            &Retention {
                coarse_step: Duration::ZERO,
                ..policy
            },
        )
        .await
        .expect_err("zero step");
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                field: "coarse_step",
                ..
            }
        ),
        "{err}"
    );
    let err = store
        .prune_samples(
            now,
            &Retention {
                keep_for: Duration::from_secs(3600),
                ..policy
            },
        )
        .await
        .expect_err("keep shorter than raw");
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                field: "keep_for",
                ..
            }
        ),
        "{err}"
    );
}

both_backends!(change_events_round_trip, changes_test);
async fn changes_test(store: Store, _url: String) {
    let t0 = t("2026-11-26T10:00:00.000001Z");
    let deploy = change(t0 + secs(60), "deploy", "api", "v2.3.1 → v2.4.0");
    let restart = change(t0 + secs(60), "restart", "api", "systemd: api.service");
    let package = ChangeEvent {
        source: "dpkg".into(),
        ..change(t0, "package", "", "openssl 3.0.11 → 3.0.13")
    };
    let config = ChangeEvent {
        source: "file-watch".into(),
        ..change(t0 + secs(120), "config", "nginx", "/etc/nginx/nginx.conf")
    };
    let mut ids = Vec::new();
    for e in [&deploy, &restart, &config, &package] {
        ids.push(store.record_change(e).await.expect("record"));
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // Oldest first; equal times in the order recorded.
    assert_eq!(
        store.changes(t0, t0 + secs(600)).await.expect("read"),
        vec![
            package.clone(),
            deploy.clone(),
            restart.clone(),
            config.clone()
        ]
    );
    assert_eq!(
        store
            .changes(t0 + secs(60), t0 + secs(120))
            .await
            .expect("read"),
        vec![deploy, restart]
    );
    assert!(
        store
            .changes(t0 - secs(60), t0)
            .await
            .expect("read")
            .is_empty()
    );

    let err = store
        .record_change(&change(t0, " ", "api", "?"))
        .await
        .expect_err("no kind");
    assert!(
        matches!(err, StoreError::Invalid { field: "kind", .. }),
        "{err}"
    );
    let err = store
        .record_change(&ChangeEvent {
            source: String::new(),
            ..config
        })
        .await
        .expect_err("no source");
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                field: "source",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        store.changes(t0, t0 + secs(600)).await.expect("read").len(),
        4
    );
}

both_backends!(prune_at_any_time_is_idempotent, unaligned_test);
async fn unaligned_test(store: Store, _url: String) {
    // `now` in the middle of a bucket: keep_for ends at 12:01:30 a week ago, inside the bucket
    // starting 12:00. A sample at 12:03 is kept, and so is its mean at 12:00 on the next run.
    let now = t("2026-11-26T12:01:30Z");
    let edge = t("2026-11-19T12:00:00Z");
    store
        .record_samples(&[
            sample(edge + secs(180), "api", "cpu", 1.0),
            sample(edge + secs(240), "api", "cpu", 2.0),
        ])
        .await
        .expect("record");
    let policy = Retention::default();
    let report = store.prune_samples(now, &policy).await.expect("prune");
    assert_eq!(
        report,
        PruneReport {
            downsampled: 2,
            deleted: 0
        }
    );
    assert_eq!(
        store.prune_samples(now, &policy).await.expect("again"),
        PruneReport::default()
    );
    assert_eq!(
        all_samples(&store).await,
        vec![sample(edge, "api", "cpu", 1.5)]
    );
}
