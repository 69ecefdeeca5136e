//! Opening a store: choosing the backend from the URL, configuring it for durability, and
//! bringing the schema up to date.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::StoreError;

/// Where "now" comes from. The real clock by default; tests and simulations hand in their own,
/// which is how the store's guarantee that timestamps never run backwards is exercised.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The one place that knows there are two backends.
#[derive(Clone)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The incident store. Cheap to clone (the connection pool is shared); every method is one
/// transaction.
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    clock: Clock,
    /// The audit key and anchor; without one, new audit links are plain SHA-256.
    pub(crate) seal: Option<Arc<crate::seal::Seal>>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &backend_name(&self.backend))
            .finish()
    }
}

/// How long a SQLite writer waits for another one (in this or another process) before giving up.
/// Writes are short, so this is only reached when something is badly stuck.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

impl Store {
    /// Opens (and migrates) the store at `url`:
    ///
    /// - `sqlite:///path/to/opsmcp.db` — the file and its directory are created if missing (the
    ///   file 0600, so its `-wal` and `-shm` are too, and missing folders 0700; a file or folder
    ///   that already exists keeps its mode); WAL
    ///   so readers never wait for the writer, `synchronous=FULL` because a commit we report
    ///   must survive a power cut, foreign keys on.
    /// - `postgres://…` or `postgresql://…` — any URL sqlx accepts, e.g. with
    ///   `?options=-c%20search_path%3Dmy_schema` to use a schema of one's own.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            if !url.contains(":memory:") && !url.contains("mode=memory") {
                create_private(options.get_filename())?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                // A SQLite connection is a file handle on this host: it does not go stale as a
                // network one does, and the test is a round trip to its thread per transaction
                // (on the audit writer's path, one per batch).
                .test_before_acquire(false)
                .connect_with(options)
                .await?;
            sqlx::migrate!("migrations/sqlite").run(&pool).await?;
            Backend::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await?;
            sqlx::migrate!("migrations/postgres").run(&pool).await?;
            Backend::Postgres(pool)
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            return Err(StoreError::UnsupportedUrl {
                url: format!("{scheme}:…"),
            });
        };
        tracing::debug!(backend = backend_name(&backend), "store opened");
        Ok(Store {
            backend,
            clock: Arc::new(Timestamp::now),
            seal: None,
        })
    }

    /// Opens the store at `url` for reading only, for whoever may read it but not write it (an
    /// auditor): nothing is created or migrated, and a SQLite file is opened read-only — also in
    /// a read-only folder, where SQLite cannot create the `-shm` file a WAL database wants (a
    /// file with no `-wal` beside it is read as immutable). A schema older than this build's is
    /// refused with what to do, since its reads would fail.
    pub async fn open_read_only(url: &str) -> Result<Store, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .read_only(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            // With no `-wal` file every commit is in the database file and nobody is writing
            // (a writer makes one): read it as immutable, which creates nothing — no `-shm`,
            // so it works in a read-only folder and leaves no file of the reader's that the
            // server's user could not write. A `-wal` there holds commits: read it as SQLite
            // does.
            let mut wal = options.get_filename().as_os_str().to_owned();
            wal.push("-wal");
            let options = if std::path::Path::new(&wal).exists() {
                options
            } else {
                options.immutable(true)
            };
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await?;
            let applied = applied_migrations(&pool).await?;
            check_schema(&sqlx::migrate!("migrations/sqlite"), &applied)?;
            Backend::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(2)
                .connect_with(options)
                .await?;
            let applied = applied_migrations(&pool).await?;
            check_schema(&sqlx::migrate!("migrations/postgres"), &applied)?;
            Backend::Postgres(pool)
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            return Err(StoreError::UnsupportedUrl {
                url: format!("{scheme}:…"),
            });
        };
        tracing::debug!(backend = backend_name(&backend), "store opened read-only");
        Ok(Store {
            backend,
            clock: Arc::new(Timestamp::now),
            seal: None,
        })
    }

    /// Links new audit entries with `key` (HMAC-SHA256) and keeps its anchor (log, gauge, file)
    /// up to date on every audit write; verification checks keyed links and the anchor.
    pub fn with_audit_key(mut self, key: crate::seal::AuditKey) -> Store {
        self.seal = Some(crate::seal::Seal::new(key));
        self
    }

    /// Writes the audit anchor file now (it is otherwise written by a thread, at most every
    /// 100 ms, and when the last clone of the store is dropped).
    pub fn flush_audit_anchor(&self) {
        if let Some(seal) = &self.seal {
            seal.flush();
        }
    }

    /// Uses `clock` for every timestamp from now on.
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    /// Closes the connections, waiting for them to be returned. Dropping the store also closes
    /// them, eventually; this is for callers that must know the file is released.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(pool) => pool.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }

    /// Now, cut to the microsecond the store keeps, so what a call returns equals what a later
    /// read returns.
    pub(crate) fn now(&self) -> Timestamp {
        let t = (self.clock)();
        Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
    }
}

/// The schema versions applied to a store (none when it was never migrated).
async fn applied_migrations<'e, E>(executor: E) -> Result<Vec<i64>, StoreError>
where
    E: sqlx::Executor<'e> + Copy,
    E::Database: sqlx::Database,
    for<'q> <E::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, E::Database>,
    i64: sqlx::Type<E::Database> + for<'r> sqlx::Decode<'r, E::Database>,
    for<'r> (i64,): sqlx::FromRow<'r, <E::Database as sqlx::Database>::Row>,
{
    let rows: Vec<(i64,)> =
        match sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(executor)
            .await
        {
            Ok(rows) => rows,
            // No migrations table: nothing was ever written here.
            Err(sqlx::Error::Database(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
    Ok(rows.into_iter().map(|(v,)| v).collect())
}

/// Whether every migration of this build is applied; a read-only open cannot apply them.
fn check_schema(migrator: &sqlx::migrate::Migrator, applied: &[i64]) -> Result<(), StoreError> {
    let missing = migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
        .count();
    if missing == 0 {
        return Ok(());
    }
    // Not a variant of its own: the servers' error mapping matches every variant, and this one
    // only a read-only open (a command line) can meet.
    Err(StoreError::Invalid {
        field: "store",
        message: format!(
            "its schema is {missing} migration(s) behind this opsmcp (or it is not an opsmcp \
             store); open it once with write access (`opsmcp up`) to bring it up to date"
        ),
    })
}

/// Creates the database file's missing folders (0700) and the file itself, empty, 0600 (SQLite
/// takes an empty file as a new database and gives `-wal`/`-shm` the database file's mode).
/// What already exists is left as it is.
fn create_private(file: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = file.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

fn backend_name(backend: &Backend) -> &'static str {
    match backend {
        Backend::Sqlite(_) => "sqlite",
        Backend::Postgres(_) => "postgres",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read-only open reads what a writer stored, creates no file (not even for a database
    /// that is not there), and refuses a database without this build's schema.
    #[tokio::test]
    async fn read_only_opens_create_nothing_and_check_the_schema() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let file = dir.path().join("opsmcp.db");
        let url = format!("sqlite://{}", file.display());
        assert!(Store::open_read_only(&url).await.is_err());
        assert!(!file.exists(), "a read-only open created the database");

        let store = Store::open(&url).await.expect("open");
        store.close().await;
        drop(store);
        let names = || {
            let mut n: Vec<_> = std::fs::read_dir(dir.path())
                .expect("list")
                .map(|e| e.expect("entry").file_name())
                .collect();
            n.sort();
            n
        };
        let before = names();
        let reader = Store::open_read_only(&url).await.expect("read-only open");
        assert!(reader.audit_entries(0, 10).await.expect("read").is_empty());
        reader.close().await;
        assert_eq!(names(), before);

        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, b"").expect("an empty file");
        let err = Store::open_read_only(&format!("sqlite://{}", empty.display()))
            .await
            .expect_err("no schema");
        assert!(err.to_string().contains("schema"), "{err}");
    }

    /// The durability promise is a per-connection pragma, so it can only be seen from inside:
    /// every pooled SQLite connection must run WAL with `synchronous=FULL` (2).
    #[tokio::test]
    async fn sqlite_connections_are_durable() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("opsmcp.db").display());
        let store = Store::open(&url).await.expect("open");
        let Backend::Sqlite(pool) = &store.backend else {
            panic!("a sqlite URL must open SQLite");
        };
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .expect("synchronous");
        assert_eq!(sync, 2, "synchronous must be FULL");
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .expect("journal_mode");
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .expect("foreign_keys");
        assert_eq!(fk, 1);
    }
}
