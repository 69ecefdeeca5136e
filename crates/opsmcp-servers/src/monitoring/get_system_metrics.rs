//! `get_system_metrics`: this host's vital signs, all of them by default, or the sections asked
//! for.

use opsmcp_world::live::host::{
    CpuStats, DiskStats, InterfaceStats, LoadStats, MemoryStats, ProcessStats, SwapStats,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Monitoring;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Current system metrics of the monitored host: CPU (total and per \
core), load averages, memory, swap, disk use per mount, network throughput per interface, and the \
top processes by CPU and memory. Call with no arguments for everything; pass `sections` to get \
less.";

/// A part of the reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Section {
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
    /// Sections to return (cpu, load, memory, swap, disks, network, processes). All when omitted.
    #[serde(default)]
    pub sections: Option<Vec<Section>>,
    /// How many processes each top list holds, 1 to 10 (default 10).
    #[serde(default)]
    pub top_processes: Option<u32>,
}

/// The reading; sections not asked for are left out.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Where the numbers come from.
    pub source: &'static str,
    /// Host name.
    pub host: String,
    /// When the reading was taken (RFC 3339, UTC).
    pub sampled_at: String,
    /// Seconds since boot.
    pub uptime_s: u64,
    /// CPU use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuStats>,
    /// Load averages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadStats>,
    /// Memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryStats>,
    /// Swap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swap: Option<SwapStats>,
    /// File systems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disks: Option<Vec<DiskStats>>,
    /// Network interfaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<Vec<InterfaceStats>>,
    /// Processes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processes: Option<ProcessStats>,
}

/// Reads the latest host snapshot and keeps what was asked for.
pub async fn run(world: &Monitoring, args: Args) -> Result<Output, ToolError> {
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
                      [\"cpu\", \"memory\"]"
                .into(),
        });
    }
    let wants = |s: Section| args.sections.as_ref().is_none_or(|list| list.contains(&s));
    let snap = world
        .host
        .snapshot()
        .await
        .map_err(|e| ToolError::Unavailable(e.to_string()))?;
    Ok(Output {
        source: "host",
        host: snap.hostname.clone(),
        sampled_at: snap.sampled_at.clone(),
        uptime_s: snap.uptime_s,
        cpu: wants(Section::Cpu).then(|| snap.cpu.clone()),
        load: wants(Section::Load).then(|| snap.load.clone()),
        memory: wants(Section::Memory).then(|| snap.memory.clone()),
        swap: wants(Section::Swap).then(|| snap.swap.clone()),
        disks: wants(Section::Disks).then(|| snap.disks.clone()),
        network: wants(Section::Network).then(|| snap.network.clone()),
        processes: wants(Section::Processes).then(|| {
            let mut p = snap.processes.clone();
            p.top_by_cpu.truncate(top);
            p.top_by_memory.truncate(top);
            p
        }),
    })
}
