//! Metamorphic tests: the same incident told another way must get the same answer.
//!
//! Every built-in scenario and every fixture of `what_travels.rs` is transformed — every service renamed, signals renamed to other
//! real exporters' names for the same thing, actions renamed to operators' synonyms with a
//! description, traffic and latency magnitudes scaled ±30 %, an innocent deploy and a noisy
//! innocent service added, the file's order reversed — and the analysis must reach the same
//! conclusion (kind of cause, the renamed component, the renamed action, and whether it is
//! sure enough to act) as on the original. No rule may depend on how a scenario happens to
//! be written.

use std::{collections::BTreeMap, sync::Arc};

use jiff::{SignedDuration, Timestamp};
use opsmcp_analysis::{
    Window,
    rca::{self, CONFIDENCE_FLOOR, RcaRequest},
};
use opsmcp_world::{
    World,
    health::Thresholds,
    sim::{Scenario, SimWorld, SimulatedWorld, builtin},
};
use serde_json::Value;

/// What the analysis concluded, in the original scenario's names.
#[derive(Debug, PartialEq)]
struct Answer {
    kind: String,
    component: String,
    action: Option<String>,
    sure: bool,
}

async fn answer(scenario: Scenario, back: &Names) -> Answer {
    let now: Timestamp = "2026-11-26T04:00:00Z".parse().unwrap();
    let world: Arc<dyn World> = Arc::new(SimulatedWorld::new(
        SimWorld::new(scenario, 1, now),
        Thresholds::default(),
    ));
    let request = RcaRequest {
        window: Window::ending(now, SignedDuration::from_mins(30)),
        symptoms: Vec::new(),
    };
    let report = rca::analyze(world.as_ref(), &request).await.unwrap();
    let h = report.hypotheses.first().expect("a hypothesis");
    let name = |n: &str| {
        back.services
            .get(n)
            .cloned()
            .unwrap_or_else(|| n.to_string())
    };
    Answer {
        kind: h.root_cause.as_str().to_string(),
        component: name(&h.component),
        action: h.suggested_action.as_ref().map(|a| {
            let action = back
                .actions
                .get(&a.action)
                .cloned()
                .unwrap_or_else(|| a.action.clone());
            format!("{action}@{}", name(&a.target))
        }),
        sure: h.confidence >= CONFIDENCE_FLOOR,
    }
}

/// New name → original name.
#[derive(Default)]
struct Names {
    services: BTreeMap<String, String>,
    actions: BTreeMap<String, String>,
}

fn to_json(s: &Scenario) -> Value {
    serde_json::to_value(s).unwrap()
}

fn from_json(mut v: Value) -> Scenario {
    // TOML has no null: an absent optional field is left out.
    fn strip(v: &mut Value) {
        match v {
            Value::Object(o) => {
                o.retain(|_, x| !x.is_null());
                o.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    let text = toml::to_string(&v).unwrap();
    Scenario::parse(&text, "metamorphic").unwrap()
}

/// Replaces `from` with `to` where it stands as a whole name (not inside a longer one).
fn replace_name(text: &str, from: &str, to: &str) -> String {
    let ok =
        |c: Option<char>| c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(from) {
        let before = out.chars().last().or_else(|| rest[..i].chars().last());
        let before = if i > 0 {
            rest[..i].chars().last()
        } else {
            before
        };
        let after = rest[i + from.len()..].chars().next();
        out.push_str(&rest[..i]);
        out.push_str(if ok(before) && ok(after) { to } else { from });
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

fn walk_strings(v: &mut Value, f: &dyn Fn(&str) -> String) {
    match v {
        Value::String(s) => *s = f(s),
        Value::Array(a) => a.iter_mut().for_each(|x| walk_strings(x, f)),
        Value::Object(o) => o.values_mut().for_each(|x| walk_strings(x, f)),
        _ => {}
    }
}

fn walk_keys(v: &mut Value, f: &dyn Fn(&str) -> String) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(|x| walk_keys(x, f)),
        Value::Object(o) => {
            let old = std::mem::take(o);
            for (k, mut x) in old {
                walk_keys(&mut x, f);
                o.insert(f(&k), x);
            }
        }
        _ => {}
    }
}

/// Every service gets a name of another world.
fn rename_services(s: &Scenario, names: &mut Names) -> Scenario {
    const OTHER: [&str; 12] = [
        "atlas-gateway",
        "borealis",
        "cygnus-store",
        "draco-workers",
        "eridanus",
        "fornax-index",
        "gemini-ledger",
        "hydra-cache",
        "indus-queue",
        "lyra-edge",
        "mensa-db",
        "norma",
    ];
    let mut map: Vec<(String, String)> = s
        .services
        .iter()
        .zip(OTHER)
        .map(|(svc, new)| (svc.name.clone(), new.to_string()))
        .collect();
    // Longest first, so `orders` never replaces the start of `orders-db`.
    map.sort_by_key(|(old, _)| std::cmp::Reverse(old.len()));
    for (old, new) in &map {
        names.services.insert(new.clone(), old.clone());
    }
    let mut v = to_json(s);
    // Kinds are a vocabulary, not names: a service called `api` keeps `kind = "api"`.
    let kinds: Vec<(String, Value)> = ["/services", "/events"]
        .iter()
        .flat_map(|list| {
            v.pointer(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .map(move |(i, item)| (format!("{list}/{i}/kind"), item["kind"].clone()))
        })
        .collect();
    walk_strings(&mut v, &|text| {
        // Placeholders first, then names: mark, then swap, so a new name is never renamed.
        let mut t = text.to_string();
        for (i, (old, _)) in map.iter().enumerate() {
            t = replace_name(&t, old, &format!("\u{1}{i}\u{1}"));
        }
        for (i, (_, new)) in map.iter().enumerate() {
            t = t.replace(&format!("\u{1}{i}\u{1}"), new);
        }
        t
    });
    for (at, kind) in kinds {
        if let Some(k) = v.pointer_mut(&at) {
            *k = kind;
        }
    }
    from_json(v)
}

/// Signals as other exporters name the same things.
fn rename_signals(s: &Scenario) -> Scenario {
    let map: BTreeMap<&str, &str> = [
        ("db_connections_in_use", "hikaricp_connections_active"),
        ("db_connections_max", "hikaricp_connections_max"),
        ("latency_p99_ms", "http_server_duration_p99_ms"),
        ("latency_p50_ms", "http_server_duration_p50_ms"),
        ("error_rate", "http_error_ratio"),
        ("request_rate", "http_requests_per_second"),
        ("cpu_percent", "container_cpu_utilization_percent"),
        ("memory_percent", "jvm_heap_used_percent"),
        ("disk_used_percent", "filesystem_used_percent"),
        ("cache_hit_ratio", "redis_keyspace_hit_ratio"),
        ("cert_days_left", "ssl_cert_days_remaining"),
        ("queue_depth", "consumer_lag_messages"),
        // The fixtures' quantities, as other exporters name them.
        (
            "oldest_transaction_seconds",
            "pg_stat_activity_max_tx_duration",
        ),
        ("flow_table_entries", "node_nf_conntrack_entries"),
        (
            "flow_table_entries_limit",
            "node_nf_conntrack_entries_limit",
        ),
        ("log_segments_size_bytes", "pg_wal_size_bytes"),
        (
            "capture_position_held_bytes",
            "capture_position_retained_bytes",
        ),
        ("cached_items", "memcached_current_items"),
        ("uptime_seconds", "redis_uptime_in_seconds"),
        ("hit_ratio", "keyspace_hit_ratio"),
        ("mem_used_percent", "redis_memory_used_percent"),
        ("evicted_keys_per_s", "redis_evicted_keys_per_s"),
        ("node_filesystem_used_ratio", "kubelet_volume_used_fraction"),
        (
            "upstream_retry_per_s",
            "envoy_cluster_upstream_rq_retry_per_s",
        ),
        // node_exporter counts a filesystem's inodes as its files.
        (
            "scratch_inodes_used_percent",
            "node_filesystem_files_used_percent",
        ),
        ("cluster_health_green", "cluster_healthy"),
        ("rate_limit_over_limit_per_s", "quota_exceeded_per_s"),
        ("index_merges_running", "index_compactions_running"),
        (
            "origin_tls_cert_days_left",
            "probe_ssl_earliest_cert_expiry_days",
        ),
        ("edge_cache_hit_ratio", "cdn_cache_hit_rate"),
        (
            "card_authorization_success_ratio",
            "payment_auth_success_ratio",
        ),
        // Round 13's fixtures: the same quantities under another exporter's name.
        ("ssl_client_cert_expired", "x509_cert_expired"),
        ("nvme_device_write_q", "disk_write_queue_length"),
        ("nvme_device_read_q", "disk_read_queue_length"),
        (
            "pg_stat_database_tup_returned_per_s",
            "mysql_global_status_innodb_rows_read_per_s",
        ),
        (
            "opensearch_fs_data_used_percent",
            "elasticsearch_filesystem_data_used_percent",
        ),
        (
            "jvm_gc_collection_seconds_max",
            "go_gc_duration_seconds_max",
        ),
        ("oom_kills_total", "container_oom_events_total"),
        (
            "process_resident_memory_bytes",
            "container_memory_working_set_bytes",
        ),
        ("executor_threads_busy", "tomcat_threads_busy_threads"),
        ("executor_threads_max", "tomcat_threads_config_max_threads"),
        ("consumer_lag_messages", "kafka_consumergroup_lag"),
        (
            "pooler_server_connections_active",
            "pgbouncer_pools_server_active_connections",
        ),
        ("pooler_pool_size", "pgbouncer_databases_pool_size"),
        ("sessions_running", "mysql_global_status_threads_running"),
        ("processes_running", "node_procs_running"),
        ("replication_lag_seconds", "pg_replication_lag_seconds"),
        (
            "pooler_clients_waiting",
            "pgbouncer_pools_client_waiting_connections",
        ),
    ]
    .into_iter()
    .collect();
    let mut v = to_json(s);
    for path in ["/services", "/red_herrings"] {
        if let Some(list) = v.pointer_mut(path).and_then(Value::as_array_mut) {
            for item in list {
                for field in ["baseline", "effects"] {
                    if let Some(m) = item.get_mut(field) {
                        walk_keys(m, &|k| map.get(k).map_or(k.to_string(), |n| n.to_string()));
                    }
                }
            }
        }
    }
    if let Some(m) = v.pointer_mut("/fault/effects") {
        walk_keys(m, &|k| map.get(k).map_or(k.to_string(), |n| n.to_string()));
    }
    from_json(v)
}

/// Actions as operators name and describe them.
fn rename_actions(s: &Scenario, names: &mut Names) -> Scenario {
    let map: BTreeMap<&str, (&str, &str)> = [
        (
            "increase-pool-size",
            (
                "bump-connection-limit",
                "Raise the maximum number of connections the pool allows",
            ),
        ),
        (
            "rollback",
            (
                "pin-previous-release",
                "Redeploy the previous known-good release",
            ),
        ),
        (
            "restart",
            ("bounce-pods", "Restart every instance of the service"),
        ),
        (
            "clear-disk",
            (
                "purge-old-segments",
                "Delete old log segments past retention to free disk space",
            ),
        ),
        (
            "failover",
            (
                "switch-to-secondary",
                "Route traffic to the secondary provider region",
            ),
        ),
        (
            "renew-certificate",
            (
                "reissue-tls-cert",
                "Issue a new TLS certificate and reload it",
            ),
        ),
        (
            "disable-job",
            (
                "unschedule-batch",
                "Stop the batch job and take it off the schedule",
            ),
        ),
        (
            "warm-cache",
            ("prewarm-hot-keys", "Load the hot keys back into the cache"),
        ),
        (
            "scale",
            ("add-replicas", "Add instances behind the load balancer"),
        ),
        (
            "flush-cache",
            ("empty-cache", "Drop every key from the cache"),
        ),
    ]
    .into_iter()
    .collect();
    let mut s = s.clone();
    for a in &mut s.actions {
        if let Some((new, description)) = map.get(a.name.as_str()) {
            names.actions.insert(new.to_string(), a.name.clone());
            a.name = new.to_string();
            a.description = description.to_string();
        }
    }
    for r in &mut s.truth.remediation {
        let (name, target) = match r.split_once('@') {
            Some((n, t)) => (n.to_string(), Some(t.to_string())),
            None => (r.clone(), None),
        };
        if let Some((new, _)) = map.get(name.as_str()) {
            *r = match target {
                Some(t) => format!("{new}@{t}"),
                None => new.to_string(),
            };
        }
    }
    s
}

/// Traffic, latency and pool sizes scaled by `factor` (percentages, fractions and days are
/// units, not magnitudes, and stay).
fn rescale(s: &Scenario, factor: f64) -> Scenario {
    let scalable = |signal: &str| {
        !signal.ends_with("_percent")
            && !signal.ends_with("_ratio")
            && !signal.ends_with("_fraction")
            && signal != "error_rate"
            && signal != "cert_days_left"
    };
    let mut s = s.clone();
    for svc in &mut s.services {
        for (k, v) in svc.baseline.iter_mut() {
            if scalable(k) {
                *v *= factor;
            }
        }
    }
    for (k, e) in s.fault.effects.iter_mut() {
        if scalable(k)
            && let Some(to) = e.to.as_mut()
        {
            *to *= factor;
        }
    }
    s
}

/// An innocent deploy near the onset and a noisy innocent service nobody calls.
fn add_noise(s: &Scenario) -> Scenario {
    let mut v = to_json(s);
    let onset = s.fault.onset_minutes_ago;
    let quiet = s
        .services
        .iter()
        .find(|x| x.name != s.fault.component && !s.fault.component.is_empty())
        .map(|x| x.name.clone())
        .unwrap();
    v["events"].as_array_mut().unwrap().push(serde_json::json!({
        "kind": "deploy", "service": quiet, "minutes_ago": onset + 3.0,
        "detail": "routine release 1.4.2 -> 1.4.3 (dependency bumps)"
    }));
    v["services"].as_array_mut().unwrap().push(serde_json::json!({
        "name": "zz-batch-reports", "kind": "worker", "log_format": "logfmt",
        "baseline": { "request_rate": 5.0, "latency_p50_ms": 900.0, "latency_p99_ms": 4000.0,
                      "error_rate": 0.02, "cpu_percent": 30.0, "memory_percent": 40.0 },
        "noise": 0.25,
        "logs": [
            { "level": "warn", "per_minute": 40.0,
              "message": "report {id} slow: {ms} ms, retrying",
              "params": { "id": { "min": 1, "max": 9999 }, "ms": { "min": 1000, "max": 9000 } } },
            { "level": "info", "per_minute": 60.0, "message": "report {id} done", "params": { "id": { "min": 1, "max": 9999 } } }
        ]
    }));
    from_json(v)
}

/// The file's lists in reverse order.
fn reorder(s: &Scenario) -> Scenario {
    let mut s = s.clone();
    s.services.reverse();
    s.actions.reverse();
    s.events.reverse();
    s.red_herrings.reverse();
    s
}

#[tokio::test]
async fn the_answer_does_not_depend_on_how_the_incident_is_told() {
    let mut failures = Vec::new();
    // The built-in scenarios, and the small incidents of `what_travels.rs`.
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut fixtures: Vec<Scenario> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            Scenario::parse(&text, &p.display().to_string()).unwrap()
        })
        .collect();
    fixtures.sort_by(|a, b| a.name.cmp(&b.name));
    for original in builtin::all().unwrap().into_iter().chain(fixtures) {
        // `METAMORPHIC_ONLY=part-of-a-name` replays only the scenarios so named, to study one.
        if std::env::var("METAMORPHIC_ONLY").is_ok_and(|only| !original.name.contains(&only)) {
            continue;
        }
        let want = answer(original.clone(), &Names::default()).await;
        let mut cases: Vec<(&str, Scenario, Names)> = Vec::new();
        let mut names = Names::default();
        cases.push((
            "services renamed",
            rename_services(&original, &mut names),
            names,
        ));
        cases.push((
            "signals renamed",
            rename_signals(&original),
            Names::default(),
        ));
        let mut names = Names::default();
        cases.push((
            "actions renamed",
            rename_actions(&original, &mut names),
            names,
        ));
        cases.push(("scaled ×1.3", rescale(&original, 1.3), Names::default()));
        cases.push(("scaled ×0.7", rescale(&original, 0.7), Names::default()));
        cases.push(("noise added", add_noise(&original), Names::default()));
        cases.push(("reordered", reorder(&original), Names::default()));
        let mut names = Names::default();
        let all = reorder(&add_noise(&rescale(
            &rename_actions(
                &rename_signals(&rename_services(&original, &mut names)),
                &mut names,
            ),
            1.3,
        )));
        cases.push(("all at once", all, names));
        for (what, scenario, names) in cases {
            let got = answer(scenario, &names).await;
            // Not sure either way is the same answer, "unknown", whatever ranks first.
            if got != want && (got.sure || want.sure) {
                failures.push(format!(
                    "{} — {what}: got {got:?}, want {want:?}",
                    original.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
