//! Statistics over a run: counts per time bucket, level, service and template, the error-rate
//! series, top-k templates, and per-field statistics for structured logs. Collected per chunk on
//! the workers and folded in input order, like templates.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::miner::{Miner, TemplateIdx};
use crate::parse::Level;

/// What to collect.
#[derive(Debug, Clone)]
pub struct StatsOptions {
    /// Width of a time bucket, in seconds.
    pub bucket_secs: i64,
    /// How many templates, services and field values to list.
    pub top_k: usize,
    /// Distinct values remembered per field (beyond this, `distinct` is a lower bound).
    pub max_distinct: usize,
}

impl Default for StatsOptions {
    fn default() -> Self {
        StatsOptions {
            bucket_secs: 60,
            top_k: 10,
            max_distinct: 1000,
        }
    }
}

/// Key for lines without a timestamp.
pub const UNTIMED: i64 = i64::MIN;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cell {
    lines: u64,
    errors: u64,
}

#[derive(Debug, Clone, Default)]
struct FieldAcc {
    count: u64,
    distinct: FxHashMap<Box<str>, u64>,
    overflow: bool,
    numeric: u64,
    min: f64,
    max: f64,
    sum: f64,
}

impl FieldAcc {
    fn add(&mut self, v: &str, n: u64, max_distinct: usize) {
        self.count += n;
        if let Some(c) = self.distinct.get_mut(v) {
            *c += n;
        } else if self.distinct.len() < max_distinct {
            self.distinct.insert(v.into(), n);
        } else {
            self.overflow = true;
        }
        if let Ok(x) = v.trim_end_matches("ms").parse::<f64>()
            && x.is_finite()
        {
            if self.numeric == 0 {
                self.min = x;
                self.max = x;
            } else {
                self.min = self.min.min(x);
                self.max = self.max.max(x);
            }
            self.numeric += n;
            self.sum += x * n as f64;
        }
    }

    fn merge(&mut self, o: FieldAcc, max_distinct: usize) {
        let mut vals: Vec<(Box<str>, u64)> = o.distinct.into_iter().collect();
        vals.sort();
        self.count += o.count;
        for (v, n) in vals {
            if let Some(c) = self.distinct.get_mut(&v) {
                *c += n;
            } else if self.distinct.len() < max_distinct {
                self.distinct.insert(v, n);
            } else {
                self.overflow = true;
            }
        }
        self.overflow |= o.overflow;
        if o.numeric > 0 {
            if self.numeric == 0 {
                self.min = o.min;
                self.max = o.max;
            } else {
                self.min = self.min.min(o.min);
                self.max = self.max.max(o.max);
            }
            self.numeric += o.numeric;
            self.sum += o.sum;
        }
    }
}

/// Statistics of one chunk, keyed by the chunk's local signature index.
#[derive(Debug, Clone)]
pub(crate) struct ChunkStats {
    bucket_secs: i64,
    max_distinct: usize,
    cells: FxHashMap<(i64, u32), Cell>,
    levels: FxHashMap<Option<Level>, u64>,
    services: FxHashMap<Box<str>, u64>,
    fields: FxHashMap<Box<str>, FieldAcc>,
}

impl ChunkStats {
    pub(crate) fn new(o: &StatsOptions) -> Self {
        ChunkStats {
            bucket_secs: o.bucket_secs.max(1),
            max_distinct: o.max_distinct,
            cells: FxHashMap::default(),
            levels: FxHashMap::default(),
            services: FxHashMap::default(),
            fields: FxHashMap::default(),
        }
    }

    pub(crate) fn add(
        &mut self,
        sig: u32,
        ts: Option<jiff::Timestamp>,
        level: Option<Level>,
        service: Option<&str>,
        fields: &[(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)],
    ) {
        let bucket = ts.map_or(UNTIMED, |t| t.as_second().div_euclid(self.bucket_secs));
        let c = self.cells.entry((bucket, sig)).or_default();
        c.lines += 1;
        c.errors += u64::from(level.is_some_and(Level::is_error));
        *self.levels.entry(level).or_default() += 1;
        if let Some(s) = service {
            match self.services.get_mut(s) {
                Some(n) => *n += 1,
                None => {
                    self.services.insert(s.into(), 1);
                }
            }
        }
        for (k, v) in fields {
            let f = match self.fields.get_mut(k.as_ref()) {
                Some(f) => f,
                None => self.fields.entry(k.as_ref().into()).or_default(),
            };
            f.add(v, 1, self.max_distinct);
        }
    }
}

/// Statistics accumulated over a run (template indices not yet resolved).
#[derive(Debug, Clone)]
pub struct Stats {
    opts: StatsOptions,
    cells: BTreeMap<(i64, TemplateIdx), Cell>,
    levels: BTreeMap<Option<Level>, u64>,
    services: BTreeMap<Box<str>, u64>,
    fields: BTreeMap<Box<str>, FieldAcc>,
}

/// One time bucket of the series.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BucketRow {
    /// Bucket start (RFC 3339), or `untimed` for lines without a timestamp.
    pub start: String,
    /// Start in seconds since the epoch (`i64::MIN` for untimed).
    pub start_s: i64,
    /// Lines in the bucket.
    pub lines: u64,
    /// Lines at error level or worse.
    pub errors: u64,
    /// `errors / lines`.
    pub error_rate: f64,
}

/// Statistics of one field of structured records.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldStat {
    /// Field name (nested JSON keys joined with `.`).
    pub name: String,
    /// Records with the field.
    pub count: u64,
    /// Distinct values (a lower bound when `distinct_capped`).
    pub distinct: u64,
    /// More distinct values were seen than are remembered.
    pub distinct_capped: bool,
    /// The most frequent values with counts.
    pub top: Vec<(String, u64)>,
    /// For numeric values: min, max, mean and how many were numeric.
    pub numeric: Option<NumericStat>,
}

/// Min/max/mean of a numeric field.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NumericStat {
    /// Values that parsed as numbers.
    pub count: u64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// The finished statistics of a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatsReport {
    /// Bucket width in seconds.
    pub bucket_secs: i64,
    /// Lines and errors per bucket, in time order (the error-rate series).
    pub series: Vec<BucketRow>,
    /// Lines per level (`none` for lines without one).
    pub levels: Vec<(String, u64)>,
    /// Lines per service, most first (top-k).
    pub services: Vec<(String, u64)>,
    /// Lines per template, most first (top-k): id, template, count.
    pub top_templates: Vec<(String, String, u64)>,
    /// Per-field statistics for structured logs.
    pub fields: Vec<FieldStat>,
    /// Per template id: `(bucket start seconds, lines, errors)`, for anomaly detection.
    #[serde(skip)]
    pub template_series: BTreeMap<String, Vec<(i64, u64, u64)>>,
}

fn bucket_name(b: i64, secs: i64) -> String {
    if b == UNTIMED {
        return "untimed".into();
    }
    jiff::Timestamp::from_second(b * secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| (b * secs).to_string())
}

impl Stats {
    pub(crate) fn new(opts: StatsOptions) -> Self {
        Stats {
            opts,
            cells: BTreeMap::new(),
            levels: BTreeMap::new(),
            services: BTreeMap::new(),
            fields: BTreeMap::new(),
        }
    }

    pub(crate) fn fold(&mut self, cs: ChunkStats, map: impl Fn(u32) -> TemplateIdx) {
        for ((b, s), c) in cs.cells {
            let e = self.cells.entry((b, map(s))).or_default();
            e.lines += c.lines;
            e.errors += c.errors;
        }
        for (l, n) in cs.levels {
            *self.levels.entry(l).or_default() += n;
        }
        for (s, n) in cs.services {
            *self.services.entry(s).or_default() += n;
        }
        let mut fields: Vec<(Box<str>, FieldAcc)> = cs.fields.into_iter().collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, f) in fields {
            self.fields
                .entry(k)
                .or_default()
                .merge(f, self.opts.max_distinct);
        }
    }

    /// Resolves templates and produces the report.
    pub(crate) fn finish(self, miner: &Miner) -> StatsReport {
        let secs = self.opts.bucket_secs.max(1);
        let k = self.opts.top_k;
        let mut series: BTreeMap<i64, Cell> = BTreeMap::new();
        let mut per_t: BTreeMap<String, BTreeMap<i64, Cell>> = BTreeMap::new();
        let mut totals: FxHashMap<TemplateIdx, u64> = FxHashMap::default();
        for (&(b, t), c) in &self.cells {
            let s = series.entry(b).or_default();
            s.lines += c.lines;
            s.errors += c.errors;
            let r = miner.resolve(t);
            *totals.entry(r).or_default() += c.lines;
            let e = per_t
                .entry(format!("{:016x}", miner.id(r)))
                .or_default()
                .entry(b)
                .or_default();
            e.lines += c.lines;
            e.errors += c.errors;
        }
        let mut top: Vec<(String, String, u64)> = totals
            .iter()
            .map(|(&t, &n)| (format!("{:016x}", miner.id(t)), miner.text(t), n))
            .collect();
        top.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        top.truncate(k);
        let mut services: Vec<(String, u64)> = self
            .services
            .iter()
            .map(|(s, &n)| (s.to_string(), n))
            .collect();
        services.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        services.truncate(k);
        let fields = self
            .fields
            .into_iter()
            .map(|(name, f)| {
                let mut top: Vec<(String, u64)> = f
                    .distinct
                    .iter()
                    .map(|(v, &n)| (v.to_string(), n))
                    .collect();
                top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                top.truncate(k);
                FieldStat {
                    name: name.to_string(),
                    count: f.count,
                    distinct: f.distinct.len() as u64,
                    distinct_capped: f.overflow,
                    top,
                    numeric: (f.numeric > 0).then(|| NumericStat {
                        count: f.numeric,
                        min: f.min,
                        max: f.max,
                        mean: f.sum / f.numeric as f64,
                    }),
                }
            })
            .collect();
        StatsReport {
            bucket_secs: secs,
            series: series
                .into_iter()
                .map(|(b, c)| BucketRow {
                    start: bucket_name(b, secs),
                    start_s: if b == UNTIMED { UNTIMED } else { b * secs },
                    lines: c.lines,
                    errors: c.errors,
                    error_rate: if c.lines == 0 {
                        0.0
                    } else {
                        c.errors as f64 / c.lines as f64
                    },
                })
                .collect(),
            levels: self
                .levels
                .into_iter()
                .map(|(l, n)| (l.map_or("none", Level::as_str).to_string(), n))
                .collect(),
            services,
            top_templates: top,
            fields,
            template_series: per_t
                .into_iter()
                .map(|(id, m)| {
                    let v = m
                        .into_iter()
                        .map(|(b, c)| {
                            (
                                if b == UNTIMED { UNTIMED } else { b * secs },
                                c.lines,
                                c.errors,
                            )
                        })
                        .collect();
                    (id, v)
                })
                .collect(),
        }
    }
}
