//! What the live world remembers: its readings sampled every few seconds, and the changes it
//! saw (config files edited, deploys announced), kept in a book the binary provides (the
//! incident store) so that baselines, change points and postmortem charts survive a restart and
//! are shared by every server on one store.
//!
//! A live baseline has no scenario to tell it what normal is, so it is read off the history:
//! per signal, the value the signal held on its good side most of the time before the last
//! 20 seconds (the 25th percentile for signals that are worse when high, the 75th for those worse
//! when low). An incident that began minutes ago does not pull it along, as long as it covers
//! less than three quarters of the last hour.

use std::{collections::BTreeMap, fmt::Debug, time::Duration};

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};

use crate::{
    signals::{self, SignalKind},
    world::{SignalSeries, WorldEvent},
};

/// One sampled value of one signal of one service.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// When it was read.
    pub at: Timestamp,
    /// The service (`host` for the machine).
    pub service: String,
    /// The signal (`cpu_percent`, `probe_latency_ms`, …).
    pub signal: String,
    /// Its value.
    pub value: f64,
}

/// Where sampled history and seen changes are kept. The world crate does not know the store;
/// the binary implements this over it.
pub trait HistoryBook: Send + Sync + Debug {
    /// Keeps these samples, all or none.
    fn record(&self, samples: Vec<Sample>) -> BoxFuture<'_, Result<(), String>>;
    /// Samples from `from` (inclusive) to `to` (exclusive).
    fn samples(&self, from: Timestamp, to: Timestamp)
    -> BoxFuture<'_, Result<Vec<Sample>, String>>;
    /// Keeps a change seen on the system (`source` says who saw it: `file-watch`, `webhook`).
    fn record_change(&self, event: WorldEvent, source: &str) -> BoxFuture<'_, Result<(), String>>;
    /// Changes from `from` to `to`, oldest first.
    fn changes(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> BoxFuture<'_, Result<Vec<WorldEvent>, String>>;
}

/// How far back a baseline looks.
pub const BASELINE_LOOKBACK: SignedDuration = SignedDuration::from_hours(1);
/// The most recent stretch a baseline leaves out: the present is what it is compared with
/// (the quantile keeps a longer excursion out).
pub const BASELINE_GAP: SignedDuration = SignedDuration::from_secs(20);
/// Fewer earlier samples than this make no baseline.
const MIN_BASELINE_SAMPLES: usize = 3;

/// Whether a signal is worse when it falls (hit ratios, throughput, availability) rather than
/// when it rises.
fn worse_when_low(signal: &str) -> bool {
    matches!(
        signals::kind(signal),
        SignalKind::CacheHit | SignalKind::Throughput | SignalKind::Availability
    ) || (signals::kind(signal) == SignalKind::Disk && !signals::is_percent(signal))
        || signals::kind(signal) == SignalKind::CertExpiry
}

/// The baseline of one signal from its samples: see the module doc.
pub fn baseline(signal: &str, samples: &[(Timestamp, f64)], now: Timestamp) -> Option<f64> {
    let since = now - BASELINE_LOOKBACK;
    let until = now - BASELINE_GAP;
    let mut values: Vec<f64> = samples
        .iter()
        .filter(|(at, v)| *at >= since && *at < until && v.is_finite())
        .map(|(_, v)| *v)
        .collect();
    if values.len() < MIN_BASELINE_SAMPLES {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let q = if worse_when_low(signal) { 0.75 } else { 0.25 };
    let i = ((values.len() - 1) as f64 * q).round() as usize;
    Some(round3(values[i]))
}

/// Step index → (sum, count, highest) of the samples in it.
type Buckets = BTreeMap<i64, (f64, u32, f64)>;

/// How far back the readings of a bounded quantity are returned as read, not stepped: the
/// half minute the analysis calls "now".
const RECENT_AS_READ: SignedDuration = SignedDuration::from_secs(30);

/// Bucket keys from here on are readings kept as read (their offset from the window's start
/// in microseconds, plus this), ordered after every step.
const RECENT_KEY: i64 = 1 << 60;

/// Whether a step of `signal` is summed up by its highest sample rather than the mean: use of
/// a bound (memory, a pool, a disk) and deaths counted over a trailing window (restarts, OOM
/// kills). A process killed at its memory limit every few seconds is read at 100 % just after
/// a kill and at half just after its restart; the mean of the two says the limit was never
/// reached, which is false.
///
/// A quantity without a bound (a process's resident memory in MB) keeps its mean: a process
/// that starts adds its memory at once, and its highest reading would read as growth.
fn peak_of_step(signal: &str) -> bool {
    let bounded = match signals::kind(signal) {
        SignalKind::Restarts | SignalKind::PoolUsage => true,
        SignalKind::Memory | SignalKind::Disk => signals::is_percent(signal),
        _ => false,
    };
    bounded && !worse_when_low(signal)
}

/// Samples as series, one point per `step` (the mean of the samples in it), each with its
/// baseline as of `now`. `earlier` are the samples the baselines are read from (they may reach
/// further back than the window).
pub fn series(
    window: &[Sample],
    earlier: &[Sample],
    from: Timestamp,
    step: Duration,
    now: Timestamp,
) -> Vec<SignalSeries> {
    let step_us = (step.as_micros() as i64).max(1_000_000);
    let mut grouped: BTreeMap<(&str, &str), Buckets> = BTreeMap::new();
    let recent = now - RECENT_AS_READ;
    for s in window {
        // A bound reached in the last seconds is the present: its readings stay as they were
        // taken rather than fall into a step shared with the minutes before, so "now" is what
        // the latest readings say (keyed by their own time, which is past every earlier step).
        let bucket = if peak_of_step(&s.signal) && s.at >= recent && s.at > from {
            RECENT_KEY + (s.at.as_microsecond() - from.as_microsecond())
        } else {
            (s.at.as_microsecond() - from.as_microsecond()).div_euclid(step_us)
        };
        let slot = grouped
            .entry((s.service.as_str(), s.signal.as_str()))
            .or_default()
            .entry(bucket)
            .or_insert((0.0, 0, f64::NEG_INFINITY));
        slot.0 += s.value;
        slot.1 += 1;
        slot.2 = slot.2.max(s.value);
    }
    let mut past: BTreeMap<(&str, &str), Vec<(Timestamp, f64)>> = BTreeMap::new();
    for s in earlier {
        past.entry((s.service.as_str(), s.signal.as_str()))
            .or_default()
            .push((s.at, s.value));
    }
    grouped
        .into_iter()
        .map(|((service, signal), buckets)| SignalSeries {
            service: service.to_string(),
            signal: signal.to_string(),
            baseline: past
                .get(&(service, signal))
                .and_then(|p| baseline(signal, p, now)),
            points: buckets
                .into_iter()
                .filter_map(|(b, (sum, n, high))| {
                    let offset = if b >= RECENT_KEY {
                        b - RECENT_KEY
                    } else {
                        b * step_us
                    };
                    let at = Timestamp::from_microsecond(from.as_microsecond() + offset).ok()?;
                    let value = if peak_of_step(signal) {
                        high
                    } else {
                        sum / n as f64
                    };
                    Some((at, round3(value)))
                })
                .collect(),
        })
        .collect()
}

fn round3(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1000.0).round() / 1000.0
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn an_incident_in_progress_does_not_become_the_baseline() {
        // 40 minutes normal at ~20 ms, then 15 minutes at 900 ms.
        let mut points: Vec<(Timestamp, f64)> = (0..240)
            .map(|i| (at(i * 10), 20.0 + (i % 3) as f64))
            .collect();
        points.extend((240..330).map(|i| (at(i * 10), 900.0)));
        let now = at(3300);
        let b = baseline("probe_latency_ms", &points, now).unwrap();
        assert!((20.0..=22.0).contains(&b), "{b}");
        // A signal that is worse when low keeps its high normal.
        let up: Vec<(Timestamp, f64)> = (0..330)
            .map(|i| (at(i * 10), if i < 240 { 1.0 } else { 0.0 }))
            .collect();
        assert_eq!(baseline("up", &up, now), Some(1.0));
    }

    #[test]
    fn too_little_history_makes_no_baseline() {
        let points = vec![(at(0), 1.0), (at(10), 1.0)];
        assert_eq!(baseline("cpu_percent", &points, at(200)), None);
        // The last seconds are what is judged, not part of normal.
        let recent: Vec<_> = (0..4).map(|i| (at(i * 10), 5.0)).collect();
        assert_eq!(baseline("cpu_percent", &recent, at(35)), None);
        assert_eq!(baseline("cpu_percent", &recent, at(45)), Some(5.0));
    }

    #[test]
    fn samples_become_stepped_series_with_baselines() {
        let s = |secs: i64, v: f64| Sample {
            at: at(secs),
            service: "api".into(),
            signal: "cpu_percent".into(),
            value: v,
        };
        let window: Vec<Sample> = vec![s(0, 10.0), s(5, 20.0), s(10, 30.0), s(25, 50.0)];
        let earlier: Vec<Sample> = (0..10).map(|i| s(-600 + i * 10, 12.0)).collect();
        let out = series(&window, &earlier, at(0), Duration::from_secs(10), at(30));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].baseline, Some(12.0));
        assert_eq!(
            out[0].points,
            vec![(at(0), 15.0), (at(10), 30.0), (at(20), 50.0)]
        );
    }

    #[test]
    fn a_bound_reached_within_a_step_is_not_averaged_away() {
        let s = |secs: i64, signal: &str, v: f64| Sample {
            at: at(secs),
            service: "render".into(),
            signal: signal.into(),
            value: v,
        };
        // Just after a kill at the limit, then just after the restart.
        let window = vec![
            s(0, "memory_used_percent", 100.0),
            s(5, "memory_used_percent", 45.0),
            s(0, "oom_kills", 1.0),
            s(5, "oom_kills", 0.0),
            s(0, "probe_up", 1.0),
            s(5, "probe_up", 0.0),
            s(0, "memory_rss_mb", 20.0),
            s(5, "memory_rss_mb", 40.0),
        ];
        let points = |now: Timestamp, signal: &str| {
            series(&window, &[], at(0), Duration::from_secs(10), now)
                .into_iter()
                .find(|x| x.signal == signal)
                .map(|x| x.points)
                .unwrap_or_default()
        };
        let later = at(100);
        assert_eq!(points(later, "memory_used_percent"), vec![(at(0), 100.0)]);
        assert_eq!(points(later, "oom_kills"), vec![(at(0), 1.0)]);
        // What is worse when low keeps its mean, and so does a quantity without a bound.
        assert_eq!(points(later, "probe_up"), vec![(at(0), 0.5)]);
        assert_eq!(points(later, "memory_rss_mb"), vec![(at(0), 30.0)]);
        // In the last half minute, a bound's readings are the present as read.
        assert_eq!(
            points(at(10), "memory_used_percent"),
            vec![(at(0), 100.0), (at(5), 45.0)]
        );
        assert_eq!(points(at(10), "probe_up"), vec![(at(0), 0.5)]);
    }
}
