//! `get_system_metrics`: every watched service's signals beside their baselines, and on a live
//! system this host's vital signs; all of it by default, or the parts asked for.

use opsmcp_analysis::{Window, metrics::SeriesChange};
use opsmcp_mcp::Caller;
use opsmcp_world::{
    ServiceReadings,
    health::{Reading, significant},
    live::host::{
        CpuStats, DiskStats, InterfaceStats, LoadStats, MemoryStats, ProcessStats, SwapStats,
    },
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Monitoring;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Current system metrics: for every watched service its signals \
(request rate, latency p50/p99, error rate, CPU, memory and kind-specific ones such as DB \
connections, cache hit ratio, queue depth, disk, certificate days left) with their baseline and \
change; on a live system also this host's CPU (total and per core), load, memory, swap, disk per \
mount, network per interface and top processes. Call with no arguments for everything; pass \
`service`, `metrics` (signal names) and/or `sections` to get less. Pass `timeframe` (\"15m\", \
\"2h\", ISO \"start/end\") to also get, per signal, how it moved over that window: its \
reference, peak, whether it is out of range now and since when.";

/// A part of the host reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    /// Services' signals and baselines.
    Services,
    /// CPU use.
    Cpu,
    /// Load averages.
    Load,
    /// Memory.
    Memory,
    /// Swap.
    Swap,
    /// File systems.
    Disks,
    /// Network interfaces.
    Network,
    /// Processes.
    Processes,
}

/// Arguments; all optional.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// One service (see `services` in a full answer). All when omitted.
    #[serde(default)]
    pub service: Option<String>,
    /// Parts to return (services, cpu, load, memory, swap, disks, network, processes). All when
    /// omitted; the host parts exist only on a live system.
    #[serde(default)]
    pub sections: Option<Vec<Section>>,
    /// How many processes each top list holds, 1 to 10 (default 10).
    #[serde(default)]
    pub top_processes: Option<u32>,
    /// Only these signals (`error_rate`, `latency_p99_ms`, …). All when omitted.
    #[serde(default)]
    pub metrics: Option<Vec<String>>,
    /// Also judge each signal over this window (`15m`, `2h`, `last 30 minutes`, or an ISO-8601
    /// range `start/end`; at most 24 h): reference, peak, out of range now, since when.
    #[serde(default)]
    pub timeframe: Option<String>,
}

/// The reading; parts not asked for, or that this world does not have, are left out.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// One line for a human: how many services, and the readings furthest from normal.
    pub summary: String,
    /// `live` or `simulated`.
    pub source: &'static str,
    /// Host name (live) or scenario name (simulated).
    pub world: String,
    /// When the reading was taken (RFC 3339, UTC).
    pub sampled_at: String,
    /// Each service's signals with baseline and change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<ServiceReadings>>,
    /// With `timeframe`: the window judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// With `timeframe`: every signal over the window, out-of-range ones first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<SeriesChange>>,
    /// Seconds since boot (live).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime_s: Option<u64>,
    /// CPU use (live).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuStats>,
    /// Load averages (live).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadStats>,
    /// Memory (live).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryStats>,
    /// Swap (live).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swap: Option<SwapStats>,
    /// File systems (live).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disks: Option<Vec<DiskStats>>,
    /// Network interfaces (live).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<Vec<InterfaceStats>>,
    /// Processes (live).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processes: Option<ProcessStats>,
}

/// Reads the world and keeps what was asked for.
pub async fn run(ctx: &Monitoring, _caller: &Caller, args: Args) -> Result<Output, ToolError> {
    let world = ctx.world.as_ref();
    let top = match args.top_processes {
        None => 10,
        Some(n @ 1..=10) => n as usize,
        Some(n) => {
            return Err(ToolError::InvalidArgument {
                argument: "top_processes",
                problem: format!("{n} is out of range; send a number from 1 to 10"),
            });
        }
    };
    if matches!(&args.sections, Some(s) if s.is_empty()) {
        return Err(ToolError::InvalidArgument {
            argument: "sections",
            problem: "the list is empty; omit it for everything, or name sections such as \
                      [\"services\", \"cpu\"]"
                .into(),
        });
    }
    super::check_service(world, args.service.as_deref())?;
    let wants = |s: Section| args.sections.as_ref().is_none_or(|list| list.contains(&s));
    let info = world.info();
    let unavailable = |e: opsmcp_world::WorldError| ToolError::Unavailable(e.to_string());

    let wants_signal = |signal: &str| {
        args.metrics
            .as_ref()
            .is_none_or(|m| m.iter().any(|x| x == signal))
    };
    let services = if wants(Section::Services) {
        let mut all = world.readings().await.map_err(unavailable)?;
        if let Some(one) = &args.service {
            all.retain(|s| &s.service == one);
        }
        if let Some(wanted) = &args.metrics {
            let known: std::collections::BTreeSet<&str> = all
                .iter()
                .flat_map(|s| s.readings.iter().map(|r| r.signal.as_str()))
                .collect();
            if let Some(bad) = wanted.iter().find(|m| !known.contains(m.as_str())) {
                return Err(ToolError::InvalidArgument {
                    argument: "metrics",
                    problem: format!(
                        "no signal '{bad}' here; send some of: {}, or omit it for all",
                        known.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
            for s in &mut all {
                s.readings.retain(|r| wants_signal(&r.signal));
            }
        }
        Some(all)
    } else {
        None
    };
    let (window, changes) = match &args.timeframe {
        None => (None, None),
        Some(tf) => {
            let window = opsmcp_analysis::timeframe::parse(
                Some(tf),
                jiff::Timestamp::now(),
                opsmcp_analysis::timeframe::DEFAULT_WINDOW,
            )
            .map_err(|e| ToolError::InvalidArgument {
                argument: "timeframe",
                problem: e.to_string(),
            })?;
            let scan = opsmcp_analysis::metrics::scan(world, &window)
                .await
                .map_err(|e| ToolError::Unavailable(e.to_string()))?;
            let mut changes: Vec<SeriesChange> = scan
                .series
                .into_iter()
                .filter(|c| args.service.as_ref().is_none_or(|s| &c.service == s))
                .filter(|c| wants_signal(&c.signal))
                .collect();
            changes.sort_by(|a, b| {
                b.magnitude
                    .total_cmp(&a.magnitude)
                    .then_with(|| a.service.cmp(&b.service))
                    .then_with(|| a.signal.cmp(&b.signal))
            });
            (Some(window), Some(changes))
        }
    };
    // Host detail belongs to the host: leave it out when another service was asked for.
    let host_wanted = args.service.as_deref().is_none_or(|s| s == "host");
    let host = if host_wanted {
        world.host().await.map_err(unavailable)?
    } else {
        None
    };
    let part = |s: Section| host.as_ref().filter(|_| wants(s));
    Ok(Output {
        summary: summary(
            services.as_deref(),
            host.as_ref().map(|h| h.cpu.usage_percent),
        ),
        source: info.kind,
        world: info.name,
        sampled_at: host
            .as_ref()
            .map(|h| h.sampled_at.clone())
            .unwrap_or_else(|| jiff::Timestamp::now().to_string()),
        services,
        window,
        changes,
        uptime_s: host.as_ref().map(|h| h.uptime_s),
        cpu: part(Section::Cpu).map(|h| h.cpu.clone()),
        load: part(Section::Load).map(|h| h.load.clone()),
        memory: part(Section::Memory).map(|h| h.memory.clone()),
        swap: part(Section::Swap).map(|h| h.swap.clone()),
        disks: part(Section::Disks).map(|h| h.disks.clone()),
        network: part(Section::Network).map(|h| h.network.clone()),
        processes: part(Section::Processes).map(|h| {
            let mut p = h.processes.clone();
            p.top_by_cpu.truncate(top);
            p.top_by_memory.truncate(top);
            p
        }),
    })
}

/// Readings named in the summary, furthest from normal first.
const SUMMARY_READINGS: usize = 3;
/// A reading this far from its baseline (percent either way) is named in the summary.
const SUMMARY_CHANGE_PERCENT: f64 = 50.0;

/// How many services were read and which readings moved most from their baselines.
fn summary(services: Option<&[ServiceReadings]>, host_cpu: Option<f32>) -> String {
    let mut parts = Vec::new();
    if let Some(services) = services {
        let mut moved: Vec<(&str, &Reading, f64)> = services
            .iter()
            .flat_map(|s| {
                s.readings.iter().filter_map(move |r| {
                    let change = r.change_percent?;
                    (change.abs() >= SUMMARY_CHANGE_PERCENT).then_some((
                        s.service.as_str(),
                        r,
                        change,
                    ))
                })
            })
            .collect();
        moved.sort_by(|a, b| b.2.abs().total_cmp(&a.2.abs()));
        let named: Vec<String> = moved
            .iter()
            .take(SUMMARY_READINGS)
            .map(|(service, r, _)| {
                format!(
                    "{service} {} {} (normal {})",
                    r.signal,
                    significant(r.current, 4),
                    r.baseline
                        .map_or("?".into(), |b| significant(b, 4).to_string())
                )
            })
            .collect();
        parts.push(format!("{} service(s)", services.len()));
        parts.push(if named.is_empty() {
            "no reading far from its normal".to_string()
        } else {
            format!("furthest from normal: {}", named.join(", "))
        });
    }
    if let Some(cpu) = host_cpu {
        parts.push(format!("host CPU {cpu:.0}%"));
    }
    parts.join("; ")
}
