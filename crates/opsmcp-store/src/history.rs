//! The live world's history: numeric samples of each (service, signal) series, and the changes
//! made to the machine (deploys, config edits, package installs, restarts) that explain a shift
//! in them. Retention is bounded: raw samples for a day, then means per bucket for a week, then
//! nothing ([`Store::prune_samples`]). What a signal means, how often it is sampled and when
//! pruning runs are the caller's business, not the store's.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::row::{RowExt, micros};
use crate::store::Store;

/// One reading of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When it was read (kept to the microsecond). A sample older than the raw retention comes
    /// back as its bucket's mean, at the bucket's start.
    pub at: Timestamp,
    /// The service (or host, process, log file) it belongs to; not empty.
    pub service: String,
    /// What was read, e.g. `cpu_percent`; not empty.
    pub signal: String,
    /// The reading; finite (NaN and infinities are refused).
    pub value: f64,
}

/// A change made to the machine or a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// When it happened (kept to the microsecond).
    pub at: Timestamp,
    /// What kind of change: `deploy`, `config`, `package`, `restart`, …; not empty.
    pub kind: String,
    /// The service it touched (empty for the machine as a whole).
    pub service: String,
    /// What changed, free text (a version, a file, a package and its versions).
    pub detail: String,
    /// Who reported it: `webhook`, `file-watch`, `dpkg`, …; not empty.
    pub source: String,
}

/// How long history is kept, and how finely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Raw samples younger than this are kept as recorded (default 24 h).
    pub raw_for: Duration,
    /// Older samples are replaced by one mean per series per bucket of this width, aligned to
    /// the Unix epoch (default 5 min).
    pub coarse_step: Duration,
    /// Samples and change events older than this are deleted (default 7 days). Not shorter than
    /// `raw_for`.
    pub keep_for: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            raw_for: Duration::from_secs(24 * 3600),
            coarse_step: Duration::from_secs(5 * 60),
            keep_for: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// What one [`Store::prune_samples`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    /// Stored samples folded into their bucket's mean (0 when every bucket past `raw_for` was
    /// already one mean at its start).
    pub downsampled: u64,
    /// Samples and change events deleted for being older than `keep_for`.
    pub deleted: u64,
}

/// Rows per `INSERT` statement: 4 binds each, well under SQLite's (32766) and PostgreSQL's
/// (65535) limits, and big enough that a batch of 100 is one statement.
const INSERT_CHUNK: usize = 1000;

/// The start of the `step`-wide bucket (aligned to the epoch) holding time `at`, in SQL over
/// microseconds; `$1` is the step. Floors for times before 1970 too (`%` truncates toward zero).
const BUCKET: &str = "(at - ((at % $1) + $1) % $1)";

/// The same as [`BUCKET`], in Rust.
fn bucket_start(us: i64, step: i64) -> i64 {
    us - us.rem_euclid(step)
}

/// The first whole microsecond not before `t`: stored times are whole microseconds, so a range
/// bound with nanoseconds is rounded up (a sample at 10.000001 s is not before 10.0000005 s).
fn ceil_micros(t: Timestamp) -> i64 {
    let us = micros(t);
    if t.subsec_nanosecond() % 1000 > 0 {
        us + 1
    } else {
        us
    }
}

fn duration_micros(field: &'static str, d: Duration) -> Result<i64, StoreError> {
    i64::try_from(d.as_micros()).map_err(|_| StoreError::Invalid {
        field,
        message: format!("{d:?} is too long; retention is hours to days"),
    })
}

/// Checked before anything is written: every sample finite, named, and alone in its series at its
/// microsecond; the message names the sample (its index in the batch) and what to send instead.
fn check_samples(samples: &[Sample]) -> Result<(), StoreError> {
    let mut seen: HashMap<(i64, &str, &str), usize> = HashMap::with_capacity(samples.len());
    for (i, s) in samples.iter().enumerate() {
        let which = || format!("sample {i} ({}/{} at {})", s.service, s.signal, s.at);
        let invalid = |message: String| StoreError::Invalid {
            field: "samples",
            message: format!("{message}; nothing of this batch was recorded"),
        };
        if !s.value.is_finite() {
            return Err(invalid(format!(
                "{} has value {}, which is not a finite number: send finite values only, and \
                 leave a sample out when there is no reading",
                which(),
                s.value
            )));
        }
        if s.service.trim().is_empty() || s.signal.trim().is_empty() {
            return Err(invalid(format!(
                "{} has an empty service or signal: name both, e.g. service \"api\", \
                 signal \"cpu_percent\"",
                which()
            )));
        }
        if let Some(first) = seen.insert((micros(s.at), &s.service, &s.signal), i) {
            return Err(invalid(format!(
                "{} has the same service, signal and time (to the microsecond) as sample \
                 {first}: a series has one value per instant, send one of them",
                which()
            )));
        }
    }
    Ok(())
}

/// A sample already stored at the same instant in the same series makes the insert fail on the
/// key; say so in words (which one is not known without another query).
fn duplicate_stored(e: sqlx::Error) -> StoreError {
    if e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
    {
        StoreError::Invalid {
            field: "samples",
            message: "a sample has the same service, signal and time (to the microsecond) as one \
                      already stored: a series has one value per instant, leave out samples \
                      recorded before; nothing of this batch was recorded"
                .into(),
        }
    } else {
        StoreError::Database(e)
    }
}

fn check_range(from: Timestamp, to: Timestamp) -> Result<(), StoreError> {
    if from > to {
        return Err(StoreError::Invalid {
            field: "from",
            message: format!("{from} is after to ({to}): from is inclusive, to exclusive"),
        });
    }
    Ok(())
}

/// One bucket of the downsampled range, as it will be written back.
struct Bucket {
    service: String,
    signal: String,
    at: i64,
    value: f64,
    n: i64,
}

impl Store {
    /// Records `samples` in one transaction: all of them or, on any error, none. Every sample
    /// must be finite, name its service and signal, and be the only value of its series at its
    /// microsecond (in the batch and in the store). The error names the first sample that is
    /// not, except for a clash with a stored sample, which the database finds and which is
    /// reported without naming it. Returns how many were written.
    pub async fn record_samples(&self, samples: &[Sample]) -> Result<usize, StoreError> {
        check_samples(samples)?;
        if samples.is_empty() {
            return Ok(0);
        }
        let written = write_tx!(self, |tx, pg| {
            let mut written = 0;
            for chunk in samples.chunks(INSERT_CHUNK) {
                let mut insert =
                    sqlx::QueryBuilder::new("INSERT INTO samples (at, service, signal, value) ");
                insert.push_values(chunk, |mut row, s| {
                    row.push_bind(micros(s.at))
                        .push_bind(s.service.as_str())
                        .push_bind(s.signal.as_str())
                        .push_bind(s.value);
                });
                written += insert
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(duplicate_stored)?
                    .rows_affected();
            }
            written
        });
        Ok(usize::try_from(written).unwrap_or(usize::MAX))
    }

    /// Every sample with `from <= at < to`, ordered by service, signal, then time. Samples older
    /// than the raw retention at the last prune are bucket means, at the bucket's start.
    pub async fn samples(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Sample>, StoreError> {
        check_range(from, to)?;
        let mut samples = read_tx!(self, |tx| {
            let rows = sqlx::query(
                "SELECT at, service, signal, value FROM samples WHERE at >= $1 AND at < $2",
            )
            .bind(ceil_micros(from))
            .bind(ceil_micros(to))
            .fetch_all(&mut *tx)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(Sample {
                        at: r.ts("at")?,
                        service: r.text("service")?,
                        signal: r.text("signal")?,
                        value: r.float("value")?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        // Sorted here, not in SQL: the rows come in key order (time first), and sorting a day of
        // 100 series (864,000 rows) by series in SQL made the read several times slower on both
        // backends (SQLite sorts in a temporary B-tree, PostgreSQL spills past work_mem).
        samples.sort_unstable_by(|a, b| {
            (&a.service, &a.signal, a.at).cmp(&(&b.service, &b.signal, b.at))
        });
        Ok(samples)
    }

    /// Applies `policy` as of `now`, in one transaction: deletes samples and change events older
    /// than `keep_for` (samples by whole buckets), and replaces the samples of every bucket that
    /// ended more than `raw_for` ago by their mean at the bucket's start (weighted by how many
    /// raw samples each stored value already stands for, so late samples and a changed
    /// `coarse_step` fold in correctly). Idempotent: a second run with the same `now` and
    /// policy changes nothing and reports zeros.
    pub async fn prune_samples(
        &self,
        now: Timestamp,
        policy: &Retention,
    ) -> Result<PruneReport, StoreError> {
        let step = duration_micros("coarse_step", policy.coarse_step)?;
        let raw_for = duration_micros("raw_for", policy.raw_for)?;
        let keep_for = duration_micros("keep_for", policy.keep_for)?;
        if step <= 0 {
            return Err(StoreError::Invalid {
                field: "coarse_step",
                message: "must be at least a microsecond; the default is 5 minutes".into(),
            });
        }
        if raw_for > keep_for {
            return Err(StoreError::Invalid {
                field: "keep_for",
                message: format!(
                    "{:?} is shorter than raw_for ({:?}): keep history at least as long as \
                     raw samples",
                    policy.keep_for, policy.raw_for
                ),
            });
        }
        let now_us = micros(now);
        let too_far = |field| StoreError::Invalid {
            field,
            message: format!("reaches before the earliest time the store keeps, from {now}"),
        };
        let change_cut = now_us
            .checked_sub(keep_for)
            .ok_or_else(|| too_far("keep_for"))?;
        let keep_cut = bucket_start(change_cut, step);
        let raw_cut = bucket_start(
            now_us
                .checked_sub(raw_for)
                .ok_or_else(|| too_far("raw_for"))?,
            step,
        );
        let report = write_tx!(self, |tx, pg| {
            let mut deleted = sqlx::query("DELETE FROM samples WHERE at < $1")
                .bind(keep_cut)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            deleted += sqlx::query("DELETE FROM change_events WHERE at < $1")
                .bind(change_cut)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // The earliest bucket that is not yet one row at its start; everything from there
            // to raw_cut is rewritten (buckets already done are written back as they were).
            let first = sqlx::query(&format!(
                "SELECT MIN(bucket) AS first FROM ( \
                     SELECT {BUCKET} AS bucket, COUNT(*) AS rows_in, MIN(at) AS earliest \
                     FROM samples WHERE at >= $2 AND at < $3 \
                     GROUP BY service, signal, bucket \
                 ) b WHERE rows_in > 1 OR earliest <> bucket"
            ))
            .bind(step)
            .bind(keep_cut)
            .bind(raw_cut)
            .fetch_one(&mut *tx)
            .await?
            .opt_int("first")?;
            let mut downsampled = 0;
            if let Some(first) = first {
                let rows = sqlx::query(&format!(
                    "SELECT service, signal, {BUCKET} AS bucket, \
                         CASE WHEN COUNT(*) = 1 THEN MIN(value) \
                              ELSE SUM(value * n) / CAST(SUM(n) AS DOUBLE PRECISION) END AS mean, \
                         CAST(SUM(n) AS BIGINT) AS n, COUNT(*) AS rows_in, MIN(at) AS earliest \
                     FROM samples WHERE at >= $2 AND at < $3 \
                     GROUP BY service, signal, bucket"
                ))
                .bind(step)
                .bind(first)
                .bind(raw_cut)
                .fetch_all(&mut *tx)
                .await?;
                let mut buckets = Vec::with_capacity(rows.len());
                for r in &rows {
                    let at = r.int("bucket")?;
                    let rows_in = r.int("rows_in")?;
                    if rows_in > 1 || r.int("earliest")? != at {
                        downsampled += u64::try_from(rows_in).unwrap_or(0);
                    }
                    buckets.push(Bucket {
                        service: r.text("service")?,
                        signal: r.text("signal")?,
                        at,
                        value: r.float("mean")?,
                        n: r.int("n")?,
                    });
                }
                sqlx::query("DELETE FROM samples WHERE at >= $1 AND at < $2")
                    .bind(first)
                    .bind(raw_cut)
                    .execute(&mut *tx)
                    .await?;
                for chunk in buckets.chunks(INSERT_CHUNK) {
                    let mut insert = sqlx::QueryBuilder::new(
                        "INSERT INTO samples (at, service, signal, value, n) ",
                    );
                    insert.push_values(chunk, |mut row, b| {
                        row.push_bind(b.at)
                            .push_bind(b.service.as_str())
                            .push_bind(b.signal.as_str())
                            .push_bind(b.value)
                            .push_bind(b.n);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
            }
            PruneReport {
                downsampled,
                deleted,
            }
        });
        Ok(report)
    }

    /// Records a change event; returns its id.
    pub async fn record_change(&self, e: &ChangeEvent) -> Result<i64, StoreError> {
        for (field, value, example) in [
            ("kind", &e.kind, "deploy, config, package or restart"),
            ("source", &e.source, "webhook, file-watch or dpkg"),
        ] {
            if value.trim().is_empty() {
                return Err(StoreError::Invalid {
                    field,
                    message: format!("must not be empty; e.g. {example}"),
                });
            }
        }
        let id = write_tx!(self, |tx, pg| {
            sqlx::query(
                "INSERT INTO change_events (at, kind, service, detail, source) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(micros(e.at))
            .bind(&e.kind)
            .bind(&e.service)
            .bind(&e.detail)
            .bind(&e.source)
            .fetch_one(&mut *tx)
            .await?
            .int("id")?
        });
        Ok(id)
    }

    /// Every change event with `from <= at < to`, oldest first (in the order recorded when
    /// their times are equal).
    pub async fn changes(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ChangeEvent>, StoreError> {
        check_range(from, to)?;
        let changes = read_tx!(self, |tx| {
            let rows = sqlx::query(
                "SELECT at, kind, service, detail, source FROM change_events \
                 WHERE at >= $1 AND at < $2 ORDER BY at, id",
            )
            .bind(ceil_micros(from))
            .bind(ceil_micros(to))
            .fetch_all(&mut *tx)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(ChangeEvent {
                        at: r.ts("at")?,
                        kind: r.text("kind")?,
                        service: r.text("service")?,
                        detail: r.text("detail")?,
                        source: r.text("source")?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_floor_on_both_sides_of_the_epoch() {
        assert_eq!(bucket_start(0, 300), 0);
        assert_eq!(bucket_start(299, 300), 0);
        assert_eq!(bucket_start(300, 300), 300);
        assert_eq!(bucket_start(-1, 300), -300);
    }

    #[test]
    fn range_bounds_round_up_to_the_microsecond() {
        let t = Timestamp::new(10, 500).expect("time");
        assert_eq!(ceil_micros(t), 10_000_001);
        let t = Timestamp::new(10, 1000).expect("time");
        assert_eq!(ceil_micros(t), 10_000_001);
        let t = Timestamp::new(10, 0).expect("time");
        assert_eq!(ceil_micros(t), 10_000_000);
    }
}
