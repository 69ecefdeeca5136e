//! Anomalies of a window against a baseline, each with its evidence, ranked.
//!
//! Three kinds: templates that appear in the window but never in the baseline; bursts, where a
//! template's count in one time bucket stands far above its baseline buckets by a robust z-score
//! (median and MAD, with a Poisson floor so that sparse templates do not fire on noise); and a
//! shift in the error rate between baseline and window (two-proportion z-test). Baseline and
//! window must come from one [`crate::Engine`] run (see [`crate::Engine::checkpoint`]) so that
//! template ids agree. Bursts need timestamps; untimed lines only take part in the other two.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::MineResult;
use crate::stats::UNTIMED;

/// Thresholds; the defaults keep a stationary stream quiet.
#[derive(Debug, Clone)]
pub struct AnomalyOptions {
    /// Robust z-score a bucket must reach to be a burst.
    pub burst_z: f64,
    /// Fewest lines in a bucket for a burst.
    pub min_burst: u64,
    /// z of the error-rate test for a level shift.
    pub shift_z: f64,
    /// Smallest absolute rise in error rate that counts (0.02 = two points).
    pub min_shift: f64,
}

impl Default for AnomalyOptions {
    fn default() -> Self {
        AnomalyOptions {
            burst_z: 6.0,
            min_burst: 5,
            shift_z: 4.0,
            min_shift: 0.02,
        }
    }
}

/// What kind of anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A template never seen in the baseline.
    NewTemplate,
    /// A template's count in one bucket far above its baseline.
    Burst,
    /// The error rate rose between baseline and window.
    ErrorRateShift,
}

/// The numbers behind an anomaly.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Evidence {
    /// Lines in the window (for the template, or all lines for a rate shift).
    pub window_count: u64,
    /// Lines in the baseline.
    pub baseline_count: u64,
    /// For bursts: the bucket (RFC 3339 start) and its count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// For bursts: the count in that bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_count: Option<u64>,
    /// For bursts: median and MAD of the baseline buckets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_median: Option<f64>,
    /// See `baseline_median`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_mad: Option<f64>,
    /// For rate shifts: error rates of baseline and window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_rate: Option<f64>,
    /// See `baseline_rate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_rate: Option<f64>,
    /// The test statistic (robust z for bursts, z for rate shifts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub z: Option<f64>,
    /// Example lines from the window.
    pub examples: Vec<String>,
}

/// One anomaly.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Anomaly {
    /// What kind.
    pub kind: Kind,
    /// Rank key: higher is more anomalous (comparable within a report).
    pub score: f64,
    /// One sentence for a human.
    pub summary: String,
    /// The template concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// Its text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The numbers.
    pub evidence: Evidence,
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Ranks the anomalies of `window` against `baseline` (both mined in one run, with statistics).
pub fn detect(baseline: &MineResult, window: &MineResult, o: &AnomalyOptions) -> Vec<Anomaly> {
    let mut out = Vec::new();
    let base_counts: BTreeMap<&str, u64> = baseline
        .templates
        .iter()
        .map(|t| (t.id.as_str(), t.count))
        .collect();
    let empty = BTreeMap::new();
    let base_series = baseline
        .stats
        .as_ref()
        .map_or(&empty, |s| &s.template_series);
    let win_series = window.stats.as_ref().map_or(&empty, |s| &s.template_series);
    // Every timed baseline bucket, so that buckets where a template was absent count as zero.
    let base_buckets: Vec<i64> = baseline.stats.as_ref().map_or(Vec::new(), |s| {
        s.series
            .iter()
            .filter(|r| r.start_s != UNTIMED)
            .map(|r| r.start_s)
            .collect()
    });
    let bucket_secs = window.stats.as_ref().map_or(60, |s| s.bucket_secs);
    for t in &window.templates {
        let base = base_counts.get(t.id.as_str()).copied().unwrap_or(0);
        let errors: u64 = win_series
            .get(&t.id)
            .map_or(0, |v| v.iter().map(|c| c.2).sum());
        if base == 0 {
            let err_share = errors as f64 / t.count.max(1) as f64;
            out.push(Anomaly {
                kind: Kind::NewTemplate,
                score: 10.0 + (1.0 + t.count as f64).ln() + 5.0 * err_share,
                summary: format!(
                    "new template, {} line(s) in the window, none in the baseline{}",
                    t.count,
                    if errors > 0 {
                        format!(" ({errors} at error level)")
                    } else {
                        String::new()
                    }
                ),
                template_id: Some(t.id.clone()),
                template: Some(t.template.clone()),
                evidence: Evidence {
                    window_count: t.count,
                    baseline_count: 0,
                    examples: t.examples.clone(),
                    ..Evidence::default()
                },
            });
            continue;
        }
        if base_buckets.is_empty() {
            continue;
        }
        let per_bucket: BTreeMap<i64, u64> = base_series
            .get(&t.id)
            .map(|v| v.iter().map(|&(b, n, _)| (b, n)).collect())
            .unwrap_or_default();
        let mut xs: Vec<f64> = base_buckets
            .iter()
            .map(|b| per_bucket.get(b).copied().unwrap_or(0) as f64)
            .collect();
        let med = median(&mut xs);
        let mut dev: Vec<f64> = xs.iter().map(|x| (x - med).abs()).collect();
        let mad = median(&mut dev);
        let sigma = (1.4826 * mad).max(med.max(1.0).sqrt());
        let Some(&(b, n, _)) = win_series.get(&t.id).and_then(|v| {
            v.iter()
                .filter(|c| c.0 != UNTIMED)
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        }) else {
            continue;
        };
        let z = (n as f64 - med) / sigma;
        if z >= o.burst_z && n >= o.min_burst {
            let start = jiff::Timestamp::from_second(b)
                .map(|t| t.to_string())
                .unwrap_or_default();
            out.push(Anomaly {
                kind: Kind::Burst,
                score: z.min(1000.0),
                summary: format!(
                    "burst: {n} lines in the {bucket_secs}s bucket at {start}, baseline median {med} per bucket (robust z {z:.1})"
                ),
                template_id: Some(t.id.clone()),
                template: Some(t.template.clone()),
                evidence: Evidence {
                    window_count: t.count,
                    baseline_count: base,
                    bucket: Some(start),
                    bucket_count: Some(n),
                    baseline_median: Some(med),
                    baseline_mad: Some(mad),
                    z: Some(z),
                    examples: t.examples.clone(),
                    ..Evidence::default()
                },
            });
        }
    }
    if let (Some(bs), Some(ws)) = (baseline.stats.as_ref(), window.stats.as_ref()) {
        let sum = |s: &crate::stats::StatsReport| {
            s.series
                .iter()
                .fold((0u64, 0u64), |(l, e), r| (l + r.lines, e + r.errors))
        };
        let ((n0, e0), (n1, e1)) = (sum(bs), sum(ws));
        if n0 > 0 && n1 > 0 {
            let (p0, p1) = (e0 as f64 / n0 as f64, e1 as f64 / n1 as f64);
            let p = (e0 + e1) as f64 / (n0 + n1) as f64;
            let se = (p * (1.0 - p) * (1.0 / n0 as f64 + 1.0 / n1 as f64)).sqrt();
            let z = if se > 0.0 { (p1 - p0) / se } else { 0.0 };
            if z >= o.shift_z && p1 - p0 >= o.min_shift {
                // The error templates that grew the most, as examples.
                let mut grown: Vec<(u64, &crate::engine::TemplateInfo)> = window
                    .templates
                    .iter()
                    .filter_map(|t| {
                        let errs: u64 = win_series
                            .get(&t.id)
                            .map_or(0, |v| v.iter().map(|c| c.2).sum());
                        (errs > 0).then_some((errs, t))
                    })
                    .collect();
                grown.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
                out.push(Anomaly {
                    kind: Kind::ErrorRateShift,
                    score: z.min(1000.0),
                    summary: format!(
                        "error rate rose from {:.2}% to {:.2}% (z {z:.1})",
                        p0 * 100.0,
                        p1 * 100.0
                    ),
                    template_id: None,
                    template: None,
                    evidence: Evidence {
                        window_count: n1,
                        baseline_count: n0,
                        baseline_rate: Some(p0),
                        window_rate: Some(p1),
                        z: Some(z),
                        examples: grown
                            .iter()
                            .take(3)
                            .filter_map(|(_, t)| t.examples.first().cloned())
                            .collect(),
                        ..Evidence::default()
                    },
                });
            }
        }
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.template_id.cmp(&b.template_id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, MineOptions};
    use crate::stats::StatsOptions;

    /// A deterministic generator: `minutes` minutes of a few services logging at steady rates.
    fn stream(start_min: i64, minutes: i64, extra: impl Fn(i64, &mut String)) -> String {
        let mut s = String::new();
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for m in start_min..start_min + minutes {
            for k in 0..40 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let secs = m * 60 + (k * 60 / 40);
                let ts = jiff::Timestamp::from_second(1_700_000_000 + secs).expect("ts");
                let (lvl, msg) = match x % 10 {
                    0..=3 => ("INFO", format!("request served in {} ms", x % 300)),
                    4..=6 => (
                        "INFO",
                        format!("user {} logged in from 10.0.{}.{}", x % 97, x % 7, x % 250),
                    ),
                    7 | 8 => ("DEBUG", format!("cache hit ratio {}", x % 100)),
                    _ => (
                        "ERROR",
                        format!("upstream timeout after {} ms", 1000 + x % 50),
                    ),
                };
                s.push_str(&format!("{ts} {lvl} [main] app.Server: {msg}\n"));
            }
            extra(m, &mut s);
        }
        s
    }

    fn run(baseline: &str, window: &str) -> Vec<Anomaly> {
        let mut e = Engine::new(MineOptions {
            threads: 1,
            stats: Some(StatsOptions::default()),
            ..MineOptions::default()
        })
        .expect("engine");
        e.feed(baseline.as_bytes());
        let seg = e.checkpoint();
        e.feed(window.as_bytes());
        let mut r = e.finish_segments(vec![seg]);
        let w = r.pop().expect("window");
        let b = r.pop().expect("baseline");
        detect(&b, &w, &AnomalyOptions::default())
    }

    #[test]
    fn stationary_stream_is_quiet() {
        let a = run(&stream(0, 120, |_, _| {}), &stream(120, 60, |_, _| {}));
        assert!(a.is_empty(), "{a:#?}");
    }

    #[test]
    fn finds_injected_burst_and_new_error_template() {
        let window = stream(120, 60, |m, s| {
            if m == 150 {
                for i in 0..200 {
                    s.push_str(&format!(
                        "2023-11-14T23:23:20Z INFO [main] app.Server: cache hit ratio {i}\n"
                    ));
                }
            }
            if m == 160 {
                for i in 0..3 {
                    s.push_str(&format!(
                        "2023-11-15T00:00:00Z ERROR [main] app.Server: disk /dev/sda{i} is full, refusing writes\n"
                    ));
                }
            }
        });
        let a = run(&stream(0, 120, |_, _| {}), &window);
        let burst = a.iter().find(|x| x.kind == Kind::Burst).expect("a burst");
        assert_eq!(burst.template.as_deref(), Some("cache hit ratio <*>"));
        assert!(burst.evidence.bucket_count >= Some(200));
        let new = a
            .iter()
            .find(|x| x.kind == Kind::NewTemplate)
            .expect("a new template");
        assert!(
            new.template
                .as_deref()
                .is_some_and(|t| t.contains("is full"))
        );
        assert_eq!(new.evidence.window_count, 3);
        assert!(!new.evidence.examples.is_empty());
        assert_eq!(a.len(), 2, "{a:#?}");
    }

    #[test]
    fn finds_error_rate_shift() {
        let window = stream(120, 60, |_, s| {
            for _ in 0..20 {
                s.push_str("2023-11-14T23:00:00Z ERROR [main] app.Server: upstream timeout after 1010 ms\n");
            }
        });
        let a = run(&stream(0, 120, |_, _| {}), &window);
        assert!(a.iter().any(|x| x.kind == Kind::ErrorRateShift), "{a:#?}");
    }
}
