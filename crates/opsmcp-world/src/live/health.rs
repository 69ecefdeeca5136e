//! Verdicts: a reading against its thresholds, and services as the worst of their checks.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::host::HostSnapshot;

/// Healthy, degraded (a warning threshold crossed) or unhealthy (a critical one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Within bounds.
    Healthy,
    /// Over a warning threshold, or slow.
    Degraded,
    /// Over a critical threshold, or down.
    Unhealthy,
}

/// One judged reading, with the numbers behind the verdict.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Check {
    /// What was checked (`cpu`, `disk /var`, `http http://…`).
    pub name: String,
    /// The verdict.
    pub status: Status,
    /// The reading.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// Degraded at or above this.
    pub warning_at: Option<f64>,
    /// Unhealthy at or above this.
    pub critical_at: Option<f64>,
    /// The verdict in words.
    pub message: String,
}

/// A service and its checks; its status is the worst of them.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceHealth {
    /// Service name (`host` for this machine).
    pub service: String,
    /// Worst status among the checks.
    pub status: Status,
    /// The checks.
    pub checks: Vec<Check>,
}

impl ServiceHealth {
    /// A service judged by its checks.
    pub fn new(service: impl Into<String>, checks: Vec<Check>) -> Self {
        let status = checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(Status::Healthy);
        Self {
            service: service.into(),
            status,
            checks,
        }
    }
}

/// Warning and critical levels for one reading.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Degraded at or above.
    pub warning: f64,
    /// Unhealthy at or above.
    pub critical: f64,
}

/// Host thresholds (`[thresholds]` in the config). The defaults are the usual on-call pages.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// CPU use, percent.
    pub cpu_percent: Limit,
    /// Memory in use, percent.
    pub memory_percent: Limit,
    /// Swap in use, percent.
    pub swap_percent: Limit,
    /// Any file system's used share, percent.
    pub disk_percent: Limit,
    /// 1-minute load per core.
    pub load_per_core: Limit,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            cpu_percent: Limit {
                warning: 85.0,
                critical: 95.0,
            },
            memory_percent: Limit {
                warning: 85.0,
                critical: 95.0,
            },
            swap_percent: Limit {
                warning: 50.0,
                critical: 80.0,
            },
            disk_percent: Limit {
                warning: 85.0,
                critical: 95.0,
            },
            load_per_core: Limit {
                warning: 1.5,
                critical: 3.0,
            },
        }
    }
}

impl Limit {
    fn judge(&self, name: impl Into<String>, value: f64, unit: &str) -> Check {
        let name = name.into();
        let status = if value >= self.critical {
            Status::Unhealthy
        } else if value >= self.warning {
            Status::Degraded
        } else {
            Status::Healthy
        };
        let message = match status {
            Status::Healthy => format!("{name} {value}{unit} is below {}{unit}", self.warning),
            Status::Degraded => format!(
                "{name} {value}{unit} is at or above the warning level {}{unit}",
                self.warning
            ),
            Status::Unhealthy => format!(
                "{name} {value}{unit} is at or above the critical level {}{unit}",
                self.critical
            ),
        };
        Check {
            name,
            status,
            value,
            unit: unit.into(),
            warning_at: Some(self.warning),
            critical_at: Some(self.critical),
            message,
        }
    }
}

/// This host judged against `thresholds`, as the service `host`.
pub fn judge_host(snapshot: &HostSnapshot, thresholds: &Thresholds) -> ServiceHealth {
    let mut checks = vec![
        thresholds
            .cpu_percent
            .judge("cpu", snapshot.cpu.usage_percent as f64, "%"),
        thresholds
            .memory_percent
            .judge("memory", snapshot.memory.used_percent, "%"),
        thresholds
            .load_per_core
            .judge("load per core", snapshot.load.one_per_core, ""),
    ];
    if snapshot.swap.total_bytes > 0 {
        checks.push(
            thresholds
                .swap_percent
                .judge("swap", snapshot.swap.used_percent, "%"),
        );
    }
    for disk in snapshot
        .disks
        .iter()
        .filter(|d| !d.read_only && d.total_bytes > 0)
    {
        checks.push(thresholds.disk_percent.judge(
            format!("disk {}", disk.mount_point),
            disk.used_percent,
            "%",
        ));
    }
    ServiceHealth::new("host", checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_judge_at_their_edges() {
        let l = Limit {
            warning: 80.0,
            critical: 90.0,
        };
        assert_eq!(l.judge("x", 79.9, "%").status, Status::Healthy);
        assert_eq!(l.judge("x", 80.0, "%").status, Status::Degraded);
        assert_eq!(l.judge("x", 95.0, "%").status, Status::Unhealthy);
    }

    #[test]
    fn a_service_is_as_sick_as_its_worst_check() {
        let l = Limit {
            warning: 80.0,
            critical: 90.0,
        };
        let s = ServiceHealth::new("api", vec![l.judge("a", 10.0, ""), l.judge("b", 85.0, "")]);
        assert_eq!(s.status, Status::Degraded);
        assert_eq!(ServiceHealth::new("idle", vec![]).status, Status::Healthy);
    }
}
