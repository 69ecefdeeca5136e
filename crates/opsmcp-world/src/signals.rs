//! What a signal means, from its name alone, whatever exporter wrote it.
//!
//! Real exporters name the same thing many ways: a pool in use is `db_connections_in_use`,
//! `hikaricp_connections_active`, `tomcat_threads_busy_threads`, `executor_active_threads`,
//! pgbouncer's `sv_active` or Redis's `connected_clients`; its limit is `…_max`,
//! `…_config_max_threads`, `…_pool_max`, `maxclients`. A disk is `disk_used_percent`,
//! `filesystem_used_percent` or `inodes_used_percent`. The analysis reasons over the *kind* of
//! signal ([`SignalKind`]), found from the words of its name, so that no rule is bound to one
//! spelling. A name is split into words at `_ . - :` and camel case; unit words (`ms`,
//! `seconds`, `bytes`, `total`) do not decide the kind.

/// The kind of thing a signal measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalKind {
    /// How long requests take (`latency_p99_ms`, `http_server_requests_seconds`).
    Latency,
    /// Failed work: an error rate, errors, timeouts, 5xx.
    Errors,
    /// Work done per second (`request_rate`, `rps`, `throughput`).
    Throughput,
    /// Units of a bounded pool in use: connections, threads, workers, clients, slots.
    PoolUsage,
    /// Work waiting for a pool unit (`hikaricp_connections_pending`, pgbouncer `cl_waiting`).
    PoolWaiting,
    /// A configured bound of another signal (`…_max`, `…_limit`, `…_capacity`, `maxclients`).
    Limit,
    /// A backlog: queue depth, consumer lag, unacked messages.
    Backlog,
    /// Space or inodes used on a disk, filesystem or volume.
    Disk,
    /// Memory used: heap, RSS, memory percent.
    Memory,
    /// Time spent in garbage collection: memory pressure as the runtime feels it.
    GcPause,
    /// CPU used.
    Cpu,
    /// Other I/O pressure: disk I/O, iowait, locks held or waited for.
    Io,
    /// The share of cache lookups that hit.
    CacheHit,
    /// Keys evicted from a cache.
    Evictions,
    /// Time left before a certificate expires.
    CertExpiry,
    /// Restarts, crashes, OOM kills: a counter that rises when a process dies.
    Restarts,
    /// Trouble beneath the service, in what it runs on: packets retransmitted or dropped on
    /// the network, a path's largest packet (MTU) cut, CPU stolen by the hypervisor, a clock
    /// drifting from true time.
    Platform,
    /// Whether it is there at all: Prometheus' `up`, a probe's `probe_up`, the processes of a
    /// service running (`processes_up`); it falls to 0 when the service is down.
    Availability,
    /// Anything else: judged by its own ratio to normal.
    Other,
}

/// The words of a signal name, lowercase.
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            // camelCase boundary
            if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            cur.push(c.to_ascii_lowercase());
        } else {
            prev_lower = false;
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn has(w: &[String], any: &[&str]) -> bool {
    w.iter().any(|x| any.contains(&x.as_str()))
}

/// Words naming what a bounded pool is made of.
const POOL_NOUNS: &[&str] = &[
    "connections",
    "connection",
    "conns",
    "conn",
    "cx",
    "threads",
    "thread",
    // Go's units of concurrency (`go_goroutines`): a pool without a configured bound.
    "goroutines",
    "goroutine",
    "workers",
    "worker",
    "pool",
    "executor",
    "clients",
    "client",
    "slots",
    "sessions",
    "handlers",
    "permits",
    "backends",
    // pgbouncer's client and server connection columns (`cl_waiting`, `sv_active`)
    "cl",
    "sv",
];
/// Words saying a pool unit is taken.
const IN_USE: &[&str] = &[
    "use",
    "active",
    "busy",
    "used",
    "acquired",
    "checked",
    // SQLAlchemy's `QueuePool.checkedout()`, as its exporters name it (`…_pool_checkedout`).
    "checkedout",
    // OpenTelemetry's `db.client.connections.usage` (with `state="used"`): units taken.
    "usage",
    "leased",
    "borrowed",
    "connected",
    "inuse",
    "occupied",
    // Threads executing now, not merely connected (`mysql_global_status_threads_running`).
    "running",
];
/// Words saying work waits for a unit.
const WAITING: &[&str] = &[
    "pending", "waiting", "queued", "blocked", "wait",
    // The time it takes to get a unit (Hikari's `connections_acquire_seconds`) is time waited.
    "acquire",
];
/// Words saying the value is a bound, not a reading.
const LIMIT: &[&str] = &["max", "maximum", "limit", "capacity", "cap", "allowed"];

/// Words of a certificate.
const CERT: &[&str] = &["cert", "certificate", "ssl", "tls", "x509"];

/// Whether a certificate signal is a flag that is 1 once it has expired
/// (x509-certificate-exporter's `x509_cert_expired`), not the time it has left.
pub fn is_expired_flag(name: &str) -> bool {
    let w = words(name);
    has(&w, CERT) && has(&w, &["expired"])
}

/// A `max` beside a unit of time is the longest of what was observed (Micrometer's
/// `http_server_requests_seconds_max`, `go_gc_duration_seconds_max`), not a configured bound.
fn statistic_max(w: &[String]) -> bool {
    has(w, &["max"])
        && !has(w, &["maximum", "limit", "capacity", "cap", "allowed"])
        && has(
            w,
            &[
                "seconds",
                "second",
                "ms",
                "milliseconds",
                "duration",
                "latency",
            ],
        )
}

/// Words of a queue.
const QUEUE: &[&str] = &["queue", "queued", "q", "qlen", "avgqu"];

/// Words of a storage device.
const DEVICE: &[&str] = &[
    "device", "devices", "disk", "disks", "nvme", "ssd", "blkio", "volume",
];

/// Words saying work met a limit and was turned away.
const AT_LIMIT: &[&str] = &[
    "over",
    "exceeded",
    "exceeding",
    "exceeds",
    "breached",
    "throttled",
];

/// Words of work that failed.
const FAILURE: &[&str] = &[
    "error", "errors", "err", "failure", "failures", "failed", "fail", "timeout", "timeouts",
    "refused", "rejected",
    // DNS answers that mean "no": the name does not exist, the server failed.
    "nxdomain", "servfail",
];

/// Words of trouble beneath a service: the network losing packets, the hypervisor stealing
/// CPU, the clock off true time (`tcp_retransmits_per_s`, `node_netstat_Tcp_RetransSegs`,
/// `cpu_steal_percent`, `node_timex_offset_seconds`, `packets_dropped_total`).
fn beneath(w: &[String]) -> bool {
    let retransmits = w.iter().any(|x| x.starts_with("retrans"));
    let steal = has(w, &["steal", "stolen"]);
    let clock = has(w, &["clock", "ntp", "timex", "chrony", "time"])
        && has(w, &["offset", "skew", "drift", "drifting"])
        || has(w, &["skew"]);
    let packets = has(w, &["packet", "packets", "pkts", "segments", "segs"])
        && has(
            w,
            &[
                "drop",
                "drops",
                "dropped",
                "loss",
                "lost",
                "discards",
                "discarded",
            ],
        );
    // The largest packet a path or an interface carries: a tunnel or a failover lowers it,
    // and what no longer fits is dropped on the way.
    let mtu = has(w, &["mtu", "pmtu"]);
    retransmits || steal || clock || packets || mtu
}

/// Whether an I/O signal is of the storage itself — a disk's or a volume's queue, time or
/// operations, fsyncs, I/O wait — rather than locks or transactions held open.
pub fn is_storage_io(name: &str) -> bool {
    let w = words(name);
    kind(name) == SignalKind::Io
        && has(
            &w,
            &[
                "disk", "disks", "volume", "ebs", "device", "blkio", "iowait", "fsync", "iops",
                "io",
            ],
        )
        && !has(
            &w,
            &["lock", "locks", "deadlocks", "transaction", "transactions"],
        )
        && !held_open(&w)
}

/// Words of an allowance the platform grants and takes back (a volume's burst credits, a
/// quota's tokens): how much is left of it is no measure of how full anything is.
const ALLOWANCE: &[&str] = &["credit", "credits", "balance", "burst", "tokens", "quota"];

/// Words of a transaction or query kept open a long time.
fn held_open(w: &[String]) -> bool {
    let work = has(
        w,
        &[
            "transaction",
            "transactions",
            "tx",
            "txn",
            "xact",
            "query",
            "queries",
            "statement",
            "statements",
        ],
    );
    let held = has(w, &["oldest", "longest", "running", "open", "idle"])
        || has(w, &["max"]) && has(w, &["duration", "seconds", "age", "time"]);
    work && held
}

/// The kind of `name`.
pub fn kind(name: &str) -> SignalKind {
    let w = words(name);
    let first_max = w
        .iter()
        .any(|x| x.len() > 3 && x.starts_with("max") && !x.starts_with("maxim"));
    if has(&w, CERT)
        && (has(
            &w,
            &[
                "days",
                "expiry",
                "expiration",
                "expires",
                "left",
                "remaining",
                "until",
            ],
        ) || is_expired_flag(name))
    {
        return SignalKind::CertExpiry;
    }
    // A pool's configured size (`pool_size`, pgbouncer's `default_pool_size`) or a leading
    // `total` (`total_slots`) is its bound; a trailing `total` is a Prometheus counter.
    let sized_pool = has(&w, POOL_NOUNS)
        && !has(&w, IN_USE)
        && !has(&w, WAITING)
        && (has(&w, &["size"]) || w.first().is_some_and(|x| x == "total"));
    if w.last().is_some_and(|x| x == "up") || has(&w, &["reachable", "alive", "availability"]) {
        return SignalKind::Availability;
    }
    // Work held open long: the oldest transaction, the longest-running query
    // (`pg_stat_activity_max_tx_duration`, `mysql_longest_running_query_seconds`). The locks
    // and snapshots it holds are pressure on everything else; its `max` is over sessions,
    // not a bound.
    if held_open(&w) {
        return SignalKind::Io;
    }
    // Work counted as it meets a limit (`ratelimit_over_limit_per_s`,
    // `quota_exceeded_total`) is refused work, not the bound; work near one is its own reading.
    if (has(&w, LIMIT) || has(&w, &["quota", "quotas"])) && has(&w, AT_LIMIT) {
        return SignalKind::Errors;
    }
    // Failures counted by the limit they met (MySQL's `connection_errors_max_connections`):
    // a word of failure before the limit's. After it (`max_connect_errors`) it is a bound on
    // failures; a timeout is also a setting (`client_timeout_limit_ms`).
    let failure = w
        .iter()
        .position(|x| FAILURE.contains(&x.as_str()) && !x.starts_with("timeout"));
    let limit = w.iter().position(|x| LIMIT.contains(&x.as_str()));
    if failure.zip(limit).is_some_and(|(f, l)| f < l) {
        return SignalKind::Errors;
    }
    if has(&w, LIMIT) && has(&w, &["near", "nearing", "approaching"]) {
        return SignalKind::Other;
    }
    if has(&w, LIMIT) && !statistic_max(&w) || first_max || sized_pool {
        return SignalKind::Limit;
    }
    if beneath(&w) {
        return SignalKind::Platform;
    }
    if has(&w, &["hit", "hits"]) && has(&w, &["ratio", "rate", "percent", "pct"])
        || has(&w, &["hitrate", "hitratio"])
    {
        return SignalKind::CacheHit;
    }
    if has(&w, &["evicted", "evictions", "eviction"]) {
        return SignalKind::Evictions;
    }
    if has(
        &w,
        &[
            "restart", "restarts", "crashes", "crash", "oom", "killed", "kills",
        ],
    ) {
        return SignalKind::Restarts;
    }
    if has(&w, &["gc"]) || (has(&w, &["pause", "pauses"]) && !has(&w, POOL_NOUNS)) {
        return SignalKind::GcPause;
    }
    // Work that succeeded, as a share: what it is missing failed.
    if is_success_share(name) {
        return SignalKind::Errors;
    }
    // HTTP statuses that are failures: `5xx`, `http_503`, `http_401_per_s`.
    let status = w.iter().any(|x| {
        x.len() == 3
            && (x.starts_with('4') || x.starts_with('5'))
            && (x[1..].bytes().all(|b| b.is_ascii_digit()) || &x[1..] == "xx")
    });
    if status || is_throttled(name) || is_retry(name) || has(&w, FAILURE) {
        return SignalKind::Errors;
    }
    // A device's queue (`aerospike_namespace_device_write_q`, iostat's `avgqu_sz` as
    // `disk_avgqu_sz`): requests waiting on the storage, which is I/O pressure, not a backlog of
    // work.
    if has(&w, QUEUE) && has(&w, DEVICE) {
        return SignalKind::Io;
    }
    if (has(&w, QUEUE) || has(&w, BEHIND) || has(&w, &["backlog", "depth", "unacked", "ready"]))
        && !has(&w, POOL_NOUNS)
    {
        return SignalKind::Backlog;
    }
    // Threads counted by state (the JVM's `jvm_threads_states_threads{state="blocked"}`): a
    // BLOCKED thread waits for a lock another thread holds, not for a unit of a pool.
    if has(&w, &["thread", "threads"]) && has(&w, &["blocked"]) {
        return SignalKind::Io;
    }
    if has(&w, POOL_NOUNS) && has(&w, WAITING) {
        return SignalKind::PoolWaiting;
    }
    if has(
        &w,
        &[
            "inodes",
            "inode",
            "filesystem",
            "fs",
            "disk",
            "volume",
            "storage",
            "pvc",
        ],
    ) && !has(
        &w,
        &["io", "iops", "read", "write", "reads", "writes", "latency"],
    ) && !has(&w, ALLOWANCE)
    {
        return SignalKind::Disk;
    }
    if has(
        &w,
        &[
            "latency", "lat", "duration", "response", "rtt", "p50", "p90", "p95", "p99", "p999",
        ],
    ) || statistic_max(&w)
    {
        return SignalKind::Latency;
    }
    if has(&w, &["memory", "mem", "heap", "rss", "resident"]) {
        return SignalKind::Memory;
    }
    // A load average is the run queue: CPU pressure, in runnable tasks.
    if has(&w, &["cpu", "cpus", "load", "load1", "load5", "load15"]) {
        return SignalKind::Cpu;
    }
    // iostat's `await` is the time a device request takes (`node_disk_read_await_ms`).
    if has(
        &w,
        &[
            "iowait",
            "io",
            "iops",
            "await",
            "locks",
            "lock",
            "deadlocks",
        ],
    ) {
        return SignalKind::Io;
    }
    // How many there are now, as a gauge or a statistic of one (CloudWatch's
    // `DatabaseConnections` exported as `…_database_connections_average`), is how many are
    // in use; a trailing `total` is a counter of those ever opened.
    let gauge = has(
        &w,
        &[
            "average",
            "avg",
            "mean",
            "current",
            "gauge",
            "established",
            "open",
            "count",
        ],
    ) && w.last().is_none_or(|x| x != "total");
    if has(&w, POOL_NOUNS) && (has(&w, IN_USE) || w.len() <= 2 || gauge) {
        return SignalKind::PoolUsage;
    }
    // A database's sessions (PostgreSQL's `pg_stat_activity_count`, `numbackends`): the
    // connections it is serving.
    // A trailing `total` is a counter of them, not how many there are now.
    let counter = w.last().is_some_and(|x| x == "total");
    if !counter
        && (has(&w, &["backends", "numbackends", "sessions"])
            || (has(&w, &["stat"]) && has(&w, &["activity"])))
    {
        return SignalKind::PoolUsage;
    }
    // Rows a database reads or examines (`mysql_global_status_innodb_rows_read`,
    // `pg_stat_database_tup_fetched`): the work its queries make it do, which a query that
    // scans raises without a single request more.
    if has(&w, &["rows", "row", "tup", "tuples"])
        && has(&w, &["read", "examined", "fetched", "returned", "scanned"])
    {
        return SignalKind::Throughput;
    }
    if has(
        &w,
        &[
            "request",
            "requests",
            "rps",
            "qps",
            "throughput",
            "rq",
            "rate",
            "ops",
            "messages",
        ],
    ) {
        return SignalKind::Throughput;
    }
    SignalKind::Other
}

/// The words that name *what* is measured: the name without role, unit and limit words, so
/// that `tomcat_threads_busy_threads` and `tomcat_threads_config_max_threads` share
/// `{tomcat, threads}`.
fn stem(name: &str) -> Vec<String> {
    const ROLE: &[&str] = &[
        "ms",
        "seconds",
        "second",
        "s",
        "bytes",
        "total",
        "count",
        "current",
        "config",
        "configured",
        "percent",
        "pct",
        "ratio",
        "num",
        "number",
        "value",
        "gauge",
        "size",
        "in",
        "of",
    ];
    words(name)
        .into_iter()
        .map(|x| match x.strip_prefix("max") {
            Some(rest) if rest.len() > 2 && !x.starts_with("maxim") => rest.to_string(),
            _ => x,
        })
        .filter(|x| {
            !ROLE.contains(&x.as_str())
                && !IN_USE.contains(&x.as_str())
                && !LIMIT.contains(&x.as_str())
        })
        .collect()
}

/// Among `limits` (signal names of one service), the bound of pool signal `usage`: the limit
/// that shares the most stem words with it (at least one), ties to the shorter name.
/// When none shares a word, a service's one pool-sized limit bounds its one pool signal
/// (pgbouncer's `sv_active` and `pool_size`).
///
/// Beside a count of units in use (`uwsgi_workers_busy`), the same units' `total` with no
/// word of use (`uwsgi_workers_total`) is how many there are — the pool's size — whatever
/// a trailing `total` means elsewhere.
pub fn limit_for<'a>(usage: &str, limits: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let s = stem(usage);
    let (limits, others): (Vec<&str>, Vec<&str>) =
        limits.partition(|l| kind(l) == SignalKind::Limit);
    if let Some(whole) = others.into_iter().find(|l| whole_of(usage, l)) {
        return Some(whole);
    }
    let by_words = limits
        .iter()
        .map(|l| {
            let ls = stem(l);
            let shared = s.iter().filter(|x| ls.contains(x)).count();
            (shared, std::cmp::Reverse(l.len()), *l)
        })
        .filter(|(shared, _, _)| *shared > 0)
        .max()
        .map(|(_, _, l)| l);
    by_words.or_else(|| {
        let pools: Vec<&&str> = limits
            .iter()
            .filter(|l| has(&words(l), POOL_NOUNS))
            .collect();
        match pools.as_slice() {
            [one] if kind(usage) == SignalKind::PoolUsage => Some(**one),
            _ => None,
        }
    })
}

/// Whether `total` counts all the units `usage` counts those in use of (`…_workers_busy` and
/// `…_workers_total`): the same stem, `total` last, and no word of use in it.
fn whole_of(usage: &str, total: &str) -> bool {
    let (u, t) = (words(usage), words(total));
    has(&u, IN_USE)
        && has(&u, POOL_NOUNS)
        && t.last().is_some_and(|x| x == "total")
        && !has(&t, IN_USE)
        && !stem(usage).is_empty()
        && stem(usage) == stem(total)
}

/// Whether `name` is the whole of a pool some other signal of `names` counts the busy part
/// of: a bound, not a reading to judge.
pub fn is_whole_of_a_pool<'a>(name: &str, mut names: impl Iterator<Item = &'a str>) -> bool {
    names.any(|u| u != name && whole_of(u, name))
}

/// Among `limits`, the bound of a signal of any kind whose name is that signal's own with a
/// limit word added (`node_nf_conntrack_entries` and `node_nf_conntrack_entries_limit`,
/// `open_fds` and `max_fds`): a quantity we know nothing else of, except where it stops.
pub fn own_bound<'a>(usage: &str, limits: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let s = stem(usage);
    if s.is_empty() {
        return None;
    }
    limits
        .filter(|l| kind(l) == SignalKind::Limit)
        .find(|l| stem(l) == s)
}

/// Whether a pool's units are what does the work (threads, worker processes, goroutines,
/// tasks) rather than a way to reach something else (connections, clients, sessions): a pool
/// of workers all busy burns CPU, a pool of connections only waits.
pub fn is_worker_pool(name: &str) -> bool {
    let w = words(name);
    has(
        &w,
        &[
            "threads",
            "thread",
            "workers",
            "worker",
            "executor",
            "goroutines",
            "goroutine",
            "handlers",
            "processes",
            "process",
            "procs",
            "tasks",
            "concurrency",
        ],
    ) && !has(
        &w,
        &[
            "connections",
            "connection",
            "conns",
            "conn",
            "cx",
            "clients",
            "client",
            "sessions",
            "backends",
            "cl",
            "sv",
        ],
    )
}

/// A percentage by its name (`…_percent`, `…_pct`, `…_utilization`): bounded by 100.
pub fn is_percent(name: &str) -> bool {
    has(
        &words(name),
        &["percent", "pct", "utilization", "utilisation"],
    )
}

/// A verdict the component gives on itself (`elasticsearch_cluster_health_status_green`,
/// `consul_health_service_status`, `healthy_hosts`): it says the component is unwell, not why.
pub fn is_health_verdict(name: &str) -> bool {
    has(&words(name), &["health", "healthy", "unhealthy", "green"])
}

/// A share of work that succeeded (`attach_success_ratio`, `probe_success_percent`): it falls
/// as work fails, and what is missing from it is an error share.
pub fn is_success_share(name: &str) -> bool {
    let w = words(name);
    has(&w, &["success", "successful", "succeeded"])
        && has(
            &w,
            &["rate", "ratio", "share", "percent", "pct", "fraction"],
        )
        && !has(&w, &["per", "s", "ps"])
}

/// The failing share, as a fraction of one, that an error-share signal's `value` says: the
/// value itself, or what a success share is missing.
pub fn failing_fraction(name: &str, value: f64) -> f64 {
    let whole = if is_percent(name) { 100.0 } else { 1.0 };
    if is_success_share(name) {
        (whole - value) / whole
    } else {
        value / whole
    }
}

/// Whether `name` counts work refused over a limit (`ThrottledRequests`,
/// `write_throttle_events`): a failure, and a store's limit of its own. A cgroup's CPU
/// throttling is CPU pressure, not refused work.
pub fn is_throttled(name: &str) -> bool {
    let w = words(name);
    w.iter().any(|x| x.starts_with("throttl")) && !has(&w, &["cpu", "cfs"])
}

/// Whether `name` counts a cache's misses (`redis_keyspace_misses_rate`, `cache_misses_total`):
/// lookups that found nothing, a share of the lookups it always had. More of them is a cache
/// that stopped hitting, not more work sent to it.
pub fn is_miss(name: &str) -> bool {
    has(&words(name), &["miss", "misses", "missed"])
}

/// Words of how far a reader is behind what was sent to it: a consumer's lag, a replica's
/// delay (`seconds_behind_master`, `replica_behind_source_seconds`).
const BEHIND: &[&str] = &["lag", "behind"];

/// Whether `name` says how far a reader is behind (`kafka_consumergroup_lag`,
/// `seconds_behind_master`): work held where it was sent, in the broker or the primary, not
/// in the reader.
pub fn is_reader_behind(name: &str) -> bool {
    has(&words(name), BEHIND)
}

/// Whether `name` counts calls tried again (`…_retry_per_s`, `retries_total`): a call tried
/// again failed first, so retries are failures as the caller sees them, not work arriving.
pub fn is_retry(name: &str) -> bool {
    has(&words(name), &["retry", "retries", "retried"])
}

/// Whether `name` is a Prometheus counter: a total that only ever climbs (`…_total`,
/// `…_count`), whose value as it stands says nothing of now.
pub fn is_counter(name: &str) -> bool {
    words(name)
        .last()
        .is_some_and(|x| matches!(x.as_str(), "total" | "count" | "counter"))
}

/// An error signal that is a share of requests (`error_rate`, `http_error_ratio`; 0.02 = 2 %),
/// not a count or a per-second rate (`errors_total`, `http_5xx_per_s`).
pub fn is_error_share(name: &str) -> bool {
    let w = words(name);
    kind(name) == SignalKind::Errors
        && w.iter()
            .any(|x| matches!(x.as_str(), "rate" | "ratio" | "share" | "percent" | "pct"))
        && !w.iter().any(|x| matches!(x.as_str(), "per" | "s" | "ps"))
}

#[cfg(test)]
mod tests {
    use super::{SignalKind::*, is_storage_io, kind, limit_for, own_bound};

    #[test]
    fn a_pool_of_workers_does_work_and_one_of_connections_waits() {
        for n in [
            "celery_worker_tasks_active",
            "tomcat_threads_busy_threads",
            "jetty_threads_busy",
            "executor_active_threads",
            "phpfpm_active_processes",
            "go_goroutines",
        ] {
            assert!(super::is_worker_pool(n), "{n}");
        }
        for n in [
            "hikaricp_connections_active",
            "db_connections_in_use",
            "pgbouncer_pools_server_active_connections",
            "redis_connected_clients",
            "pg_stat_activity_count",
        ] {
            assert!(!super::is_worker_pool(n), "{n}");
        }
    }

    #[test]
    fn exporters_names_map_to_one_kind() {
        for (n, k) in [
            ("db_connections_in_use", PoolUsage),
            ("hikaricp_connections_active", PoolUsage),
            ("tomcat_threads_busy_threads", PoolUsage),
            ("jetty_threads_busy", PoolUsage),
            ("executor_active_threads", PoolUsage),
            ("pgbouncer_pools_server_active_connections", PoolUsage),
            ("redis_connected_clients", PoolUsage),
            ("worker_pool_busy", PoolUsage),
            ("go_goroutines", PoolUsage),
            ("pg_stat_activity_count", PoolUsage),
            ("pg_stat_database_numbackends", PoolUsage),
            ("oracledb_sessions_value", PoolUsage),
            ("go_threads", PoolUsage),
            ("uwsgi_workers_total", Other),
            ("hikaricp_connections_pending", PoolWaiting),
            ("cl_waiting", PoolWaiting),
            ("sv_active", PoolUsage),
            ("sqlalchemy_pool_checkedout", PoolUsage),
            ("db_client_connections_usage", PoolUsage),
            ("sqlalchemy_pool_size", Limit),
            ("container_memory_usage_bytes", Memory),
            ("container_cpu_usage_seconds_total", Cpu),
            ("db_connections_max", Limit),
            ("tomcat_threads_config_max_threads", Limit),
            ("redis_maxclients", Limit),
            ("pool_size", Limit),
            ("total_slots", Limit),
            ("busy_slots", PoolUsage),
            ("pg_stat_activity_total", Other),
            ("executor_pool_max_threads", Limit),
            ("disk_used_percent", Disk),
            ("filesystem_used_percent", Disk),
            ("inodes_used_percent", Disk),
            ("node_filesystem_used_percent", Disk),
            ("elasticsearch_filesystem_data_used_percent", Disk),
            ("memory_percent", Memory),
            ("jvm_heap_used_percent", Memory),
            ("container_memory_rss_bytes", Memory),
            ("jvm_gc_pause_ms", GcPause),
            ("cpu_percent", Cpu),
            ("latency_p99_ms", Latency),
            ("http_server_requests_seconds_p99", Latency),
            ("error_rate", Errors),
            ("http_401_per_s", Errors),
            ("upstream_5xx_ratio", Errors),
            ("envoy_cluster_upstream_rq_timeout", Errors),
            ("request_rate", Throughput),
            ("queue_depth", Backlog),
            ("kafka_consumergroup_lag", Backlog),
            ("mysql_slave_status_seconds_behind_master", Backlog),
            ("mysql_global_status_threads_running", PoolUsage),
            ("node_disk_read_await_ms", Io),
            ("cache_hit_ratio", CacheHit),
            ("redis_evicted_keys_per_s", Evictions),
            ("cert_days_left", CertExpiry),
            ("probe_ssl_earliest_cert_expiry_days", CertExpiry),
            ("kube_pod_container_status_restarts_total", Restarts),
            ("coredns_dns_responses_nxdomain_per_s", Errors),
            ("tcp_retransmits_per_s", Platform),
            ("envoy_cluster_upstream_rq_retry_per_s", Errors),
            ("aws_dynamodb_write_throttle_events_sum", Errors),
            ("ThrottledRequests", Errors),
            ("container_cpu_cfs_throttled_seconds_total", Cpu),
            ("grpc_client_retries_total", Errors),
            ("node_netstat_Tcp_RetransSegs", Platform),
            ("aws_rds_database_connections_average", PoolUsage),
            ("volume_burst_credits_percent", Other),
            ("mysql_global_status_threads_connected", PoolUsage),
            ("net_conntrack_dialer_conn_established_total", Other),
            ("node_network_mtu_bytes", Platform),
            ("cpu_steal_percent", Platform),
            ("node_timex_offset_seconds", Platform),
            ("chrony_clock_skew_ms", Platform),
            ("node_network_receive_packets_dropped_total", Platform),
            ("conntrack_entries_max", Limit),
            ("node_nf_conntrack_entries", Other),
            ("pg_stat_activity_max_tx_duration", Io),
            ("oldest_transaction_seconds", Io),
            ("mysql_longest_running_query_seconds", Io),
            ("long_running_queries", Io),
            ("query_duration_seconds_p99", Latency),
            ("node_network_transmit_bytes", Other),
            ("ratelimit_service_rate_limit_over_limit_per_s", Errors),
            ("envoy_cluster_ratelimit_over_limit", Errors),
            ("api_quota_exceeded_total", Errors),
            // Failures counted by the limit they met; a bound on failures is a bound.
            (
                "mysql_global_status_connection_errors_max_connections",
                Errors,
            ),
            ("mysql_global_variables_max_connect_errors", Limit),
            ("mysql_global_variables_max_connections", Limit),
            ("grpc_client_timeout_limit_ms", Limit),
            ("ratelimit_service_rate_limit_near_limit_per_s", Other),
            ("attach_success_ratio", Errors),
            ("probe_http_success_percent", Errors),
            ("jobs_succeeded_per_s", Other),
            ("x509_cert_expired", CertExpiry),
            ("hikaricp_connections_acquire_seconds_max", PoolWaiting),
            ("radosgw_op_get_lat_seconds", Latency),
            ("tomcat_global_request_max_seconds", Latency),
            ("jvm_gc_pause_seconds_max", GcPause),
            ("go_gc_duration_seconds_max", GcPause),
            ("http_server_requests_seconds_max", Latency),
            ("aerospike_namespace_device_write_q", Io),
            ("aerospike_namespace_device_defrag_q", Io),
            ("node_disk_avgqu_sz", Io),
            ("rabbitmq_queue_messages_ready", Backlog),
            ("tomcat_connections_queued", PoolWaiting),
            ("jvm_threads_states_threads_blocked", Io),
            ("redis_blocked_clients", PoolWaiting),
            ("mysql_global_status_innodb_rows_read_per_s", Throughput),
            ("pg_stat_database_tup_fetched", Throughput),
        ] {
            assert_eq!(kind(n), k, "{n}");
        }
    }

    #[test]
    fn any_quantity_finds_a_limit_named_after_it() {
        let limits = ["node_nf_conntrack_entries_limit", "process_max_fds"];
        assert_eq!(
            own_bound("node_nf_conntrack_entries", limits.iter().copied()),
            Some("node_nf_conntrack_entries_limit")
        );
        assert_eq!(
            own_bound("process_open_fds", limits.iter().copied()),
            None,
            "open is not max: only the same words bound"
        );
        assert_eq!(
            own_bound("node_nf_conntrack_stat_drop", limits.iter().copied()),
            None
        );
    }

    #[test]
    fn a_pool_finds_its_own_limit() {
        let limits = [
            "db_connections_max",
            "tomcat_threads_config_max_threads",
            "executor_pool_max_threads",
            "redis_maxclients",
        ];
        let l = |u| limit_for(u, limits.iter().copied());
        assert_eq!(l("db_connections_in_use"), Some("db_connections_max"));
        assert_eq!(
            l("tomcat_threads_busy_threads"),
            Some("tomcat_threads_config_max_threads")
        );
        assert_eq!(
            l("executor_active_threads"),
            Some("executor_pool_max_threads")
        );
        assert_eq!(l("redis_connected_clients"), Some("redis_maxclients"));
        assert_eq!(l("cpu_percent"), None);
        assert_eq!(
            limit_for(
                "sqlalchemy_pool_checkedout",
                ["sqlalchemy_pool_size"].into_iter()
            ),
            Some("sqlalchemy_pool_size")
        );
        assert_eq!(
            limit_for("sv_active", ["pool_size"].into_iter()),
            Some("pool_size")
        );
        // The whole beside the busy part is its size; a counter of another stem is not.
        assert_eq!(
            limit_for(
                "uwsgi_workers_busy",
                ["uwsgi_workers_total", "uwsgi_requests_total"].into_iter()
            ),
            Some("uwsgi_workers_total")
        );
        assert_eq!(
            limit_for(
                "haproxy_backend_current_sessions",
                ["haproxy_backend_sessions_total"].into_iter()
            ),
            None
        );
    }

    #[test]
    fn storage_io_is_the_disk_waiting_not_locks_or_open_transactions() {
        assert!(is_storage_io("node_disk_io_time_weighted_seconds"));
        assert!(is_storage_io("container_blkio_device_usage_iowait"));
        assert!(!is_storage_io("mysql_global_status_innodb_row_lock_waits"));
        assert!(!is_storage_io("pg_stat_activity_max_tx_duration"));
        assert!(!is_storage_io("cpu_percent"));
    }
}
