//! This host's vital signs, sampled in the background.
//!
//! CPU percentages only exist between two readings, and reading every process costs
//! milliseconds, so a sampler thread takes a snapshot every interval and tools read the latest
//! one: a call costs an `Arc` clone, never a walk of `/proc`.

use std::{
    sync::{Arc, OnceLock},
    thread,
    time::{Duration, Instant},
};

use schemars::JsonSchema;
use serde::Serialize;
use sysinfo::{
    Disks, Networks, ProcessRefreshKind, ProcessesToUpdate, RefreshKind, System, UpdateKind,
};
use tokio::sync::watch;

/// How many processes a snapshot keeps, by CPU and by memory.
const TOP_PROCESSES: usize = 10;

/// One reading of this host.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HostSnapshot {
    /// Host name.
    pub hostname: String,
    /// When the reading was taken (RFC 3339, UTC).
    pub sampled_at: String,
    /// Seconds since boot.
    pub uptime_s: u64,
    /// CPU use.
    pub cpu: CpuStats,
    /// Load averages.
    pub load: LoadStats,
    /// Physical memory.
    pub memory: MemoryStats,
    /// Swap.
    pub swap: SwapStats,
    /// One entry per mounted file system.
    pub disks: Vec<DiskStats>,
    /// One entry per network interface.
    pub network: Vec<InterfaceStats>,
    /// Process count and the heaviest processes.
    pub processes: ProcessStats,
    /// Every process with its command line, to attribute processes to services. Not shown:
    /// command lines can carry secrets, and a tool answer needs only the heaviest.
    #[serde(skip)]
    #[schemars(skip)]
    pub all_processes: Arc<Vec<ProcessLine>>,
}

/// One process, as attribution needs it.
#[derive(Debug, Clone)]
pub struct ProcessLine {
    /// Process id.
    pub pid: u32,
    /// When it started, seconds since the epoch: a new pid or start time is a restart.
    pub start_time: u64,
    /// Its command line, arguments joined by spaces (its name when the kernel hides it).
    pub command: String,
    /// Its parent's process id.
    pub parent: Option<u32>,
    /// CPU over the last interval, percent of one core.
    pub cpu_percent: f32,
    /// Resident memory, bytes.
    pub memory_bytes: u64,
}

/// CPU use over the last sampling interval.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CpuStats {
    /// All cores, percent.
    pub usage_percent: f32,
    /// Logical cores.
    pub cores: usize,
    /// Each core, percent.
    pub per_core_percent: Vec<f32>,
}

/// Load averages, and the 1-minute one per core (above 1.0 means a run queue).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LoadStats {
    /// 1-minute load average.
    pub one: f64,
    /// 5-minute load average.
    pub five: f64,
    /// 15-minute load average.
    pub fifteen: f64,
    /// 1-minute load divided by the number of cores.
    pub one_per_core: f64,
}

/// Physical memory.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MemoryStats {
    /// Total bytes.
    pub total_bytes: u64,
    /// Bytes in use (total minus available).
    pub used_bytes: u64,
    /// Bytes available to new work without swapping.
    pub available_bytes: u64,
    /// Used share, percent.
    pub used_percent: f64,
}

/// Swap space.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SwapStats {
    /// Total bytes (0 when there is no swap).
    pub total_bytes: u64,
    /// Bytes in use.
    pub used_bytes: u64,
    /// Used share, percent (0 without swap).
    pub used_percent: f64,
}

/// One mounted file system.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DiskStats {
    /// Where it is mounted.
    pub mount_point: String,
    /// Device or source name.
    pub device: String,
    /// File system type.
    pub file_system: String,
    /// Size in bytes.
    pub total_bytes: u64,
    /// Free bytes available to unprivileged users.
    pub available_bytes: u64,
    /// Used share, percent.
    pub used_percent: f64,
    /// Mounted read-only.
    pub read_only: bool,
}

/// One network interface.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InterfaceStats {
    /// Interface name.
    pub name: String,
    /// Received bytes per second over the last interval.
    pub rx_bytes_per_s: f64,
    /// Sent bytes per second over the last interval.
    pub tx_bytes_per_s: f64,
    /// Received bytes since boot.
    pub rx_bytes_total: u64,
    /// Sent bytes since boot.
    pub tx_bytes_total: u64,
    /// Receive errors since boot.
    pub rx_errors_total: u64,
    /// Send errors since boot.
    pub tx_errors_total: u64,
}

/// Processes on the host.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProcessStats {
    /// Number of processes.
    pub total: usize,
    /// The heaviest by CPU.
    pub top_by_cpu: Vec<ProcessInfo>,
    /// The heaviest by resident memory.
    pub top_by_memory: Vec<ProcessInfo>,
}

/// One process.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: u32,
    /// Process name.
    pub name: String,
    /// CPU over the last interval, percent of one core.
    pub cpu_percent: f32,
    /// Resident memory, bytes.
    pub memory_bytes: u64,
}

/// Errors from reading this host.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The operating system would not give the readings.
    #[error("cannot read this host's metrics: {0}")]
    Unreadable(String),
    /// The sampler thread is gone.
    #[error("the host sampler stopped; restart the server")]
    SamplerStopped,
}

/// Handle to the background sampler; cheap to clone, shared by every tool call.
#[derive(Debug, Clone)]
pub struct HostMonitor {
    latest: watch::Receiver<Option<Arc<HostSnapshot>>>,
    failure: Arc<OnceLock<String>>,
}

impl HostMonitor {
    /// Starts sampling every `interval` on a thread of its own. The thread ends when the last
    /// handle is dropped. Even the first reading happens on that thread, so starting costs the
    /// caller nothing.
    pub fn start(interval: Duration) -> Result<Self, HostError> {
        let (tx, rx) = watch::channel(None);
        let failure = Arc::new(OnceLock::new());
        let failed = failure.clone();
        thread::Builder::new()
            .name("host-sampler".into())
            .spawn(move || {
                let mut sampler = match Sampler::new() {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(error = %e, "host sampler cannot start");
                        let _ = failed.set(e.to_string());
                        return;
                    }
                };
                // CPU use needs two readings: take a short first interval so the first snapshot
                // is ready quickly.
                thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
                loop {
                    let snapshot = Arc::new(sampler.sample());
                    if tx.send(Some(snapshot)).is_err() {
                        return;
                    }
                    thread::sleep(interval);
                }
            })
            .map_err(|e| HostError::Unreadable(e.to_string()))?;
        Ok(Self {
            latest: rx,
            failure,
        })
    }

    /// Why the sampler stopped, if it did.
    pub fn failure(&self) -> Option<&str> {
        self.failure.get().map(String::as_str)
    }

    /// The latest snapshot, waiting for the first one if the sampler has just started.
    pub async fn snapshot(&self) -> Result<Arc<HostSnapshot>, HostError> {
        if let Some(s) = self.latest.borrow().as_ref() {
            return Ok(s.clone());
        }
        let mut rx = self.latest.clone();
        let guard = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| match self.failure() {
                Some(why) => HostError::Unreadable(why.to_string()),
                None => HostError::SamplerStopped,
            })?;
        guard.clone().ok_or(HostError::SamplerStopped)
    }

    /// Age of the latest snapshot; `None` while the first is being taken.
    pub fn age(&self) -> Option<Duration> {
        let s = self.latest.borrow();
        let at: jiff::Timestamp = s.as_ref()?.sampled_at.parse().ok()?;
        Duration::try_from(jiff::Timestamp::now().duration_since(at)).ok()
    }
}

/// The sysinfo state kept between readings.
struct Sampler {
    system: System,
    disks: Disks,
    networks: Networks,
    last: Instant,
}

impl Sampler {
    fn new() -> Result<Self, HostError> {
        let unreadable = |e: sysinfo::Error| HostError::Unreadable(e.to_string());
        let mut system = System::new_with_specifics(RefreshKind::nothing()).map_err(unreadable)?;
        system.refresh_cpu_all();
        system.refresh_processes_specifics(ProcessesToUpdate::All, true, process_kind());
        let mut networks = Networks::new().map_err(unreadable)?;
        networks.refresh(true);
        Ok(Self {
            system,
            disks: Disks::new().map_err(unreadable)?,
            networks,
            last: Instant::now(),
        })
    }

    fn sample(&mut self) -> HostSnapshot {
        let elapsed = self.last.elapsed().as_secs_f64().max(1e-3);
        self.last = Instant::now();
        let sys = &mut self.system;
        sys.refresh_cpu_all();
        sys.refresh_memory();
        sys.refresh_processes_specifics(ProcessesToUpdate::All, true, process_kind());
        self.disks.refresh(true);
        self.networks.refresh(true);

        let cores = sys.cpus().len().max(1);
        let load = System::load_average().unwrap_or(sysinfo::LoadAvg {
            one: 0.0,
            five: 0.0,
            fifteen: 0.0,
        });
        let total = sys.total_memory();
        let available = sys.available_memory();
        let used = total.saturating_sub(available);

        let all_processes: Vec<ProcessLine> = sys
            .processes()
            .values()
            .filter(|p| p.thread_kind().is_none())
            .map(|p| {
                let args: Vec<String> = p
                    .cmd()
                    .iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect();
                ProcessLine {
                    pid: p.pid().as_u32(),
                    start_time: p.start_time(),
                    command: if args.is_empty() {
                        p.name().to_string_lossy().into_owned()
                    } else {
                        args.join(" ")
                    },
                    parent: p.parent().map(|pp| pp.as_u32()),
                    cpu_percent: round1(p.cpu_usage() as f64) as f32,
                    memory_bytes: p.memory(),
                }
            })
            .collect();
        let mut processes: Vec<ProcessInfo> = sys
            .processes()
            .values()
            .filter(|p| p.thread_kind().is_none())
            .map(|p| ProcessInfo {
                pid: p.pid().as_u32(),
                name: p.name().to_string_lossy().into_owned(),
                cpu_percent: round1(p.cpu_usage() as f64) as f32,
                memory_bytes: p.memory(),
            })
            .collect();
        let total_processes = processes.len();
        processes.sort_by(|a, b| {
            b.cpu_percent
                .total_cmp(&a.cpu_percent)
                .then(a.pid.cmp(&b.pid))
        });
        let top_by_cpu = processes.iter().take(TOP_PROCESSES).cloned().collect();
        processes.sort_by(|a, b| b.memory_bytes.cmp(&a.memory_bytes).then(a.pid.cmp(&b.pid)));
        processes.truncate(TOP_PROCESSES);

        HostSnapshot {
            hostname: System::host_name().unwrap_or_else(|_| "unknown".into()),
            sampled_at: jiff::Timestamp::now().to_string(),
            uptime_s: System::uptime().unwrap_or(0),
            cpu: CpuStats {
                usage_percent: round1(sys.global_cpu_usage() as f64) as f32,
                cores,
                per_core_percent: sys
                    .cpus()
                    .iter()
                    .map(|c| round1(c.usage() as f64) as f32)
                    .collect(),
            },
            load: LoadStats {
                one: load.one,
                five: load.five,
                fifteen: load.fifteen,
                one_per_core: round2(load.one / cores as f64),
            },
            memory: MemoryStats {
                total_bytes: total,
                used_bytes: used,
                available_bytes: available,
                used_percent: percent(used, total),
            },
            swap: SwapStats {
                total_bytes: sys.total_swap(),
                used_bytes: sys.used_swap(),
                used_percent: percent(sys.used_swap(), sys.total_swap()),
            },
            disks: self
                .disks
                .iter()
                .map(|d| {
                    let used = d.total_space().saturating_sub(d.available_space());
                    DiskStats {
                        mount_point: d.mount_point().to_string_lossy().into_owned(),
                        device: d.name().to_string_lossy().into_owned(),
                        file_system: d.file_system().to_string_lossy().into_owned(),
                        total_bytes: d.total_space(),
                        available_bytes: d.available_space(),
                        used_percent: percent(used, d.total_space()),
                        read_only: d.is_read_only(),
                    }
                })
                .collect(),
            network: {
                let mut list: Vec<InterfaceStats> = self
                    .networks
                    .iter()
                    .map(|(name, n)| InterfaceStats {
                        name: name.to_string_lossy().into_owned(),
                        rx_bytes_per_s: round1(n.received() as f64 / elapsed),
                        tx_bytes_per_s: round1(n.transmitted() as f64 / elapsed),
                        rx_bytes_total: n.total_received(),
                        tx_bytes_total: n.total_transmitted(),
                        rx_errors_total: n.total_errors_on_received(),
                        tx_errors_total: n.total_errors_on_transmitted(),
                    })
                    .collect();
                list.sort_by(|a, b| a.name.cmp(&b.name));
                list
            },
            processes: ProcessStats {
                total: total_processes,
                top_by_cpu,
                top_by_memory: processes,
            },
            all_processes: Arc::new(all_processes),
        }
    }
}

fn process_kind() -> ProcessRefreshKind {
    // A command line does not change, so it is read once per process.
    ProcessRefreshKind::nothing()
        .with_cpu()
        .with_memory()
        .with_cmd(UpdateKind::OnlyIfNotSet)
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round1(part as f64 * 100.0 / whole as f64)
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Snapshots for other modules' tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// A host with nothing on it.
    pub(crate) fn empty_snapshot() -> HostSnapshot {
        HostSnapshot {
            hostname: "test".into(),
            sampled_at: jiff::Timestamp::UNIX_EPOCH.to_string(),
            uptime_s: 0,
            cpu: CpuStats {
                usage_percent: 0.0,
                cores: 1,
                per_core_percent: vec![0.0],
            },
            load: LoadStats {
                one: 0.0,
                five: 0.0,
                fifteen: 0.0,
                one_per_core: 0.0,
            },
            memory: MemoryStats {
                total_bytes: 1,
                used_bytes: 0,
                available_bytes: 1,
                used_percent: 0.0,
            },
            swap: SwapStats {
                total_bytes: 0,
                used_bytes: 0,
                used_percent: 0.0,
            },
            disks: Vec::new(),
            network: Vec::new(),
            processes: ProcessStats {
                total: 0,
                top_by_cpu: Vec::new(),
                top_by_memory: Vec::new(),
            },
            all_processes: Arc::new(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_snapshot_describes_this_host() {
        let monitor = HostMonitor::start(Duration::from_secs(60)).unwrap();
        let s = monitor.snapshot().await.unwrap();
        assert!(s.cpu.cores >= 1);
        assert_eq!(s.cpu.per_core_percent.len(), s.cpu.cores);
        assert!(s.memory.total_bytes > 0);
        assert!(s.memory.used_bytes <= s.memory.total_bytes);
        assert!(s.processes.total > 0);
        // This test process is alive, so it must be counted among the processes.
        assert!(!s.processes.top_by_memory.is_empty());
        assert!(s.disks.iter().all(|d| d.used_percent <= 100.0));
        assert!(monitor.age().is_some_and(|a| a < Duration::from_secs(60)));
    }
}
