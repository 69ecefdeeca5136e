//! Each service's signals on this machine, read at one moment: its probes (up, latency, how
//! they failed, certificate days left), its processes (running, CPU, memory, restarts), the
//! file systems it writes to (space and inodes used) and its configuration files (a change is a
//! change event). The tracker carries between readings what only a sequence shows: a process
//! replaced by another is a restart, a file whose content changed was edited.

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    path::{Path, PathBuf},
};

use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use super::{
    cgroups::{MemoryCgroup, Mounts},
    history::Sample,
    host::HostSnapshot,
    probes::{Outcome, ProbeResult},
    services::{HOST, ServiceMap},
};
use crate::world::WorldEvent;

/// How long a restart counts in a service's `restarts` signal: long enough that a loop with
/// back-off shows three, short enough that health is judged well again soon after a fix (a
/// remediation's own restart is one).
pub const RESTART_MEMORY: SignedDuration = SignedDuration::from_mins(2);

/// Processes of one service: (pid, start time) → command line.
type ProcessSet = BTreeMap<(u32, u64), String>;

/// What is carried from one reading to the next.
#[derive(Debug, Default)]
pub struct Tracker {
    /// Service → the processes seen the time before last and last time, with their command
    /// lines.
    processes: BTreeMap<String, (ProcessSet, ProcessSet)>,
    /// Service → when its processes died (not yet matched by a start), with their command
    /// lines, and when it restarted.
    deaths: BTreeMap<String, VecDeque<(Timestamp, String)>>,
    restarts: BTreeMap<String, VecDeque<Timestamp>>,
    /// Watched file → (service, its content hash and size when last read).
    files: BTreeMap<PathBuf, (String, Option<FileStamp>)>,
    primed: bool,
    /// The kernel's memory accounting of each service's processes.
    memory: MemoryTracker,
}

/// At most this many memory cgroups are followed per service (one per unit, container or
/// supervisor is usual).
const MAX_CGROUPS: usize = 8;

/// How long an OOM kill counts as the service's memory having reached its limit: the memory
/// was at the limit when the kernel killed, though a reading after the kill sees a young
/// process with little. Two sampling intervals and a margin, so every reading between kills
/// of a process killed every few seconds says so, and the first reading after they stop
/// does not.
pub const OOM_AT_LIMIT: SignedDuration = SignedDuration::from_secs(12);

/// What is carried between readings of the services' memory cgroups.
#[derive(Debug, Default)]
struct MemoryTracker {
    /// Where the memory hierarchies are mounted, read at the first reading.
    mounts: Option<Mounts>,
    /// Our own memory cgroup: a service that shares it has none of its own.
    own: Option<MemoryCgroup>,
    /// Service → its memory cgroups and the OOM-kill count each had at the last reading.
    cgroups: BTreeMap<String, BTreeMap<MemoryCgroup, u64>>,
    /// Service → when the kernel killed one of its processes for memory.
    kills: BTreeMap<String, VecDeque<Timestamp>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    hash: [u8; 32],
    len: u64,
}

/// One reading of every service.
#[derive(Debug, Default)]
pub struct Measured {
    /// The samples, one per (service, signal).
    pub samples: Vec<Sample>,
    /// Changes seen since the last reading.
    pub changes: Vec<WorldEvent>,
    /// Service → why a probe failed (`refused`, `timeout`, `http-503`, `tls`, `dns`).
    pub probe_failures: BTreeMap<String, Vec<String>>,
}

impl Tracker {
    /// Reads every service now. `probes` are this moment's probe results by service; `paths`
    /// are each service's log file paths (with its `data_paths`, they are where it writes).
    pub fn measure(
        &mut self,
        now: Timestamp,
        host: &HostSnapshot,
        map: &ServiceMap,
        probes: &[(String, ProbeResult)],
        paths: &BTreeMap<String, Vec<PathBuf>>,
    ) -> Measured {
        let mut out = Measured::default();
        let mut push = |service: &str, signal: &str, value: f64| {
            if value.is_finite() {
                out.samples.push(Sample {
                    at: now,
                    service: service.to_string(),
                    signal: signal.to_string(),
                    value: round3(value),
                });
            }
        };
        let disk = host
            .disks
            .iter()
            .map(|d| d.used_percent)
            .fold(0.0, f64::max);
        push(HOST, "cpu_percent", host.cpu.usage_percent as f64);
        push(HOST, "memory_percent", host.memory.used_percent);
        push(HOST, "load_per_core", host.load.one_per_core);
        push(HOST, "disk_used_percent", disk);

        // Probes: a service is up by the share of its probes that answered.
        let mut by_service: BTreeMap<&str, Vec<&ProbeResult>> = BTreeMap::new();
        for (service, r) in probes {
            by_service.entry(service).or_default().push(r);
        }
        for (service, results) in &by_service {
            // Only nothing there is absence (refused, no such name). A probe that timed out
            // reached something slow (its latency says how much); an error status or a failed
            // handshake is a service there that fails: errors.
            let n = results.len() as f64;
            let down = results
                .iter()
                .filter(|r| matches!(r.outcome, Outcome::Refused | Outcome::Dns | Outcome::Other))
                .count();
            let failing = results
                .iter()
                .filter(|r| matches!(r.outcome, Outcome::Status(_) | Outcome::Tls))
                .count();
            push(service, "probe_up", 1.0 - down as f64 / n);
            push(service, "probe_error_ratio", failing as f64 / n);
            let worst = results.iter().map(|r| r.check.value).fold(0.0, f64::max);
            push(service, "probe_latency_ms", worst);
            let failures: Vec<String> = results
                .iter()
                .filter(|r| r.outcome != Outcome::Ok)
                .map(|r| r.outcome.describe())
                .collect();
            if !failures.is_empty() {
                out.probe_failures.insert(service.to_string(), failures);
            }
            if let Some(days) = results
                .iter()
                .filter_map(|r| r.cert_days_left)
                .min_by(f64::total_cmp)
            {
                push(service, "tls_cert_days_left", days);
            }
        }

        // Processes, attributed by their command lines.
        if map.attributes_processes() {
            let mut owned: BTreeMap<&str, Vec<&super::host::ProcessLine>> = BTreeMap::new();
            for p in host.all_processes.iter() {
                if let Some(owner) = map.owner_of(&p.command) {
                    owned.entry(owner).or_default().push(p);
                }
            }
            let memory = self.memory.read(&owned, now);
            for spec in map.specs().filter(|s| s.process.is_some()) {
                let procs = owned.get(spec.name.as_str()).cloned().unwrap_or_default();
                let restarts = self.restarts_of(&spec.name, leaders(&procs), now);
                push(&spec.name, "processes_up", procs.len() as f64);
                push(
                    &spec.name,
                    "cpu_percent",
                    procs.iter().map(|p| p.cpu_percent as f64).sum(),
                );
                push(
                    &spec.name,
                    "memory_rss_mb",
                    procs.iter().map(|p| p.memory_bytes as f64).sum::<f64>() / 1_048_576.0,
                );
                push(&spec.name, "restarts", restarts as f64);
                if let Some(m) = memory.get(spec.name.as_str()) {
                    push(&spec.name, "oom_kills", m.oom_kills as f64);
                    if let Some(pct) = m.used_percent {
                        push(&spec.name, "memory_used_percent", pct);
                    }
                }
            }
        }

        // The file systems each service writes to: the fullest one speaks for it.
        for (service, list) in paths {
            let mut worst: Option<(f64, f64)> = None;
            for path in list {
                if let Some((space, inodes)) = fs_use(path) {
                    let w = worst.get_or_insert((0.0, 0.0));
                    w.0 = w.0.max(space);
                    w.1 = w.1.max(inodes);
                }
            }
            if let Some((space, inodes)) = worst {
                push(service, "disk_used_percent", space);
                push(service, "inodes_used_percent", inodes);
            }
        }

        out.changes = self.file_changes(map, now);
        self.primed = true;
        out
    }

    /// Counts restarts: the same program (the same command line) started again after one of
    /// its processes died. A process that dies young (first seen at the reading before) while
    /// another like it runs or died before it — a supervisor's child crashing at start, whose
    /// replacements often live less than a reading apart — is one; any other death is one
    /// once a new process like it appears. A process that dies with nothing like it coming
    /// back (a job killed, a worker scaled away, a database session ended: a backend's
    /// command line names its client) is no restart. Returns the restarts within
    /// [`RESTART_MEMORY`].
    fn restarts_of(&mut self, service: &str, now_set: ProcessSet, now: Timestamp) -> usize {
        let (older, before) = self
            .processes
            .remove(service)
            .map_or((None, None), |(o, b)| (Some(o), Some(b)));
        let deaths = self.deaths.entry(service.to_string()).or_default();
        let restarts = self.restarts.entry(service.to_string()).or_default();
        let horizon = now - RESTART_MEMORY;
        deaths.retain(|(t, _)| *t >= horizon);
        restarts.retain(|t| *t >= horizon);
        if let Some(before) = &before {
            let died_before: BTreeSet<String> = deaths.iter().map(|(_, c)| c.clone()).collect();
            for (gone, command) in before.iter().filter(|(k, _)| !now_set.contains_key(*k)) {
                let young = older.as_ref().is_some_and(|o| !o.contains_key(gone));
                let like_it =
                    now_set.values().any(|c| c == command) || died_before.contains(command);
                if young && like_it {
                    restarts.push_back(now);
                } else {
                    deaths.push_back((now, command.clone()));
                }
            }
            // Each new process takes the place of one like it that died.
            for (_, command) in now_set.iter().filter(|(k, _)| !before.contains_key(*k)) {
                if let Some(i) = deaths.iter().position(|(_, c)| c == command) {
                    deaths.remove(i);
                    restarts.push_back(now);
                }
            }
        }
        self.processes
            .insert(service.to_string(), (before.unwrap_or_default(), now_set));
        restarts.len()
    }

    /// When the service last restarted, if within [`RESTART_MEMORY`].
    pub fn last_restart(&self, service: &str) -> Option<Timestamp> {
        self.restarts.get(service).and_then(|r| r.back().copied())
    }

    /// When the kernel last killed one of the service's processes for memory, if within
    /// [`RESTART_MEMORY`].
    pub fn last_oom_kill(&self, service: &str) -> Option<Timestamp> {
        self.memory
            .kills
            .get(service)
            .and_then(|k| k.back().copied())
    }

    /// Watched files whose content changed since the last reading, as `config` changes. The
    /// first reading only learns what the files hold.
    fn file_changes(&mut self, map: &ServiceMap, now: Timestamp) -> Vec<WorldEvent> {
        let mut changes = Vec::new();
        for spec in map.specs() {
            for path in &spec.watch_files {
                let stamp = stamp(path);
                let entry = self
                    .files
                    .entry(path.clone())
                    .or_insert_with(|| (spec.name.clone(), None));
                let known = self.primed || entry.1.is_some();
                let detail = match (&entry.1, &stamp) {
                    (Some(a), Some(b)) if a != b => Some(format!(
                        "{} changed ({} → {} bytes, sha256 {} → {})",
                        path.display(),
                        a.len,
                        b.len,
                        hex8(&a.hash),
                        hex8(&b.hash)
                    )),
                    (Some(_), None) => Some(format!("{} removed", path.display())),
                    (None, Some(b)) if known => {
                        Some(format!("{} created ({} bytes)", path.display(), b.len))
                    }
                    _ => None,
                };
                if let Some(detail) = detail {
                    changes.push(WorldEvent {
                        at: now,
                        kind: "config".into(),
                        service: spec.name.clone(),
                        detail,
                    });
                }
                entry.1 = stamp;
            }
        }
        changes
    }
}

/// One service's memory as the kernel accounts it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ServiceMemory {
    /// OOM kills within [`RESTART_MEMORY`].
    oom_kills: usize,
    /// The fullest limited cgroup's working set, percent of its limit — 100 while an OOM kill
    /// is recent ([`OOM_AT_LIMIT`]); `None` when no cgroup of its own has a limit.
    used_percent: Option<f64>,
}

impl MemoryTracker {
    /// Reads the memory cgroups of every service's processes. A cgroup counts as a service's
    /// own when it is not the hierarchy's root, not ours, and holds processes of no other
    /// service: its OOM kills are then the service's. Cgroups are remembered (while they
    /// exist), so a service whose process was just killed, with none running at this moment,
    /// is still read. A cgroup's first reading only learns its count.
    fn read(
        &mut self,
        owned: &BTreeMap<&str, Vec<&super::host::ProcessLine>>,
        now: Timestamp,
    ) -> BTreeMap<String, ServiceMemory> {
        let mounts = self.mounts.get_or_insert_with(|| {
            let m = Mounts::read();
            self.own = m.of_pid(std::process::id());
            m
        });
        let mut holders: BTreeMap<MemoryCgroup, BTreeSet<&str>> = BTreeMap::new();
        for (service, procs) in owned {
            for p in procs {
                if let Some(cg) = mounts.of_pid(p.pid)
                    && !cg.is_root()
                    && self.own.as_ref() != Some(&cg)
                {
                    holders.entry(cg).or_default().insert(service);
                }
            }
        }
        for (cg, services) in holders {
            if let [service] = services.into_iter().collect::<Vec<_>>()[..] {
                let known = self.cgroups.entry(service.to_string()).or_default();
                if known.len() < MAX_CGROUPS && !known.contains_key(&cg) {
                    let count = cg.read().map_or(0, |r| r.oom_kills);
                    tracing::debug!(service, cgroup = %cg.path, oom_kills = count, "memory cgroup found");
                    known.insert(cg, count);
                }
            }
        }
        let horizon = now - RESTART_MEMORY;
        let mut out = BTreeMap::new();
        for (service, known) in self.cgroups.iter_mut() {
            let kills = self.kills.entry(service.clone()).or_default();
            kills.retain(|t| *t >= horizon);
            let mut used: Option<f64> = None;
            known.retain(|cg, last| {
                let Some(r) = cg.read() else {
                    return false;
                };
                let new = r.oom_kills.saturating_sub(*last);
                if new > 0 {
                    tracing::info!(service, cgroup = %cg.path, new, "processes killed for memory");
                }
                kills.extend(std::iter::repeat_n(now, new.min(64) as usize));
                *last = r.oom_kills;
                if let Some(p) = r.used_percent() {
                    used = Some(used.map_or(p, |u| u.max(p)));
                }
                true
            });
            if known.is_empty() {
                continue;
            }
            // The kernel kills at the limit: a recent kill means the memory reached it, even
            // when the process that held it is gone by the time of this reading.
            if kills.back().is_some_and(|t| *t >= now - OOM_AT_LIMIT) && used.is_some() {
                used = Some(100.0);
            }
            out.insert(
                service.clone(),
                ServiceMemory {
                    oom_kills: kills.len(),
                    used_percent: used.map(|u| u.min(100.0)),
                },
            );
        }
        self.cgroups.retain(|_, known| !known.is_empty());
        out
    }
}

/// The processes of a service whose restarts count: those not started by another of its own
/// processes that still runs. A server that forks a worker per connection or per batch of
/// requests (a database's backends, a pre-fork web server's workers) ends them as its clients
/// come and go, or as an operator terminates sessions: that churn is its own business, not the
/// service dying. Its leader dying and coming back is a restart; so is a supervisor's child
/// where the supervisor is not one of the service's processes.
fn leaders(procs: &[&super::host::ProcessLine]) -> ProcessSet {
    procs
        .iter()
        .filter(|p| !p.parent.is_some_and(|pp| procs.iter().any(|q| q.pid == pp)))
        .map(|p| ((p.pid, p.start_time), p.command.clone()))
        .collect()
}

/// A watched file's content hash; large files are hashed in full (configuration is small).
fn stamp(path: &Path) -> Option<FileStamp> {
    let bytes = std::fs::read(path).ok()?;
    Some(FileStamp {
        hash: Sha256::digest(&bytes).into(),
        len: bytes.len() as u64,
    })
}

fn hex8(hash: &[u8; 32]) -> String {
    hash[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// Space and inodes used on the file system holding `path` (or its nearest existing parent),
/// percent.
fn fs_use(path: &Path) -> Option<(f64, f64)> {
    let mut p = path;
    while !p.exists() {
        p = p.parent()?;
    }
    let st = rustix::fs::statvfs(p).ok()?;
    let pct = |free: u64, total: u64| {
        if total == 0 {
            0.0
        } else {
            (total.saturating_sub(free)) as f64 * 100.0 / total as f64
        }
    };
    Some((
        pct(st.f_bavail, st.f_blocks),
        pct(st.f_favail.min(st.f_ffree), st.f_files),
    ))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{host::ProcessLine, services::ServiceSpec};

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn a_process_replaced_after_dying_is_a_restart_and_a_new_one_alone_is_not() {
        let mut t = Tracker::default();
        let set = |pids: &[u32]| {
            pids.iter()
                .map(|p| ((*p, 100), "api --port 8080".to_string()))
                .collect::<ProcessSet>()
        };
        assert_eq!(t.restarts_of("api", set(&[1, 2]), at(0)), 0);
        assert_eq!(t.restarts_of("api", set(&[1, 2]), at(10)), 0);
        // A third worker starts: growth, not a restart.
        assert_eq!(t.restarts_of("api", set(&[1, 2, 3]), at(20)), 0);
        // A supervisor's child caught alive once, then gone: it died young.
        assert_eq!(t.restarts_of("api", set(&[1, 2, 3, 4]), at(30)), 0);
        assert_eq!(t.restarts_of("api", set(&[1, 2, 3]), at(40)), 1);
        // Worker 2, old, is stopped and nothing replaces it (a job killed): no restart…
        assert_eq!(t.restarts_of("api", set(&[1, 3]), at(50)), 1);
        // …until a new one takes its place.
        assert_eq!(t.restarts_of("api", set(&[1, 3, 5]), at(60)), 2);
        // Everything dies: not (yet) a restart; one when a process comes back.
        assert_eq!(t.restarts_of("api", set(&[]), at(70)), 2);
        assert_eq!(t.restarts_of("api", set(&[6]), at(80)), 3);
        // Two minutes later they are forgotten.
        assert_eq!(t.restarts_of("api", set(&[6]), at(300)), 0);
    }

    /// A process line: pid, parent, command.
    fn line(pid: u32, parent: u32, command: &str) -> ProcessLine {
        ProcessLine {
            pid,
            start_time: 100,
            command: command.into(),
            parent: Some(parent),
            cpu_percent: 0.0,
            memory_bytes: 0,
        }
    }

    fn backend(pid: u32) -> ProcessLine {
        line(
            pid,
            10,
            &format!("postgres: 15/main: app orders 10.0.0.9({pid}) idle"),
        )
    }

    #[test]
    fn sessions_a_database_ends_are_no_restarts_whether_or_not_its_server_is_watched() {
        let steady = [
            line(11, 10, "postgres: 15/main: checkpointer"),
            line(12, 10, "postgres: 15/main: walwriter"),
        ];
        for watched_server in [true, false] {
            let mut t = Tracker::default();
            let mut reading = |extra: &[ProcessLine], s: i64| {
                let server = line(10, 1, "/usr/lib/postgresql/15/bin/postgres -D /data");
                let all: Vec<&ProcessLine> = steady
                    .iter()
                    .chain(extra)
                    .chain(watched_server.then_some(&server))
                    .collect();
                t.restarts_of("db", leaders(&all), at(s))
            };
            // Twelve sessions held by a job, then terminated by an operator; short-lived
            // sessions of other clients come and go, some caught by a reading.
            let held: Vec<ProcessLine> = (20..32).map(backend).collect();
            assert_eq!(reading(&held, 0), 0, "server watched: {watched_server}");
            assert_eq!(reading(&held, 10), 0);
            assert_eq!(reading(&[backend(40)], 20), 0);
            assert_eq!(reading(&[], 30), 0);
            assert_eq!(reading(&[backend(41), backend(42)], 40), 0);
            assert_eq!(reading(&[], 50), 0, "server watched: {watched_server}");
        }
    }

    #[test]
    fn a_supervisors_child_crashing_at_start_is_a_restart_each_time() {
        let mut t = Tracker::default();
        let mut reading = |lines: &[ProcessLine], s: i64| {
            let all: Vec<&ProcessLine> = lines.iter().collect();
            t.restarts_of("inventory", leaders(&all), at(s))
        };
        // The supervisor is not one of the service's processes; its child is, every time.
        let app = |pid| line(pid, 5, "python3 releases/current/app.py --port 8081");
        assert_eq!(reading(&[app(20)], 0), 0);
        assert_eq!(reading(&[app(20)], 10), 0);
        assert_eq!(reading(&[app(21)], 20), 1);
        assert_eq!(reading(&[app(22)], 30), 2);
        assert_eq!(reading(&[], 40), 2);
        assert_eq!(reading(&[app(23)], 50), 3);
        // A pre-fork server watched with its workers: a worker's end is the server's business.
        let mut t = Tracker::default();
        let master = line(30, 1, "nginx: master process /usr/sbin/nginx");
        let worker = |pid| line(pid, 30, "nginx: worker process");
        for (s, w) in [(0, 31), (10, 31), (20, 32), (30, 33)] {
            let all = [&master, &worker(w)];
            assert_eq!(t.restarts_of("web", leaders(&all), at(s)), 0);
        }
    }

    #[test]
    fn an_edited_config_file_is_a_change_and_an_untouched_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app.conf");
        std::fs::write(&file, "workers = 4\n").unwrap();
        let map = ServiceMap::new(vec![ServiceSpec {
            name: "api".into(),
            watch_files: vec![file.clone()],
            ..Default::default()
        }])
        .unwrap();
        let mut t = Tracker::default();
        assert!(t.file_changes(&map, at(0)).is_empty());
        t.primed = true;
        assert!(t.file_changes(&map, at(10)).is_empty());
        std::fs::write(&file, "workers = 0\n").unwrap();
        let changes = t.file_changes(&map, at(20));
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].kind, "config");
        assert_eq!(changes[0].service, "api");
        assert!(
            changes[0].detail.contains("app.conf changed"),
            "{:?}",
            changes[0]
        );
        assert!(t.file_changes(&map, at(30)).is_empty());
    }

    #[test]
    fn a_probe_that_times_out_is_slow_and_one_refused_is_down() {
        let result = |outcome, ms| ProbeResult {
            check: crate::health::Check {
                backlog: false,
                felt: true,
                name: "http".into(),
                status: crate::health::Status::Unhealthy,
                value: ms,
                unit: "ms".into(),
                warning_at: None,
                critical_at: None,
                message: String::new(),
            },
            outcome,
            cert_days_left: None,
        };
        let host = crate::live::host::tests_support::empty_snapshot();
        let probes = vec![
            ("slow".to_string(), result(Outcome::Timeout, 2000.0)),
            ("gone".to_string(), result(Outcome::Refused, 0.4)),
            ("failing".to_string(), result(Outcome::Status(503), 3.0)),
        ];
        let m = Tracker::default().measure(
            at(0),
            &host,
            &ServiceMap::default(),
            &probes,
            &BTreeMap::new(),
        );
        let get = |svc: &str, sig: &str| {
            m.samples
                .iter()
                .find(|s| s.service == svc && s.signal == sig)
                .map(|s| s.value)
        };
        assert_eq!(get("slow", "probe_up"), Some(1.0));
        assert_eq!(get("slow", "probe_latency_ms"), Some(2000.0));
        assert_eq!(get("gone", "probe_up"), Some(0.0));
        assert_eq!(get("slow", "probe_error_ratio"), Some(0.0));
        // A 503 is a service there that fails, not one that is gone.
        assert_eq!(get("failing", "probe_up"), Some(1.0));
        assert_eq!(get("failing", "probe_error_ratio"), Some(1.0));
        assert_eq!(m.probe_failures["gone"], vec!["refused".to_string()]);
    }

    #[test]
    fn the_file_system_of_a_path_is_found_from_its_nearest_existing_parent() {
        let dir = tempfile::tempdir().unwrap();
        let (space, inodes) = fs_use(&dir.path().join("not/yet/there.log")).unwrap();
        assert!((0.0..=100.0).contains(&space));
        assert!((0.0..=100.0).contains(&inodes));
    }
}
