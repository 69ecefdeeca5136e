//! Runs each store test against SQLite (a file in a temporary directory) and PostgreSQL (a
//! schema of its own, created and dropped around the test, in the database named by
//! `OPSMCP_TEST_DATABASE_URL`). Without that variable the PostgreSQL variant says it was
//! skipped and passes, so `cargo test` works on a machine without PostgreSQL.

#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::Timestamp;
use opsmcp_store::{Clock, Store};
use sqlx::Connection;

/// The environment variable naming the PostgreSQL database the tests may use.
pub const PG_ENV: &str = "OPSMCP_TEST_DATABASE_URL";

/// A database one test owns.
pub struct TestDb {
    /// What `Store::open` is given.
    pub url: String,
    dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// The SQLite file's path, for tests that reopen it.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self.dir.as_ref().map(|d| d.path().join("data/opsmcp.db"))
    }
}

/// A fresh SQLite database in a temporary directory (its `data/` subdirectory does not exist
/// yet, so opening also proves the directory is created).
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("data/opsmcp.db").display());
    TestDb {
        url,
        dir: Some(dir),
        pg: None,
    }
}

/// A fresh schema in the PostgreSQL test database, or `None` (after saying so) without one.
pub async fn postgres() -> Option<TestDb> {
    let Ok(base) = std::env::var(PG_ENV) else {
        println!(
            "SKIPPED: set {PG_ENV} (e.g. postgres://postgres@127.0.0.1:5432/test) to run this \
             test against PostgreSQL"
        );
        return None;
    };
    let schema = format!("opsmcp_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .expect("connecting to the PostgreSQL test database");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .expect("creating the test schema");
    admin.close().await.expect("closing the admin connection");
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    Some(TestDb {
        url,
        dir: None,
        pg: Some((base, schema)),
    })
}

/// Opens a store on `db`, runs `test` on it, then drops the PostgreSQL schema — also when opening
/// fails or the test panics, whose panic is then passed on.
pub async fn run<F, Fut>(db: TestDb, test: F)
where
    F: FnOnce(Store, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (open_error, failure) = match Store::open(&db.url).await {
        Ok(store) => (None, tokio::spawn(test(store, db.url.clone())).await.err()),
        Err(e) => (Some(e), None),
    };
    if let Some((base, schema)) = &db.pg {
        let mut admin = sqlx::PgConnection::connect(base)
            .await
            .expect("connecting to drop the test schema");
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&mut admin)
            .await
            .expect("dropping the test schema");
        admin.close().await.expect("closing the admin connection");
    }
    if let Some(e) = open_error {
        panic!("opening the store: {e}");
    }
    if let Some(e) = failure {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

/// Runs raw SQL against the test database behind the store's back (to tamper with it).
pub async fn raw_exec(url: &str, sql: &str) -> u64 {
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url)
            .await
            .expect("raw sqlite");
        sqlx::query(sql)
            .execute(&mut conn)
            .await
            .expect(sql)
            .rows_affected()
    } else {
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .expect("raw postgres");
        sqlx::query(sql)
            .execute(&mut conn)
            .await
            .expect(sql)
            .rows_affected()
    }
}

/// A clock the test moves by hand.
#[derive(Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// Starts at `t`.
    pub fn at(t: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicI64::new(t.as_microsecond())))
    }

    /// Moves to `t` — backwards too, which is the point.
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.as_microsecond(), Ordering::SeqCst);
    }

    /// The clock to hand to `Store::with_clock`.
    pub fn clock(&self) -> Clock {
        let inner = self.0.clone();
        Arc::new(move || {
            Timestamp::from_microsecond(inner.load(Ordering::SeqCst)).expect("valid time")
        })
    }
}

/// `both_backends!(name, test_fn)` makes `name::sqlite` and `name::postgres` tests that run
/// `test_fn(store, url)`.
macro_rules! both_backends {
    ($name:ident, $test:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                crate::common::run(crate::common::sqlite(), super::$test).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = crate::common::postgres().await {
                    crate::common::run(db, super::$test).await;
                }
            }
        }
    };
}
