//! Verdicts: a reading against its thresholds, and services as the worst of their checks. The
//! same rules judge the live host and simulated services, so tools never see the difference.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::live::host::HostSnapshot;
use crate::signals::{self, SignalKind};

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
    /// It counts work queued while the service could not do it (a queue's depth, a
    /// consumer's lag): after a fix that drains at the consumers' pace, so it can stay out of
    /// range for a while after the service answers again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backlog: bool,
    /// It reads what callers feel — how fast and how well the service answers (latency,
    /// errors, availability, throughput, waiting for a pool) — not a resource or a warning of
    /// the service's own (a certificate's days left, a disk filling): a warning of that other
    /// kind, there before an action, need not heal for the action to count.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub felt: bool,
}

/// Whether a reading named `name` (its words, whatever exporter wrote it) is one callers feel:
/// see [`Check::felt`].
pub fn felt_by_callers(name: &str) -> bool {
    matches!(
        signals::kind(name),
        SignalKind::Latency
            | SignalKind::Errors
            | SignalKind::Availability
            | SignalKind::Throughput
            | SignalKind::PoolWaiting
    )
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

/// Which way a reading goes bad.
#[derive(Clone, Copy)]
enum Worse {
    /// Higher is worse (CPU, latency, error rate).
    Higher,
    /// Lower is worse (cache hit ratio, certificate days left).
    Lower,
}

impl Limit {
    /// This limit, in percent, for a service whose normal level is `baseline`: where it
    /// normally runs at or past the warning line (a broker's disk kept at 88 %), that line
    /// says nothing about today, so it moves halfway from its normal to the critical line,
    /// which stays. Where it normally runs past the critical line too (inodes kept at 98 %),
    /// both move into what is left above its normal: back at its normal is no alarm, full is.
    fn above_normal(self, baseline: Option<f64>) -> Self {
        match baseline {
            Some(b) if b >= self.warning && b < self.critical => Self {
                warning: (b + self.critical) / 2.0,
                critical: self.critical,
            },
            Some(b) if b >= self.critical && b < FULL => Self {
                warning: b + (FULL - b) / 3.0,
                critical: b + 2.0 * (FULL - b) / 3.0,
            },
            _ => self,
        }
    }

    /// The same for a reading where less is worse: a certificate that is always renewed
    /// with under two weeks left (a short-lived internal one) is not news at 12 days.
    fn below_normal(self, baseline: Option<f64>) -> Self {
        match baseline {
            Some(b) if b <= self.warning && b > self.critical => Self {
                warning: (b + self.critical) / 2.0,
                critical: self.critical,
            },
            _ => self,
        }
    }

    /// Judges a reading where more is worse: degraded at or above `warning`, unhealthy at or
    /// above `critical`.
    fn judge(&self, name: impl Into<String>, value: f64, unit: &str) -> Check {
        self.judge_towards(Worse::Higher, name.into(), value, unit)
    }

    /// Judges a reading where less is worse: degraded at or below `warning`, unhealthy at or
    /// below `critical`.
    fn judge_low(&self, name: impl Into<String>, value: f64, unit: &str) -> Check {
        self.judge_towards(Worse::Lower, name.into(), value, unit)
    }

    fn judge_towards(&self, worse: Worse, name: String, value: f64, unit: &str) -> Check {
        // As said to a person: a reading taken as `f32` (a CPU share) carries noise past its
        // seventh digit (`51.400001525878906`).
        let value = shown(value);
        let past = |level: f64| match worse {
            Worse::Higher => value >= level,
            Worse::Lower => value <= level,
        };
        let (side, safe) = match worse {
            Worse::Higher => ("above", "below"),
            Worse::Lower => ("below", "above"),
        };
        let (status, message) = if past(self.critical) {
            (
                Status::Unhealthy,
                format!(
                    "{name} {value}{unit} is at or {side} the critical level {}{unit}",
                    self.critical
                ),
            )
        } else if past(self.warning) {
            (
                Status::Degraded,
                format!(
                    "{name} {value}{unit} is at or {side} the warning level {}{unit}",
                    self.warning
                ),
            )
        } else {
            (
                Status::Healthy,
                format!("{name} {value}{unit} is {safe} {}{unit}", self.warning),
            )
        };
        Check {
            backlog: false,
            felt: felt_by_callers(&name),
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

/// `v` to six significant digits: what a reading means, without the noise of the float it was
/// carried in.
fn shown(v: f64) -> f64 {
    significant(v, 6)
}

/// `v` rounded to `digits` significant digits, for showing a reading to a human.
pub fn significant(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(digits - 1 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
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

/// One signal of a service now, beside its normal value.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Reading {
    /// Signal name (`error_rate`, `latency_p99_ms`, `db_connections_in_use` …).
    pub signal: String,
    /// Its value now.
    pub current: f64,
    /// Its normal value, when known.
    pub baseline: Option<f64>,
    /// Change from the baseline, percent.
    pub change_percent: Option<f64>,
}

impl Reading {
    /// A reading with its change from `baseline` worked out.
    pub fn new(signal: impl Into<String>, current: f64, baseline: Option<f64>) -> Self {
        let change_percent = baseline
            .filter(|b| *b > 0.0)
            .map(|b| ((current - b) / b * 1000.0).round() / 10.0);
        Self {
            signal: signal.into(),
            current,
            baseline,
            change_percent,
        }
    }
}

/// A service judged from its readings: thresholds from the config for saturation signals
/// (CPU, memory, disk), and multiples of the baseline for the rest — what is abnormal for
/// this service, not for services in general.
pub fn judge_readings(
    service: &str,
    readings: &[Reading],
    thresholds: &Thresholds,
) -> ServiceHealth {
    let names: Vec<&str> = readings.iter().map(|r| r.signal.as_str()).collect();
    let get = |name: &str| readings.iter().find(|r| r.signal == name);
    let mut checks = Vec::new();
    for r in readings {
        let b = r.baseline;
        let kind = signals::kind(&r.signal);
        let words = || r.signal.replace('_', " ");
        // Judged by what the signal measures, whatever exporter named it.
        let check = match (kind, b) {
            (SignalKind::Errors, b) if signals::is_error_share(&r.signal) => {
                // A success share is judged by what it is missing.
                let success = signals::is_success_share(&r.signal);
                let failing = |v: f64| {
                    if success {
                        signals::failing_fraction(&r.signal, v)
                    } else {
                        v
                    }
                };
                let b = b.map(failing).unwrap_or(0.001);
                let current = failing(r.current);
                let label = if r.signal == "error_rate" {
                    "error rate".to_string()
                } else if success {
                    format!("failures (what {} is missing)", words())
                } else {
                    words()
                };
                Some(
                    Limit {
                        warning: (3.0 * b).max(b + 0.01),
                        critical: (10.0 * b).max(0.05),
                    }
                    .judge(label, current, ""),
                )
            }
            // Failures counted per second (handshakes refused, requests rejected): judged by
            // how many times their usual they are, far enough that traffic alone does not
            // get there. A counter (`…_total`) only ever climbs: it says nothing as it stands.
            (SignalKind::Errors, Some(b)) if b > 0.0 && !signals::is_counter(&r.signal) => Some(
                Limit {
                    warning: ERRORS_WARNING * b,
                    critical: ERRORS_CRITICAL * b,
                }
                .judge(words(), r.current, ""),
            ),
            (SignalKind::Latency, Some(b)) if b > 0.0 => Some(
                Limit {
                    warning: 2.0 * b,
                    critical: 5.0 * b,
                }
                .judge(words(), r.current, ""),
            ),
            (SignalKind::Throughput, Some(b)) if b > 0.0 && r.signal.contains("request") => Some(
                Limit {
                    warning: 0.5 * b,
                    critical: 0.2 * b,
                }
                .judge_low(words(), r.current, "/s"),
            ),
            (SignalKind::Backlog, Some(b)) if b > 0.0 => Some(Check {
                backlog: true,
                ..Limit {
                    warning: 5.0 * b,
                    critical: 20.0 * b,
                }
                .judge(words(), r.current, "")
            }),
            (SignalKind::CacheHit, Some(b)) => Some(
                Limit {
                    warning: 0.8 * b,
                    critical: 0.5 * b,
                }
                .judge_low(words(), r.current, ""),
            ),
            // 1 once expired (x509-certificate-exporter's `x509_cert_expired`).
            (SignalKind::CertExpiry, _) if signals::is_expired_flag(&r.signal) => Some(
                Limit {
                    warning: 0.5,
                    critical: 0.5,
                }
                .judge("certificate expired", r.current, ""),
            ),
            (SignalKind::CertExpiry, b) => Some(
                Limit {
                    warning: 14.0,
                    critical: 1.0,
                }
                .below_normal(b)
                .judge_low("certificate days left", r.current, ""),
            ),
            // Present at all: none left is an outage, fewer than usual a loss.
            (SignalKind::Availability, b) => {
                let normal = b.unwrap_or(1.0).max(f64::MIN_POSITIVE);
                Some(
                    Limit {
                        warning: normal * 0.999,
                        critical: 0.0,
                    }
                    .judge_low(words(), r.current, ""),
                )
            }
            (SignalKind::Cpu, _) if signals::is_percent(&r.signal) => Some(
                thresholds
                    .cpu_percent
                    .above_normal(b)
                    .judge(check_name(&r.signal), r.current, "%"),
            ),
            (SignalKind::Memory, _) if signals::is_percent(&r.signal) => {
                Some(thresholds.memory_percent.above_normal(b).judge(
                    check_name(&r.signal),
                    r.current,
                    "%",
                ))
            }
            (SignalKind::Disk, _) if signals::is_percent(&r.signal) => {
                Some(thresholds.disk_percent.above_normal(b).judge(
                    check_name(&r.signal),
                    r.current,
                    "%",
                ))
            }
            (SignalKind::PoolUsage, _) => signals::limit_for(&r.signal, names.iter().copied())
                .and_then(get)
                // A bound the signal's normal value exceeds is not its bound.
                .filter(|max| max.current > 0.0 && b.is_none_or(|b| b <= max.current))
                // A count that normally sits at its bound (the threads a pool has made, not
                // those busy) says nothing at its bound.
                .filter(|max| b.is_none_or(|b| b / max.current * 100.0 < POOL_CRITICAL))
                .map(|max| {
                    let used = (r.current / max.current * 1000.0).round() / 10.0;
                    let what = if r.signal == "db_connections_in_use" {
                        check_name(&r.signal)
                    } else {
                        format!("{} used", words())
                    };
                    Limit {
                        warning: 85.0,
                        critical: POOL_CRITICAL,
                    }
                    .above_normal(b.map(|b| b / max.current * 100.0))
                    .judge(what, used, "%")
                }),
            _ => None,
        };
        checks.extend(check);
    }
    ServiceHealth::new(service, checks)
}

/// A percentage used that leaves nothing.
const FULL: f64 = 100.0;

/// Failures counted per second at this many times their usual are a warning…
const ERRORS_WARNING: f64 = 10.0;
/// … and at this many, critical.
const ERRORS_CRITICAL: f64 = 100.0;

/// A pool this full (in %) is exhausted.
const POOL_CRITICAL: f64 = 95.0;

/// What the check of `signal` is called where a verdict's message begins (`cpu 91.9% is at
/// or above the warning level 85%`): the common percentages by what they measure, any other
/// signal by its words.
pub fn check_name(signal: &str) -> String {
    match signal {
        "cpu_percent" => "cpu".into(),
        "memory_percent" => "memory".into(),
        "disk_percent" | "disk_used_percent" => "disk".into(),
        "db_connections_in_use" => "db connections used".into(),
        _ => signal.replace('_', " "),
    }
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
    fn a_reading_carried_as_f32_is_said_without_its_noise() {
        let l = Limit {
            warning: 85.0,
            critical: 95.0,
        };
        let c = l.judge("cpu", 51.4f32 as f64, "%");
        assert_eq!(c.message, "cpu 51.4% is below 85%");
        assert_eq!(c.value, 51.4);
        let c = l.judge("cpu", 98.8f32 as f64, "%");
        assert!(
            c.message.starts_with("cpu 98.8% is at or above"),
            "{}",
            c.message
        );
        // Small shares keep their digits.
        assert_eq!(shown(0.0177), 0.0177);
        assert_eq!(shown(2136.5), 2136.5);
    }

    #[test]
    fn a_backlog_check_says_so_whatever_the_exporter_calls_it() {
        let backlog = |signal: &str| {
            let r = [Reading::new(signal, 50.0, Some(1.0))];
            judge_readings("svc", &r, &Thresholds::default()).checks[0].backlog
        };
        for name in ["queue_depth", "kafka_consumergroup_lag", "messages_ready"] {
            assert!(backlog(name), "{name}");
        }
        for name in ["error_rate", "latency_p99_ms", "cpu_percent"] {
            assert!(!backlog(name), "{name}");
        }
    }

    #[test]
    fn a_service_normally_past_the_critical_line_is_judged_by_what_is_left_above_it() {
        let status = |now: f64| {
            let r = [Reading::new("inodes_used_percent", now, Some(97.8))];
            judge_readings("portal", &r, &Thresholds::default()).checks[0].status
        };
        assert_eq!(status(97.8), Status::Healthy);
        assert_eq!(status(100.0), Status::Unhealthy);
    }

    #[test]
    fn failures_counted_per_second_are_judged_by_their_multiple_of_usual() {
        let status = |signal: &str, now: f64| {
            let r = [Reading::new(signal, now, Some(0.05))];
            judge_readings("lb", &r, &Thresholds::default())
                .checks
                .first()
                .map(|c| c.status)
        };
        assert_eq!(
            status("nginx_ssl_handshake_errors_per_s", 210.0),
            Some(Status::Unhealthy)
        );
        assert_eq!(
            status("nginx_ssl_handshake_errors_per_s", 0.6),
            Some(Status::Degraded)
        );
        assert_eq!(
            status("nginx_ssl_handshake_errors_per_s", 0.2),
            Some(Status::Healthy)
        );
        // A counter climbs forever: no check.
        assert_eq!(status("http_requests_failed_total", 210.0), None);
    }

    #[test]
    fn readings_are_judged_against_their_own_baseline() {
        let readings = [
            Reading::new("latency_p99_ms", 900.0, Some(180.0)),
            Reading::new("error_rate", 0.002, Some(0.002)),
            Reading::new("db_connections_in_use", 49.0, Some(38.0)),
            Reading::new("db_connections_max", 50.0, Some(50.0)),
            Reading::new("cert_days_left", 30.0, Some(30.0)),
        ];
        let h = judge_readings("db", &readings, &Thresholds::default());
        let status = |name: &str| h.checks.iter().find(|c| c.name == name).unwrap().status;
        assert_eq!(status("latency p99 ms"), Status::Unhealthy);
        assert_eq!(status("error rate"), Status::Healthy);
        assert_eq!(status("db connections used"), Status::Unhealthy);
        assert_eq!(status("certificate days left"), Status::Healthy);
        assert_eq!(h.status, Status::Unhealthy);
        assert_eq!(readings[0].change_percent, Some(400.0));
    }

    #[test]
    fn a_pool_count_that_always_sits_at_its_bound_is_no_alarm_there() {
        // The threads a pool has made fill it at rest; the busy ones are what run out.
        let readings = [
            Reading::new("tomcat_threads_current_threads", 50.0, Some(50.0)),
            Reading::new("tomcat_threads_busy_threads", 50.0, Some(21.0)),
            Reading::new("tomcat_threads_config_max_threads", 50.0, Some(50.0)),
        ];
        let h = judge_readings("api", &readings, &Thresholds::default());
        let unhealthy: Vec<&str> = h
            .checks
            .iter()
            .filter(|c| c.status == Status::Unhealthy)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(unhealthy, ["tomcat threads busy threads used"], "{h:?}");
        let calm = [
            Reading::new("tomcat_threads_current_threads", 50.0, Some(50.0)),
            Reading::new("tomcat_threads_busy_threads", 20.0, Some(21.0)),
            Reading::new("tomcat_threads_config_max_threads", 50.0, Some(50.0)),
        ];
        assert_eq!(
            judge_readings("api", &calm, &Thresholds::default()).status,
            Status::Healthy
        );
    }

    #[test]
    fn a_saturation_line_below_a_services_normal_moves_above_it() {
        // A disk that always runs at 88 % is not degraded at 88 %, only past its own normal;
        // critical is critical whatever the normal.
        let judge = |current: f64, baseline: f64| {
            let r = [Reading::new("disk_used_percent", current, Some(baseline))];
            judge_readings("broker", &r, &Thresholds::default()).status
        };
        assert_eq!(judge(89.0, 88.0), Status::Healthy);
        assert_eq!(judge(92.0, 88.0), Status::Degraded);
        assert_eq!(judge(96.0, 88.0), Status::Unhealthy);
        assert_eq!(judge(86.0, 40.0), Status::Degraded);
    }

    #[test]
    fn a_short_lived_certificate_is_not_news_at_its_usual_days_left() {
        // Renewed weekly, it always has under the two weeks that warn for a yearly one.
        let judge = |current: f64, baseline: f64| {
            let r = [Reading::new(
                "tls_client_cert_days_remaining",
                current,
                Some(baseline),
            )];
            judge_readings("svc", &r, &Thresholds::default()).status
        };
        assert_eq!(judge(12.0, 12.0), Status::Healthy);
        assert_eq!(judge(5.0, 12.0), Status::Degraded);
        assert_eq!(judge(0.5, 12.0), Status::Unhealthy);
        assert_eq!(judge(12.0, 60.0), Status::Degraded);
    }

    #[test]
    fn the_whole_beside_the_busy_part_bounds_it() {
        let readings = [
            Reading::new("uwsgi_workers_busy", 12.0, Some(7.0)),
            Reading::new("uwsgi_workers_total", 12.0, Some(12.0)),
        ];
        let h = judge_readings("web", &readings, &Thresholds::default());
        assert_eq!(h.status, Status::Unhealthy, "{:?}", h.checks);
        assert!(h.checks.iter().all(|c| !c.name.contains("total")));
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
