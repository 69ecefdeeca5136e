//! What the live world's history costs: `record_samples` throughput in batches of 100, reads of
//! 1 h and 24 h windows, bytes on disk per day, and pruning — for 100 series sampled every 10 s,
//! on SQLite (a file in a temporary directory, as `Store::open` configures it: WAL,
//! `synchronous=FULL`) and on PostgreSQL (a schema of its own in the database named by
//! `HISTORY_BENCH_DATABASE_URL`, else `OPSMCP_TEST_DATABASE_URL`; skipped without either).
//!
//! ```sh
//! cargo bench -p opsmcp-store --bench history
//! ```
//!
//! `HISTORY_BENCH_HOURS` (default 24) sets how much history is recorded (the day's bytes are then
//! scaled from it), `HISTORY_BENCH_BACKENDS` (default "sqlite postgres") which backends run.
//! Also timed, for comparison: the same batches written as 100 single-row INSERTs of one
//! prepared statement per transaction, instead of the store's one multi-row INSERT.

use std::str::FromStr;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use opsmcp_store::{Retention, Sample, Store};
use sqlx::Connection;

const SERIES_SERVICES: usize = 20;
const SIGNALS: [&str; 5] = [
    "cpu_percent",
    "rss_bytes",
    "open_fds",
    "latency_p99_ms",
    "error_rate",
];
const STEP_SECS: i64 = 10;
const BATCH: usize = 100;
/// Batches written the other way, for comparison.
const PREPARED_BATCHES: usize = 300;

type Error = Box<dyn std::error::Error>;

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The 100 samples of one tick.
fn tick(at: Timestamp, i: usize) -> Vec<Sample> {
    let mut out = Vec::with_capacity(BATCH);
    for s in 0..SERIES_SERVICES {
        for (k, signal) in SIGNALS.iter().enumerate() {
            out.push(Sample {
                at,
                service: format!("service-{s:02}"),
                signal: (*signal).into(),
                value: ((i * 7 + s * 13 + k) % 1000) as f64 * 0.37,
            });
        }
    }
    out
}

enum Db {
    Sqlite {
        _dir: tempfile::TempDir,
        path: std::path::PathBuf,
    },
    Postgres {
        base: String,
        schema: String,
    },
}

impl Db {
    fn url(&self) -> String {
        match self {
            Db::Sqlite { path, .. } => format!("sqlite://{}", path.display()),
            Db::Postgres { base, schema } => {
                let sep = if base.contains('?') { '&' } else { '?' };
                format!("{base}{sep}options=-c%20search_path%3D{schema}")
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres { .. } => "postgres",
        }
    }

    /// Bytes the samples take: the SQLite file after a checkpoint (so the WAL is in it), or
    /// PostgreSQL's `pg_total_relation_size('samples')` (heap, key index, TOAST).
    async fn bytes(&self) -> Result<u64, Error> {
        match self {
            Db::Sqlite { path, .. } => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url()).await?;
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&mut conn)
                    .await?;
                conn.close().await?;
                let wal = std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
                Ok(std::fs::metadata(path)?.len() + wal)
            }
            Db::Postgres { .. } => {
                let mut conn = sqlx::PgConnection::connect(&self.url()).await?;
                let n: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('samples')")
                    .fetch_one(&mut conn)
                    .await?;
                conn.close().await?;
                Ok(u64::try_from(n)?)
            }
        }
    }

    async fn drop_schema(&self) -> Result<(), Error> {
        if let Db::Postgres { base, schema } = self {
            let mut admin = sqlx::PgConnection::connect(base).await?;
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&mut admin)
                .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

/// The comparison: each batch one transaction of 100 executions of one prepared INSERT.
async fn prepared_rows_per_sec(db: &Db, t0: Timestamp) -> Result<f64, Error> {
    const INSERT: &str = "INSERT INTO samples (at, service, signal, value) VALUES ($1, $2, $3, $4)";
    let batches: Vec<Vec<Sample>> = (0..PREPARED_BATCHES)
        .map(|i| tick(t0 + SignedDuration::from_secs(STEP_SECS * i as i64), i))
        .collect();
    let started = Instant::now();
    match db {
        Db::Sqlite { .. } => {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&db.url())?
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
            let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
            for batch in &batches {
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                for s in batch {
                    sqlx::query(INSERT)
                        .bind(s.at.as_microsecond())
                        .bind(&s.service)
                        .bind(&s.signal)
                        .bind(s.value)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
        }
        Db::Postgres { .. } => {
            let mut conn = sqlx::PgConnection::connect(&db.url()).await?;
            for batch in &batches {
                let mut tx = conn.begin().await?;
                for s in batch {
                    sqlx::query(INSERT)
                        .bind(s.at.as_microsecond())
                        .bind(&s.service)
                        .bind(&s.signal)
                        .bind(s.value)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
        }
    }
    Ok((PREPARED_BATCHES * BATCH) as f64 / started.elapsed().as_secs_f64())
}

/// The middle one of some timings.
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// The median of `runs` reads of `[from, to)`, and how many samples it returned.
async fn read(
    store: &Store,
    from: Timestamp,
    to: Timestamp,
    runs: usize,
) -> Result<(Duration, usize), Error> {
    let mut times = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let started = Instant::now();
        rows = store.samples(from, to).await?.len();
        times.push(started.elapsed());
    }
    Ok((median(times), rows))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn bench(db: &Db, hours: usize) -> Result<(), Error> {
    let name = db.name();
    let store = Store::open(&db.url()).await?;
    let t0: Timestamp = "2026-11-01T00:00:00Z".parse()?;
    let ticks = hours * 3600 / STEP_SECS as usize;
    let before = db.bytes().await?;

    let started = Instant::now();
    for i in 0..ticks {
        let at = t0 + SignedDuration::from_secs(STEP_SECS * i as i64);
        store.record_samples(&tick(at, i)).await?;
    }
    let fill = started.elapsed();
    let rows = ticks * BATCH;
    let after = db.bytes().await?;
    let per_row = (after - before) as f64 / rows as f64;
    let per_day = per_row * (86_400 / STEP_SECS as usize * BATCH) as f64;

    let end = t0 + SignedDuration::from_secs(STEP_SECS * ticks as i64);
    let hour = read(&store, end - SignedDuration::from_hours(1), end, 5).await?;
    let day = read(&store, end - SignedDuration::from_hours(24), end, 3).await?;

    // Pruning an hour past raw_for, as an hourly prune would in the steady state: three hours.
    let policy = Retention::default();
    let mut hourly = Vec::new();
    let mut hourly_rows = 0;
    for h in 1..=3 {
        let started = Instant::now();
        hourly_rows = store
            .prune_samples(end + SignedDuration::from_hours(h), &policy)
            .await?
            .downsampled;
        hourly.push(started.elapsed());
    }
    let mut idle = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        store
            .prune_samples(end + SignedDuration::from_hours(3), &policy)
            .await?;
        idle.push(started.elapsed());
    }
    // The rest of the day in one go (a backlog: pruning never ran).
    let started = Instant::now();
    let backlog = store
        .prune_samples(end + SignedDuration::from_hours(24), &policy)
        .await?;
    let backlog_time = started.elapsed();
    store.close().await;

    let prepared = prepared_rows_per_sec(db, end + SignedDuration::from_hours(48)).await?;

    println!("\n### {name} ({hours} h of 100 series at 10 s recorded)\n");
    println!("| what | result |");
    println!("|---|---|");
    println!(
        "| `record_samples`, batches of 100 (one multi-row INSERT per transaction) | {:.0} rows/s ({:.2} ms per batch) |",
        rows as f64 / fill.as_secs_f64(),
        fill.as_secs_f64() * 1000.0 / ticks as f64
    );
    println!(
        "| same batches as 100 executions of one prepared INSERT per transaction | {prepared:.0} rows/s |"
    );
    println!(
        "| `samples` over 1 h ({} rows), median of 5 | {} |",
        hour.1,
        ms(hour.0)
    );
    println!(
        "| `samples` over 24 h ({} rows), median of 3 | {} |",
        day.1,
        ms(day.0)
    );
    println!(
        "| bytes on disk | {:.1} B/sample, {:.1} MB/day for 100 series at 10 s |",
        per_row,
        per_day / 1e6
    );
    println!(
        "| `prune_samples`, one hour past raw_for ({hourly_rows} samples → buckets), median of 3 | {} |",
        ms(median(hourly))
    );
    println!(
        "| `prune_samples` again, nothing to do, median of 5 | {} |",
        ms(median(idle))
    );
    println!(
        "| `prune_samples`, the remaining {} h at once ({} samples) | {} |",
        hours.saturating_sub(3),
        backlog.downsampled,
        ms(backlog_time)
    );
    Ok(())
}

async fn postgres() -> Result<Option<Db>, Error> {
    let Some(base) = std::env::var("HISTORY_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("OPSMCP_TEST_DATABASE_URL"))
        .ok()
    else {
        println!(
            "postgres skipped: set HISTORY_BENCH_DATABASE_URL or OPSMCP_TEST_DATABASE_URL \
             (e.g. postgres://postgres@127.0.0.1:5432/test)"
        );
        return Ok(None);
    };
    let schema = format!("opsmcp_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base).await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(Some(Db::Postgres { base, schema }))
}

fn main() -> Result<(), Error> {
    let hours = env_usize("HISTORY_BENCH_HOURS", 24).max(4);
    let backends =
        std::env::var("HISTORY_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite postgres".into());
    // Writes are fsync-bound and reads CPU-bound: other work on the machine shows in both.
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average before: {}", load().trim());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        for backend in backends.split_whitespace() {
            let db = match backend {
                "sqlite" => {
                    let dir = tempfile::tempdir()?;
                    let path = dir.path().join("history.db");
                    Db::Sqlite { _dir: dir, path }
                }
                "postgres" => match postgres().await? {
                    Some(db) => db,
                    None => continue,
                },
                other => return Err(format!("unknown backend {other:?}").into()),
            };
            // The schema goes also when the run fails.
            let outcome = bench(&db, hours).await;
            db.drop_schema().await?;
            outcome?;
        }
        println!("\nload average after: {}", load().trim());
        Ok(())
    })
}
