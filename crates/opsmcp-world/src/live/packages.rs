//! Package changes the host's package manager logged. dpkg appends a line for every install,
//! upgrade and removal to its log (`/var/log/dpkg.log`, rotated to `dpkg.log.1`), in local
//! time: `2026-12-07 03:10:11 upgrade libssl3:amd64 3.0.11-1 3.0.13-1`. Each becomes a
//! `package` change event (a deploy, by its class) on every declared service whose running
//! processes map a file of the package — its executable or a library, read from
//! `/proc/PID/maps` against the package's file list in dpkg's info folder — and on the host
//! when none does (a removed package has no list left, and a tool nobody runs maps nothing).
//! One service's changes of one run of the package manager are one event.
//!
//! The log is read when changes are asked for, not tailed: changes from before the server
//! started count, a restart stores nothing twice, and a host without dpkg has no log and no
//! package events. What it must not know: anything of the store or of the analysis.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    sync::Mutex,
    time::SystemTime,
};

use jiff::{Timestamp, civil::DateTime, tz::TimeZone};
use serde::{Deserialize, Serialize};

use super::{
    host::ProcessLine,
    services::{HOST, ServiceMap},
};
use crate::world::WorldEvent;

/// Where the package manager logs its changes (`[packages]`); the defaults are dpkg's own.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PackagesSpec {
    /// dpkg's log; its first rotation (`<log>.1`) is read too. Absent: no package events.
    pub log: PathBuf,
    /// dpkg's info folder, where `<package>.list` (or `<package>:<arch>.list`) names each
    /// installed package's files.
    pub info_dir: PathBuf,
}

impl Default for PackagesSpec {
    fn default() -> Self {
        Self {
            log: PathBuf::from("/var/log/dpkg.log"),
            info_dir: PathBuf::from("/var/lib/dpkg/info"),
        }
    }
}

/// One install, upgrade or removal, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageChange {
    /// When dpkg logged it.
    pub at: Timestamp,
    /// `install`, `upgrade`, `remove` or `purge`.
    pub action: String,
    /// The package as logged, with its architecture when it has one (`libssl3:amd64`).
    pub package: String,
    /// The version before (`None` for an install).
    pub from: Option<String>,
    /// The version after (`None` for a removal).
    pub to: Option<String>,
}

impl PackageChange {
    /// `upgrade libssl3:amd64 3.0.11-1 → 3.0.13-1`.
    fn describe(&self) -> String {
        match (&self.from, &self.to) {
            (Some(a), Some(b)) => format!("{} {} {a} → {b}", self.action, self.package),
            (None, Some(v)) | (Some(v), None) => format!("{} {} {v}", self.action, self.package),
            (None, None) => format!("{} {}", self.action, self.package),
        }
    }
}

/// Reads one line of dpkg's log; `None` for the lines that are not a change of a package
/// (status, configure, trigger and startup lines) or that do not parse.
pub fn parse_line(line: &str, zone: &TimeZone) -> Option<PackageChange> {
    let mut words = line.split_whitespace();
    let (date, time, action) = (words.next()?, words.next()?, words.next()?);
    if !matches!(action, "install" | "upgrade" | "remove" | "purge") {
        return None;
    }
    let package = words.next()?.to_string();
    let version = |w: Option<&str>| w.filter(|v| *v != "<none>").map(str::to_string);
    let (from, to) = (version(words.next()), version(words.next()));
    let at: DateTime = format!("{date}T{time}").parse().ok()?;
    let at = zone.to_ambiguous_timestamp(at).compatible().ok()?;
    Some(PackageChange {
        at,
        action: action.to_string(),
        package,
        from,
        to,
    })
}

/// A file's identity for the cache: a rewritten or appended log is read again.
type FileKey = (PathBuf, u64, Option<SystemTime>);

/// dpkg's log, read on demand and kept parsed while the files are unchanged.
#[derive(Debug)]
pub struct PackageLog {
    spec: PackagesSpec,
    /// Set on first read for the host's zone: naming the system zone walks the tz database,
    /// several ms that every start of a server would otherwise pay.
    zone: std::sync::OnceLock<TimeZone>,
    parsed: Mutex<Option<(Vec<FileKey>, Vec<PackageChange>)>>,
}

impl PackageLog {
    /// The log the spec names, in this host's time zone.
    pub fn new(spec: PackagesSpec) -> Self {
        Self {
            spec,
            zone: std::sync::OnceLock::new(),
            parsed: Mutex::new(None),
        }
    }

    /// The log the spec names, its times read in `zone`.
    pub fn in_zone(spec: PackagesSpec, zone: TimeZone) -> Self {
        Self {
            spec,
            zone: std::sync::OnceLock::from(zone),
            parsed: Mutex::new(None),
        }
    }

    /// Every logged change with `from <= at < to`, oldest first.
    pub fn between(&self, from: Timestamp, to: Timestamp) -> Vec<PackageChange> {
        let mut rotated = self.spec.log.clone().into_os_string();
        rotated.push(".1");
        let files = [PathBuf::from(rotated), self.spec.log.clone()];
        let keys: Vec<FileKey> = files
            .iter()
            .filter_map(|p| {
                let m = std::fs::metadata(p).ok()?;
                Some((p.clone(), m.len(), m.modified().ok()))
            })
            .collect();
        let Ok(mut parsed) = self.parsed.lock() else {
            return Vec::new();
        };
        if parsed.as_ref().is_none_or(|(k, _)| *k != keys) {
            let mut all: Vec<PackageChange> = keys
                .iter()
                .filter_map(|(p, ..)| std::fs::read(p).ok())
                .flat_map(|bytes| {
                    String::from_utf8_lossy(&bytes)
                        .lines()
                        .filter_map(|l| parse_line(l, self.zone.get_or_init(TimeZone::system)))
                        .collect::<Vec<_>>()
                })
                .collect();
            // The rotated file is older; a stable sort keeps each file's own order.
            all.sort_by_key(|c| c.at);
            all.dedup();
            *parsed = Some((keys, all));
        }
        parsed.as_ref().map_or_else(Vec::new, |(_, all)| {
            all.iter()
                .filter(|c| c.at >= from && c.at < to)
                .cloned()
                .collect()
        })
    }

    /// The changes between `from` and `to` as change events, each on the services whose
    /// processes (among `processes`) map one of the package's files, or on the host.
    pub fn events(
        &self,
        from: Timestamp,
        to: Timestamp,
        map: &ServiceMap,
        processes: &[ProcessLine],
    ) -> Vec<WorldEvent> {
        let changes = self.between(from, to);
        if changes.is_empty() {
            return Vec::new();
        }
        let mapped = mapped_files(map, processes);
        let mut parents = BTreeMap::new();
        let mut events = Vec::new();
        // Each service's changes of one package-manager run (an `apt upgrade` of 80 packages)
        // are one event.
        let mut runs: BTreeMap<String, Vec<Touched>> = BTreeMap::new();
        for change in changes {
            let files = self.files_of(&change.package, &mut parents);
            let mut touched: Vec<(String, Option<(PathBuf, bool)>)> = mapped
                .iter()
                .filter_map(|(service, seen)| {
                    let hit = files
                        .iter()
                        .find_map(|f| seen.get(f).map(|r| (f.clone(), *r)))?;
                    Some((service.clone(), Some(hit)))
                })
                .collect();
            if touched.is_empty() {
                touched.push((HOST.to_string(), None));
            }
            for (service, file) in touched {
                let run = runs.entry(service.clone()).or_default();
                if run
                    .last()
                    .is_some_and(|last| change.at - last.0.at > ONE_RUN)
                {
                    events.push(run_event(&service, std::mem::take(run)));
                }
                run.push((change.clone(), file));
            }
        }
        for (service, run) in runs {
            if !run.is_empty() {
                events.push(run_event(&service, run));
            }
        }
        events.sort_by_key(|e| e.at);
        events
    }

    /// The package's files as dpkg lists them, each also with its folder's symlinks resolved
    /// (`/lib/x86_64-linux-gnu/…` is `/usr/lib/x86_64-linux-gnu/…` on a merged-usr host, and
    /// `/proc/PID/maps` names the latter). Empty when the list is gone (a removed package).
    fn files_of(
        &self,
        package: &str,
        parents: &mut BTreeMap<PathBuf, Option<PathBuf>>,
    ) -> BTreeSet<PathBuf> {
        let name = package.split(':').next().unwrap_or(package);
        let list = [
            self.spec.info_dir.join(format!("{package}.list")),
            self.spec.info_dir.join(format!("{name}.list")),
        ]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
        let mut files = BTreeSet::new();
        for line in list.lines().map(str::trim).filter(|l| l.starts_with('/')) {
            let path = PathBuf::from(line);
            if let (Some(parent), Some(file)) = (path.parent(), path.file_name()) {
                let real = parents
                    .entry(parent.to_path_buf())
                    .or_insert_with(|| std::fs::canonicalize(parent).ok());
                if let Some(real) = real {
                    files.insert(real.join(file));
                }
            }
            files.insert(path);
        }
        files
    }
}

/// Changes of one service less than this apart are one run of the package manager.
const ONE_RUN: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// How many of a run's changes its event names.
const NAMED_IN_A_RUN: usize = 3;

/// A change, and the file of it the service's processes map (and whether that mapping is of
/// the replaced file) — none for the host.
type Touched = (PackageChange, Option<(PathBuf, bool)>);

/// One event for a run of a service's package changes (not empty, oldest first).
fn run_event(service: &str, run: Vec<Touched>) -> WorldEvent {
    let at = run.first().map_or(Timestamp::UNIX_EPOCH, |c| c.0.at);
    let what = match run.as_slice() {
        [one] => one.0.describe(),
        _ => {
            let named: Vec<String> = run
                .iter()
                .take(NAMED_IN_A_RUN)
                .map(|c| c.0.describe())
                .collect();
            let more = run.len().saturating_sub(NAMED_IN_A_RUN);
            let more = if more > 0 {
                format!("; … and {more} more")
            } else {
                String::new()
            };
            format!("{} package changes: {}{more}", run.len(), named.join("; "))
        }
    };
    let source = match run.iter().find_map(|c| c.1.as_ref()) {
        None => "dpkg".to_string(),
        Some((path, _)) => {
            let stale = if run.iter().any(|c| c.1.as_ref().is_some_and(|f| f.1)) {
                "; its processes still run replaced files until restarted"
            } else {
                ""
            };
            format!("dpkg; its processes map {}{stale}", path.display())
        }
    };
    WorldEvent {
        at,
        kind: "package".into(),
        service: service.to_string(),
        detail: format!("{what} ({source})"),
    }
}

/// Service → the files its processes map (executable and libraries) → whether the mapping is
/// of a file since replaced on disk (`(deleted)` in the maps).
fn mapped_files(
    map: &ServiceMap,
    processes: &[ProcessLine],
) -> BTreeMap<String, BTreeMap<PathBuf, bool>> {
    let mut out: BTreeMap<String, BTreeMap<PathBuf, bool>> = BTreeMap::new();
    for p in processes {
        let Some(owner) = map.owner_of(&p.command) else {
            continue;
        };
        let seen = out.entry(owner.to_string()).or_default();
        let proc_dir = Path::new("/proc").join(p.pid.to_string());
        if let Ok(exe) = std::fs::read_link(proc_dir.join("exe")) {
            let exe = exe.to_string_lossy();
            let (path, replaced) = strip_deleted(&exe);
            seen.insert(PathBuf::from(path), replaced);
        }
        let Ok(maps) = std::fs::read_to_string(proc_dir.join("maps")) else {
            continue;
        };
        for line in maps.lines() {
            // address perms offset dev inode path — the path is the sixth field and may hold
            // spaces.
            let Some(path) = line.splitn(6, char::is_whitespace).nth(5) else {
                continue;
            };
            let path = path.trim_start();
            if path.starts_with('/') {
                let (path, replaced) = strip_deleted(path);
                seen.insert(PathBuf::from(path), replaced);
            }
        }
    }
    out
}

/// A mapped path without the kernel's ` (deleted)` suffix, and whether it had one.
fn strip_deleted(path: &str) -> (&str, bool) {
    match path.strip_suffix(" (deleted)") {
        Some(p) => (p, true),
        None => (path, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::services::ServiceSpec;

    #[test]
    fn only_installs_upgrades_and_removals_are_changes() {
        let utc = TimeZone::UTC;
        let up = parse_line(
            "2026-12-07 03:10:11 upgrade libssl3:amd64 3.0.11-1 3.0.13-1",
            &utc,
        )
        .unwrap();
        assert_eq!(up.at, "2026-12-07T03:10:11Z".parse::<Timestamp>().unwrap());
        assert_eq!(up.package, "libssl3:amd64");
        assert_eq!(up.from.as_deref(), Some("3.0.11-1"));
        assert_eq!(up.to.as_deref(), Some("3.0.13-1"));
        let new = parse_line("2026-12-07 03:10:11 install jq:amd64 <none> 1.6-2.1", &utc).unwrap();
        assert_eq!((new.from, new.to.as_deref()), (None, Some("1.6-2.1")));
        for other in [
            "2026-12-07 03:10:11 status installed libssl3:amd64 3.0.13-1",
            "2026-12-07 03:10:11 configure libssl3:amd64 3.0.13-1 <none>",
            "2026-12-07 03:10:11 trigproc libc-bin:amd64 2.36-9 <none>",
            "2026-12-07 03:10:11 startup packages configure",
            "garbage",
            "",
        ] {
            assert_eq!(parse_line(other, &utc), None, "{other}");
        }
    }

    #[test]
    fn the_log_is_read_in_the_hosts_local_time() {
        let zone = TimeZone::get("Europe/Berlin").unwrap();
        let c = parse_line("2026-07-01 12:00:00 remove jq:amd64 1.6-2.1 <none>", &zone).unwrap();
        assert_eq!(c.at, "2026-07-01T10:00:00Z".parse::<Timestamp>().unwrap());
    }

    /// A real process of a declared service runs a copy of `sleep` from a folder of the
    /// test's; the package that lists that file is the service's change, one that lists
    /// nothing running is the host's, and a change outside the window is not read.
    #[test]
    fn a_package_whose_file_a_service_runs_is_that_services_change() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let exe = bin.join("worker-sleep");
        std::fs::copy("/bin/sleep", &exe).unwrap();
        // Another test thread forking while the copy was open for writing holds it open
        // until its child execs: the kernel says "Text file busy" meanwhile.
        let mut child = (0..100)
            .find_map(
                |_| match std::process::Command::new(&exe).arg("30").spawn() {
                    Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        None
                    }
                    other => Some(other.unwrap()),
                },
            )
            .expect("the copied program starts");
        let info = dir.path().join("info");
        std::fs::create_dir(&info).unwrap();
        std::fs::write(
            info.join("worker:amd64.list"),
            format!("/.\n{}\n{}\n", bin.display(), exe.display()),
        )
        .unwrap();
        std::fs::write(info.join("tools.list"), "/usr/bin/nothing-runs-this\n").unwrap();
        let log = dir.path().join("dpkg.log");
        std::fs::write(
            &log,
            "2026-12-07 02:00:00 upgrade worker:amd64 1.0 1.1\n\
             2026-12-07 03:00:00 upgrade worker:amd64 1.1 1.2\n\
             2026-12-07 03:00:00 status installed worker:amd64 1.2\n\
             2026-12-07 03:01:00 install tools:all <none> 2\n",
        )
        .unwrap();
        let packages = PackageLog::in_zone(
            PackagesSpec {
                log,
                info_dir: info,
            },
            TimeZone::UTC,
        );
        let map = ServiceMap::new(vec![ServiceSpec {
            name: "worker".into(),
            process: Some("worker-sleep 30".into()),
            ..Default::default()
        }])
        .unwrap();
        let processes = vec![ProcessLine {
            pid: child.id(),
            start_time: 0,
            command: format!("{} 30", exe.display()),
            parent: None,
            cpu_percent: 0.0,
            memory_bytes: 0,
        }];
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let events = packages.events(
            at("2026-12-07T02:30:00Z"),
            at("2026-12-07T04:00:00Z"),
            &map,
            &processes,
        );
        child.kill().unwrap();
        child.wait().unwrap();
        let got: Vec<(&str, &str)> = events
            .iter()
            .map(|e| (e.service.as_str(), e.detail.as_str()))
            .collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, "worker");
        assert!(
            got[0]
                .1
                .starts_with("upgrade worker:amd64 1.1 → 1.2 (dpkg; its processes map")
                && got[0].1.contains("worker-sleep"),
            "{got:?}"
        );
        assert_eq!(got[1], (HOST, "install tools:all 2 (dpkg)"));
        assert!(events.iter().all(|e| e.kind == "package"));
        assert_eq!(crate::world::change_class("package"), Some("deploy"));
    }

    /// An upgrade of many packages nobody's processes map is one event of the host, not one
    /// per package; a run minutes later is another (a service's runs are grouped the same
    /// way).
    #[test]
    fn one_run_of_the_package_manager_is_one_change_of_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("dpkg.log");
        let mut lines = String::new();
        for (i, second) in (0..40).map(|i| (i, i % 50)) {
            lines.push_str(&format!(
                "2026-12-07 03:00:{second:02} upgrade lib{i}:amd64 1 2\n"
            ));
        }
        lines.push_str("2026-12-07 03:09:00 remove jq:amd64 1.6 <none>\n");
        std::fs::write(&log, lines).unwrap();
        let packages = PackageLog::in_zone(
            PackagesSpec {
                log,
                info_dir: dir.path().to_path_buf(),
            },
            TimeZone::UTC,
        );
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let events = packages.events(
            at("2026-12-07T02:00:00Z"),
            at("2026-12-07T04:00:00Z"),
            &ServiceMap::default(),
            &[],
        );
        let got: Vec<(Timestamp, &str)> =
            events.iter().map(|e| (e.at, e.detail.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (
                    at("2026-12-07T03:00:00Z"),
                    "40 package changes: upgrade lib0:amd64 1 → 2; upgrade lib1:amd64 1 → 2; \
                     upgrade lib2:amd64 1 → 2; … and 37 more (dpkg)"
                ),
                (at("2026-12-07T03:09:00Z"), "remove jq:amd64 1.6 (dpkg)"),
            ]
        );
        assert!(events.iter().all(|e| e.service == HOST));
    }

    #[test]
    fn a_host_without_the_log_has_no_package_changes() {
        let dir = tempfile::tempdir().unwrap();
        let packages = PackageLog::new(PackagesSpec {
            log: dir.path().join("none.log"),
            info_dir: dir.path().to_path_buf(),
        });
        assert!(
            packages
                .between(Timestamp::UNIX_EPOCH, Timestamp::now())
                .is_empty()
        );
    }
}
