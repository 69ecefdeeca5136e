//! Change points: where each service's signals left their normal range in a window, and whether
//! they are still out of it.
//!
//! The reference is the world's own baseline for the signal when it has one, and otherwise the
//! median of the window before (robust to a short spike there). A point is out of range when it
//! crosses a threshold made for the kind of signal — a ratio for latencies and rates, points for
//! percentages, an absolute rise for error rates, a limit for pools, disks and certificates —
//! because one relative threshold fits none of them (an error rate of 0.002 doubling is noise; a
//! pool going from 38 to 50 of 50 is an outage). The onset is the first point of the run that
//! reaches the end of the window, so a red herring that came and went is told apart from a
//! fault that is still there.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use opsmcp_world::{SignalSeries, World};
use serde::Serialize;

use crate::{
    AnalysisError, Window,
    signals::{self, SignalKind},
};

/// One signal of one service over the window, judged against its normal value.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq)]
pub struct SeriesChange {
    /// The service.
    pub service: String,
    /// The signal.
    pub signal: String,
    /// Its normal value.
    pub reference: f64,
    /// Where the normal value comes from: `baseline` (the world's) or `before-window` (median
    /// of the preceding window).
    pub reference_source: &'static str,
    /// Its value now (median of the last points, so one noisy sample does not decide).
    pub current: f64,
    /// Change of `current` from `reference`, percent (absent when the reference is 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_percent: Option<f64>,
    /// The most abnormal value in the window, and when.
    pub peak: f64,
    /// When the peak was.
    #[schemars(with = "String")]
    pub peak_at: Timestamp,
    /// Out of its normal range now.
    pub anomalous_now: bool,
    /// When the current excursion began (only when anomalous now).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub onset: Option<Timestamp>,
    /// First and last out-of-range points within the window, for excursions that ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<(String, String)>")]
    pub excursion: Option<(Timestamp, Timestamp)>,
    /// How far out of range `current` is, on a log-like scale (0 = normal, 1 = clearly off,
    /// 3+ = far off); comparable across signals.
    pub magnitude: f64,
    /// A hard limit reached (`pool at its maximum 50`, `disk full`, `certificate expired`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// At a limit that was resized within the history (by a tenth or more): what the limit
    /// was before. A pool cut from 20 to 8 and full at 8 reads `limit` "8 in use of a maximum
    /// of 8" and `resized_from` 20.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resized_from: Option<f64>,
    /// Since its onset, the last time it went a tenth further out than ever before: a series
    /// still getting worse (a leak's ramp) rather than holding level. Noise never does that
    /// again and again.
    #[serde(skip)]
    #[schemars(skip)]
    pub worsening_until: Option<Timestamp>,
}

/// Every series of a window.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MetricScan {
    /// The window judged.
    pub window: Window,
    /// Seconds between points.
    pub step_s: u64,
    /// Each series; signals that are configured limits (`*_max`) are left out.
    pub series: Vec<SeriesChange>,
}

impl MetricScan {
    /// The series of one service and signal.
    pub fn get(&self, service: &str, signal: &str) -> Option<&SeriesChange> {
        self.series
            .iter()
            .find(|s| s.service == service && s.signal == signal)
    }
}

/// Reads the world's history for `window` (and the window before, for reference) and judges
/// every series.
pub async fn scan(world: &dyn World, window: &Window) -> Result<MetricScan, AnalysisError> {
    let before = window.before(SignedDuration::from_mins(10));
    let step_s = step_for(window.length());
    let history = world
        .history(before.from, window.to, Duration::from_secs(step_s))
        .await?;
    let mut series = judge_all(&history, window);
    // A series out of range from the first point read has an onset we did not see: it lies
    // further back (a job that began hours before anyone was paged). Read further back, once
    // and coarser, for those whose normal is known — a reference taken from the points before
    // the window would be the trouble itself.
    let unseen_onset = |c: &SeriesChange| {
        c.anomalous_now
            && history.iter().any(|s| {
                s.service == c.service
                    && s.signal == c.signal
                    && s.baseline.is_some()
                    && s.points.first().map(|p| p.0) == c.onset
            })
    };
    if series.iter().any(unseen_onset) {
        let from = window.from - ONSET_LOOKBACK;
        let long_step = step_for(window.to.duration_since(from));
        let longer = world
            .history(from, window.to, Duration::from_secs(long_step))
            .await?;
        let further = judge_all(&longer, window);
        for c in series.iter_mut().filter(|c| unseen_onset(c)) {
            if let Some(l) = further
                .iter()
                .find(|l| l.service == c.service && l.signal == c.signal && l.anomalous_now)
                .filter(|l| {
                    l.onset
                        .is_some_and(|o| c.onset.is_some_and(|seen| o < seen))
                })
            {
                c.onset = l.onset;
                // How long it kept getting worse is counted from that onset too: hours of a
                // slow climb are no news within the last half hour alone.
                c.worsening_until = c.worsening_until.max(l.worsening_until);
            }
        }
    }
    Ok(MetricScan {
        window: *window,
        step_s,
        series,
    })
}

/// Seconds between points for a span: about 120 points, on the 10 s grid scrapes use.
fn step_for(span: SignedDuration) -> u64 {
    let len = span.as_secs().max(60) as u64;
    (len / 120).div_ceil(10).max(1) * 10
}

/// How far back an onset that precedes everything read is looked for.
const ONSET_LOOKBACK: SignedDuration = SignedDuration::from_hours(6);

/// Every series of `history` judged against `window`.
fn judge_all(history: &[SignalSeries], window: &Window) -> Vec<SeriesChange> {
    // Configured bounds (`…_max`, `…_limit`, `maxclients`) judge the pool or disk they bound;
    // they are not judged themselves.
    let bound = |s: &SignalSeries| {
        signals::kind(&s.signal) == SignalKind::Limit
            || signals::is_whole_of_a_pool(
                &s.signal,
                history
                    .iter()
                    .filter(|x| x.service == s.service)
                    .map(|x| x.signal.as_str()),
            )
    };
    // Each bound as it stood over time: a pool resized by a change is judged against the
    // size it had at each point, and its normal fill against the size it had before.
    let maxima: Vec<(&str, &str, Limit<'_>)> = history
        .iter()
        .filter(|s| bound(s))
        .filter_map(|s| Limit::of(s, window).map(|l| (s.service.as_str(), s.signal.as_str(), l)))
        .collect();
    history
        .iter()
        .filter(|s| !bound(s) && !s.points.is_empty())
        .filter_map(|s| {
            let own = || maxima.iter().filter(|m| m.0 == s.service);
            let found = |name: Option<&str>| {
                own()
                    .find(|m| Some(m.1) == name)
                    .map(|m| m.2)
                    // A bound the signal's normal value exceeds is not its bound.
                    .filter(|m| s.baseline.is_none_or(|b| b <= m.before))
            };
            let limit = match signals::kind(&s.signal) {
                SignalKind::PoolUsage | SignalKind::Disk if signals::is_percent(&s.signal) => {
                    Some(Limit::fixed(100.0))
                }
                SignalKind::PoolUsage | SignalKind::Disk => {
                    found(signals::limit_for(&s.signal, own().map(|m| m.1)))
                }
                SignalKind::Other => found(signals::own_bound(&s.signal, own().map(|m| m.1))),
                _ => None,
            };
            judge_series(s, window, limit)
        })
        .collect()
}

/// How far back "now" reaches, seconds.
const NOW_SPAN_S: f64 = 30.0;
/// "Now" for a level that moves slowly (how full a disk is).
const LEVEL_SPAN_S: f64 = 300.0;

/// One `(time, value)` of a series.
type Point = (Timestamp, f64);

/// A configured bound over time: its points, and what it was before the window.
#[derive(Debug, Clone, Copy)]
struct Limit<'a> {
    points: &'a [Point],
    before: f64,
}

impl<'a> Limit<'a> {
    fn fixed(m: f64) -> Self {
        Limit {
            points: &[],
            before: m,
        }
    }

    /// The bound's series judged as a bound: its baseline (or its median before the window,
    /// or over all of it) is what it was before.
    fn of(s: &'a SignalSeries, window: &Window) -> Option<Limit<'a>> {
        let pre: Vec<f64> = s
            .points
            .iter()
            .filter(|p| p.0 < window.from)
            .map(|p| p.1)
            .collect();
        let before = s
            .baseline
            .or_else(|| median(pre))
            .or_else(|| median(s.points.iter().map(|p| p.1).collect()))?;
        Some(Limit {
            points: &s.points,
            before,
        })
    }

    /// The bound at `t`: the median of its last three points at or before `t` (a bound is
    /// set, so jitter in how it is reported must not move it), or before the first one.
    fn at(&self, t: Timestamp) -> Bound {
        let upto = self.points.partition_point(|p| p.0 <= t);
        // Called for every point of a bounded series: the median of three without allocating.
        let now = match &self.points[upto.saturating_sub(3)..upto] {
            [] => self.before,
            [a] => a.1,
            [a, b] => (a.1 + b.1) / 2.0,
            [a, b, c, ..] => a.1.max(b.1).min(a.1.min(b.1).max(c.1)),
        };
        Bound {
            now,
            before: self.before,
        }
    }
}

fn judge_series(s: &SignalSeries, window: &Window, max: Option<Limit<'_>>) -> Option<SeriesChange> {
    let (pre, within): (Vec<&Point>, Vec<&Point>) =
        s.points.iter().partition(|p| p.0 < window.from);
    if within.is_empty() {
        return None;
    }
    let pre_median = median(pre.iter().map(|p| p.1).collect());
    let (reference, reference_source) = match (s.baseline, pre_median) {
        (Some(b), _) => (b, "baseline"),
        (None, Some(m)) => (m, "before-window"),
        (None, None) => (median(within.iter().map(|p| p.1).collect())?, "window"),
    };
    // The last half minute (at least two points): long enough that noise does not
    // decide, short enough that an outage of a minute is "now" whatever the window's length.
    let step = match within.as_slice() {
        [a, b, ..] => b.0.duration_since(a.0).as_secs_f64().max(1.0),
        _ => NOW_SPAN_S,
    };
    // Whether something is there at all is read off the latest point (already a mean over
    // its step): a service that stopped answering is down now, not in half a minute.
    let kind = signals::kind(&s.signal);
    let tail = match kind {
        SignalKind::Availability => 1,
        // A fill level moves slowly and is judged near a line (95 % full): over a longer
        // span, so jitter around the line does not make it come and go.
        SignalKind::Disk => ((LEVEL_SPAN_S / step).ceil() as usize).max(2),
        _ => ((NOW_SPAN_S / step).ceil() as usize).max(2),
    }
    .min(within.len());
    // A level is read as the mean of its span: it does not spike, and its jitter averages
    // out; a rate's median ignores a burst.
    let level = |span: &[Point]| {
        (!span.is_empty()).then(|| span.iter().map(|p| p.1).sum::<f64>() / span.len() as f64)
    };
    let current = if kind == SignalKind::Disk {
        level(&s.points[s.points.len() - tail..])?
    } else {
        median(within[within.len() - tail..].iter().map(|p| p.1).collect())?
    };
    let judge_at = |t: Timestamp, v: f64| deviation(&s.signal, v, reference, max.map(|m| m.at(t)));
    let last = s.points.last()?.0;
    let judge = |v: f64| judge_at(last, v);
    let (now_out, magnitude, limit) = judge(current);
    // Each point judged as "now" is: a level by the span ending there.
    let flags: Vec<bool> = if kind == SignalKind::Disk {
        (0..s.points.len())
            .map(|i| {
                level(&s.points[(i + 1).saturating_sub(tail)..=i])
                    .is_some_and(|v| judge_at(s.points[i].0, v).0)
            })
            .collect()
    } else {
        s.points.iter().map(|p| judge_at(p.0, p.1).0).collect()
    };
    // The run reaching the end, tolerating one in-range point (noise at the threshold).
    let onset = now_out
        .then(|| {
            let mut start = None;
            let mut gap = 0;
            for (i, out) in flags.iter().enumerate().rev() {
                if *out {
                    start = Some(i);
                    gap = 0;
                } else {
                    gap += 1;
                    if gap >= 2 {
                        break;
                    }
                }
            }
            start.map(|i| s.points[i].0)
        })
        .flatten();
    let out_in_window: Vec<Timestamp> = s
        .points
        .iter()
        .zip(&flags)
        .filter(|(p, out)| **out && p.0 >= window.from)
        .map(|(p, _)| p.0)
        .collect();
    let excursion = match (now_out, out_in_window.first(), out_in_window.last()) {
        (false, Some(a), Some(b)) if out_in_window.len() >= 2 => Some((*a, *b)),
        _ => None,
    };
    // Since the onset, the last point a tenth further out than any before it.
    let worsening_until = onset.and_then(|from| {
        let mut worst: Option<f64> = None;
        let mut last = None;
        for p in s.points.iter().filter(|p| p.0 >= from) {
            let far = judge_at(p.0, p.1).1;
            if worst.is_none_or(|w| far > w * 1.1 + 0.01) {
                if worst.is_some() {
                    last = Some(p.0);
                }
                worst = Some(worst.map_or(far, |w| w.max(far)));
            }
        }
        last
    });
    let (peak_at, peak) = within
        .iter()
        .map(|p| (p.0, p.1))
        .max_by(|a, b| {
            judge_at(a.0, a.1)
                .1
                .total_cmp(&judge_at(b.0, b.1).1)
                .then(b.0.cmp(&a.0))
        })
        .unwrap_or((window.to, current));
    Some(SeriesChange {
        service: s.service.clone(),
        signal: s.signal.clone(),
        reference: round(reference),
        reference_source,
        current: round(current),
        change_percent: (reference.abs() > f64::EPSILON)
            .then(|| ((current - reference) / reference * 1000.0).round() / 10.0),
        peak: round(peak),
        peak_at,
        anomalous_now: now_out,
        onset,
        excursion,
        magnitude: if now_out {
            (magnitude * 100.0).round() / 100.0
        } else {
            0.0
        },
        resized_from: max
            .map(|m| m.at(last))
            .filter(|b| now_out && limit.is_some() && (b.now - b.before).abs() > 0.1 * b.before)
            .map(|b| round(b.before)),
        limit: if now_out { limit } else { None },
        worsening_until,
    })
}

/// Whether `v` is out of range for `signal` against `reference`, how far (log-like), and which
/// hard limit it reached. Thresholds are per kind of signal ([`SignalKind`], from the name's
/// words, whatever exporter wrote it); see the module doc.
pub fn deviation(signal: &str, v: f64, reference: f64, max: Option<Bound>) -> Verdict {
    let r = Reading {
        name: signal,
        v,
        reference,
        max: max.map(|m| m.now),
        ratio: if reference > 0.0 {
            v / reference
        } else {
            f64::NAN
        },
    };
    match signals::kind(signal) {
        SignalKind::Latency => r.latency(),
        SignalKind::Errors if is_fraction(signal, v, reference) => r.failing_share(),
        // A count or a per-second rate of failures.
        SignalKind::Errors | SignalKind::PoolWaiting | SignalKind::Evictions => r.failures(),
        SignalKind::Throughput => r.throughput(),
        SignalKind::CacheHit => r.cache_hits(),
        SignalKind::CertExpiry => r.certificate(),
        SignalKind::Disk if free_space(signal) => r.free_space(),
        // An amount held on disk (bytes, chunks) with no capacity known is no percentage:
        // news when it grows several-fold, never "full".
        SignalKind::Disk
            if max.is_none() && !signals::is_percent(signal) && v.max(reference) > 100.0 =>
        {
            r.several_fold(3.0)
        }
        SignalKind::Disk => r.disk_used(),
        // Near the maximum and normally not: noise around a cap makes "at the cap" a coin
        // toss, so 90 % is the line, and a pool that always runs that full is not news.
        SignalKind::PoolUsage => bounded(v, reference, max, 0.9, |m| {
            format!("{v} in use of a maximum of {m}")
        }),
        SignalKind::Memory | SignalKind::Cpu | SignalKind::Io
            if signals::is_percent(signal) || share_of_one(signal, v, reference) =>
        {
            r.share_used()
        }
        SignalKind::Backlog => r.backlog(),
        SignalKind::Restarts => r.restarts(),
        SignalKind::Availability => r.availability(),
        SignalKind::GcPause => r.several_fold(2.0),
        SignalKind::Limit => (false, 0.0, None),
        SignalKind::Memory | SignalKind::Cpu | SignalKind::Io => r.use_rising(),
        // A path's largest packet is set, not measured: any step of it, up or down, is news.
        SignalKind::Platform
            if signals::words(signal)
                .iter()
                .any(|w| matches!(w.as_str(), "mtu" | "pmtu")) =>
        {
            r.stepped()
        }
        SignalKind::Platform => r.size_grown(),
        // A quantity with a limit named after it (a table's entries and their maximum): at
        // the limit and normally not is a hard limit reached, whatever it counts.
        // Its climb counts from when it rose half again, so the onset is when it began to
        // fill, not when it hit the top.
        SignalKind::Other if max.is_some_and(|m| m.before > 0.0 && reference / m.before < 0.9) => {
            bounded(v, reference, max, 0.95, |m| {
                format!("{signal} at {v} of its limit {m}")
            })
        }
        SignalKind::Other => r.halved_or_doubled(),
    }
}

/// What [`deviation`] says of a reading: out of range or not, how far (log-like, 0 when in
/// range), and the hard limit it reached, said in words.
pub type Verdict = (bool, f64, Option<String>);

/// A configured maximum where a reading is judged (`now`), and where it stood for the normal
/// value (`before`): a pool resized by a change is full at its new size, and was normally
/// below its old one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    /// The maximum at the reading.
    pub now: f64,
    /// The maximum the reference was read against.
    pub before: f64,
}

impl Bound {
    /// A maximum that did not move.
    pub fn fixed(m: f64) -> Self {
        Bound { now: m, before: m }
    }
}

/// `out`, with `size` when out and 0 when not.
fn sized(out: bool, size: impl FnOnce() -> f64, limit: Option<String>) -> Verdict {
    (out, if out { size() } else { 0.0 }, limit)
}

/// One reading of a signal beside its normal value, judged by the kind of signal.
struct Reading<'a> {
    name: &'a str,
    v: f64,
    reference: f64,
    max: Option<f64>,
    /// `v / reference`; NaN when there is no positive reference.
    ratio: f64,
}

impl Reading<'_> {
    /// A millisecond becoming two is a ratio of 2 and nothing a user feels.
    fn latency(&self) -> Verdict {
        let out = self.ratio >= 1.5 && self.v - self.reference >= latency_floor(self.name);
        sized(out, || self.ratio.ln(), None)
    }

    /// A share of requests failing: a point more than usual, and double.
    fn failing_share(&self) -> Verdict {
        let (v, reference) = (
            signals::failing_fraction(self.name, self.v),
            signals::failing_fraction(self.name, self.reference),
        );
        let rise = v - reference;
        let out = rise >= 0.01 && v >= 2.0 * reference;
        sized(out, || (1.0 + rise / 0.01).ln(), None)
    }

    /// A count or rate of failures: three times the usual, counting from at least one.
    fn failures(&self) -> Verdict {
        let floor = self.reference.max(1.0);
        sized(self.v >= 3.0 * floor, || (self.v / floor).ln(), None)
    }

    /// Work falling to 60 % or less, or rising two and a half times (a surge weighs half).
    fn throughput(&self) -> Verdict {
        if self.ratio <= 0.6 {
            (true, (1.0 / self.ratio.max(0.01)).ln(), None)
        } else if self.ratio >= 2.5 {
            (true, 0.5 * self.ratio.ln(), None)
        } else {
            (false, 0.0, None)
        }
    }

    /// A cache hitting a fifth less than usual.
    fn cache_hits(&self) -> Verdict {
        let out = self.ratio <= 0.8;
        sized(
            out,
            || (1.0 / self.ratio.max(0.01)).ln() + 1.0,
            out.then(|| format!("hit ratio {} against a normal {}", self.v, self.reference)),
        )
    }

    /// Expired: a flag raised, or no time left.
    fn certificate(&self) -> Verdict {
        let out = if signals::is_expired_flag(self.name) {
            self.v >= 0.5
        } else {
            self.v <= 0.0
        };
        sized(out, || 3.0, out.then(|| "certificate expired".to_string()))
    }

    /// Free space or inodes falling to 30 % of usual; 5 % is empty.
    fn free_space(&self) -> Verdict {
        let out = self.ratio <= 0.3;
        let empty = self.ratio <= 0.05;
        sized(
            out,
            || (1.0 / self.ratio.max(0.01)).ln() / 2.0 + if empty { 1.0 } else { 0.0 },
            empty.then(|| format!("{} down to {} from {}", self.name, self.v, self.reference)),
        )
    }

    /// A share of a disk used: full at 95 %, or ten points more than usual. A disk that runs
    /// near full is judged by what is left of it: 86 % to 94 % used is half its free space
    /// gone.
    fn disk_used(&self) -> Verdict {
        let whole = if share_of_one(self.name, self.v, self.reference) {
            1.0
        } else {
            100.0
        };
        let cap = self.max.unwrap_or(whole).max(f64::EPSILON);
        let (pv, pref) = (self.v / cap * 100.0, self.reference / cap * 100.0);
        let full = pv >= 95.0;
        let left = (100.0 - pv).max(0.01) / (100.0 - pref).max(0.01);
        let halved = pv >= 90.0 && left <= 0.5;
        let out = full || halved || pv - pref >= 10.0;
        sized(
            out,
            || {
                ((pv - pref).max(0.0) / 15.0).max(if halved { (1.0 / left).ln() } else { 0.0 })
                    + if full { 1.0 } else { 0.0 }
            },
            full.then(|| format!("{} at {} ({pv:.0}% of its capacity)", self.name, self.v)),
        )
    }

    /// A share of memory, CPU or IO in use: twenty points more than usual, or ten more to 90 %
    /// or above.
    fn share_used(&self) -> Verdict {
        let (v, reference) = if signals::is_percent(self.name) {
            (self.v, self.reference)
        } else {
            (self.v * 100.0, self.reference * 100.0)
        };
        let rise = v - reference;
        let out = rise >= 20.0 || (v >= 90.0 && rise >= 10.0);
        let high = v >= 90.0 && out;
        let what = signals::words(self.name)
            .into_iter()
            .filter(|w| !matches!(w.as_str(), "percent" | "pct" | "utilization"))
            .collect::<Vec<_>>()
            .join(" ");
        sized(out, || rise / 25.0, high.then(|| format!("{what} at {v}%")))
    }

    /// Work waiting: three times the usual, counting from at least three.
    fn backlog(&self) -> Verdict {
        sized(
            self.v >= 3.0 * self.reference.max(3.0),
            || (self.v / self.reference.max(1.0)).ln(),
            None,
        )
    }

    /// A counter of deaths: any death is news, noise is not.
    fn restarts(&self) -> Verdict {
        sized(
            self.v >= self.reference * 1.2 + 1.0,
            || 1.0 + (self.v - self.reference).max(0.0).ln_1p() / 2.0,
            None,
        )
    }

    /// Present or not: half of what normally runs or answers gone is an outage.
    fn availability(&self) -> Verdict {
        let out = self.reference > 0.0 && self.v <= self.reference * 0.5;
        let gone = out && self.v <= 0.0;
        sized(
            out,
            || 2.0 + if gone { 1.0 } else { 0.0 },
            gone.then(|| format!("{} is 0: down (normally {})", self.name, self.reference)),
        )
    }

    /// Grown `times`-fold or more.
    fn several_fold(&self, times: f64) -> Verdict {
        sized(
            self.ratio.is_finite() && self.ratio >= times,
            || self.ratio.ln(),
            None,
        )
    }

    /// Use of a resource is news when it rises: memory or CPU falling (a process gone, less
    /// work) is what some other signal explains. A load average counts runnable tasks: less
    /// than half a task more is noise.
    fn use_rising(&self) -> Verdict {
        let floor = if signals::words(self.name)
            .iter()
            .any(|w| w.starts_with("load"))
        {
            0.5
        } else {
            0.0
        };
        sized(
            self.ratio.is_finite() && self.ratio > 2.0 && self.v - self.reference >= floor,
            || self.ratio.ln(),
            None,
        )
    }

    /// A value that is set, not measured: any step of a fifth or more, up or down.
    fn stepped(&self) -> Verdict {
        sized(
            self.ratio.is_finite() && !(0.8..=1.25).contains(&self.ratio),
            || self.ratio.max(0.01).ln().abs(),
            None,
        )
    }

    /// Retransmits, steal, a clock's offset: news when their size grows, whatever the sign
    /// (a clock may run behind as well as ahead).
    fn size_grown(&self) -> Verdict {
        let (now, normal) = (self.v.abs(), self.reference.abs());
        let out = if normal > 0.0 {
            now >= 3.0 * normal
        } else {
            now >= 1.0
        };
        sized(
            out,
            || (now / normal.max(f64::MIN_POSITIVE)).min(1e6).ln(),
            None,
        )
    }

    /// Anything else: halved or doubled.
    fn halved_or_doubled(&self) -> Verdict {
        sized(
            self.ratio.is_finite() && !(0.5..=2.0).contains(&self.ratio),
            || self.ratio.max(0.01).ln().abs(),
            None,
        )
    }
}

/// A bounded quantity: out when at `line` of its `max` (and normally below 90 % of it) — a
/// hard limit reached, said by `say(max)` — or when it rose half again.
fn bounded(
    v: f64,
    reference: f64,
    max: Option<Bound>,
    line: f64,
    say: impl Fn(f64) -> String,
) -> Verdict {
    let ratio = if reference > 0.0 {
        v / reference
    } else {
        f64::NAN
    };
    let at_max = max.is_some_and(|m| {
        m.now > 0.0 && m.before > 0.0 && v / m.now >= line && reference / m.before < 0.9
    });
    let out = at_max || ratio >= 1.5;
    (
        out,
        if out {
            ratio.max(1.0).ln() + if at_max { 1.5 } else { 0.0 }
        } else {
            0.0
        },
        at_max.then(|| say(max.map_or(0.0, |m| m.now))),
    )
}

/// The smallest rise of a latency that counts, in the signal's own unit (from its name's
/// words; milliseconds when it does not say): 10 ms.
fn latency_floor(name: &str) -> f64 {
    let w = signals::words(name);
    let has = |x: &[&str]| w.iter().any(|y| x.contains(&y.as_str()));
    if has(&["ms", "millis", "milliseconds", "msec"]) {
        10.0
    } else if has(&["us", "micros", "microseconds", "usec"]) {
        10_000.0
    } else if has(&["ns", "nanos", "nanoseconds"]) {
        10_000_000.0
    } else if has(&["s", "sec", "secs", "seconds"]) {
        0.01
    } else {
        10.0
    }
}

/// An error signal that is a share of requests (0.02 = 2 %, or 2 for a `…_percent`), not a
/// count, with values that fit a share.
fn is_fraction(name: &str, v: f64, reference: f64) -> bool {
    let limit = if signals::is_percent(name) {
        100.0
    } else {
        1.0
    };
    signals::is_error_share(name) && v <= limit && reference <= limit
}

/// A share written as a fraction of one (`node_filesystem_used_ratio` 0.58,
/// `container_memory_usage_fraction`): a percentage divided by 100, judged as one.
fn share_of_one(name: &str, v: f64, reference: f64) -> bool {
    !signals::is_percent(name)
        && signals::words(name)
            .iter()
            .any(|x| matches!(x.as_str(), "ratio" | "fraction" | "share"))
        && (0.0..=1.05).contains(&v)
        && (0.0..=1.0).contains(&reference)
}

/// A disk signal that measures what is left rather than what is used.
fn free_space(name: &str) -> bool {
    signals::words(name).iter().any(|x| {
        matches!(
            x.as_str(),
            "free" | "avail" | "available" | "left" | "remaining"
        )
    })
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn round(v: f64) -> f64 {
    if v.abs() >= 10.0 {
        (v * 10.0).round() / 10.0
    } else {
        (v * 10_000.0).round() / 10_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::{Bound, deviation};

    #[test]
    fn thresholds_fit_the_kind_of_signal() {
        assert!(
            !deviation("error_rate", 0.004, 0.002, None).0,
            "noise on a tiny rate"
        );
        assert!(deviation("error_rate", 0.06, 0.002, None).0);
        assert!(!deviation("latency_p99_ms", 1.4 * 450.0, 450.0, None).0);
        assert!(deviation("latency_p99_ms", 6.0 * 180.0, 180.0, None).0);
        let pool = deviation(
            "db_connections_in_use",
            50.0,
            38.0,
            Some(Bound::fixed(50.0)),
        );
        assert!(pool.0 && pool.2.is_some());
        let busy = deviation(
            "db_connections_in_use",
            150.0,
            20.0,
            Some(Bound::fixed(200.0)),
        );
        assert!(busy.0 && busy.2.is_none(), "75 % is busy, not exhausted");
        let always_full = deviation(
            "db_connections_in_use",
            47.0,
            46.0,
            Some(Bound::fixed(50.0)),
        );
        assert!(!always_full.0, "a pool that always runs full is not news");
        // Resized from 20 to 8 and full at 8, normally 14 of 20: exhausted at its new size.
        let resized = Bound {
            now: 8.0,
            before: 20.0,
        };
        let shrunk = deviation("hikaricp_connections_active", 8.0, 14.0, Some(resized));
        assert!(shrunk.0 && shrunk.2.as_deref() == Some("8 in use of a maximum of 8"));
        // Judged against the old size alone it looked like less work, not a full pool.
        assert!(
            deviation(
                "hikaricp_connections_active",
                8.0,
                14.0,
                Some(Bound::fixed(20.0))
            )
            .2
            .is_none()
        );
        assert!(deviation("cert_days_left", 0.0, 0.4, None).2.is_some());
        assert!(!deviation("cert_days_left", 0.4, 0.4, None).0);
        assert!(deviation("cache_hit_ratio", 0.08, 0.97, None).0);
        assert!(deviation("request_rate", 0.3 * 300.0, 300.0, None).0);
    }
}
