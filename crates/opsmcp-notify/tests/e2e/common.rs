//! Stores for the tests (as in opsmcp-store's own tests: SQLite in a temporary directory, or a
//! PostgreSQL schema of the test's own, dropped afterwards) and waiting for conditions.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use opsmcp_notify::DeliverySettings;
use opsmcp_store::{Notification, Store};
use sqlx::Connection;

/// The environment variable naming the PostgreSQL database the tests may use.
pub const PG_ENV: &str = "OPSMCP_TEST_DATABASE_URL";

/// How long a test waits for something that should take well under a second.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A database one test owns.
pub struct TestDb {
    /// What `Store::open` is given.
    pub url: String,
    /// The data directory (SQLite's file, notification files); kept alive with the test.
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

/// A fresh SQLite database in a temporary directory.
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("opsmcp.db").display());
    TestDb { url, dir, pg: None }
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
    let schema = format!("opsmcp_notify_test_{}", uuid::Uuid::new_v4().simple());
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
        dir: tempfile::tempdir().expect("temporary directory"),
        pg: Some((base, schema)),
    })
}

/// What a test is handed: an open store, its URL (to open a second one, as another replica
/// would) and a data directory.
pub struct Ctx {
    /// The store.
    pub store: Store,
    /// Its URL.
    pub url: String,
    /// A data directory for files.
    pub dir: std::path::PathBuf,
}

/// Opens a store on `db`, runs `test`, then drops the PostgreSQL schema — also when the test
/// panics, whose panic is then passed on.
pub async fn run<F, Fut>(db: TestDb, test: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let store = Store::open(&db.url).await.expect("opening the store");
    let ctx = Ctx {
        store,
        url: db.url.clone(),
        dir: db.dir.path().to_path_buf(),
    };
    let failure = tokio::spawn(test(ctx)).await.err();
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
    if let Some(e) = failure {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

/// `both_backends!(name, test_fn)` makes `name::sqlite` and `name::postgres` tests that run
/// `test_fn(ctx)`.
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

/// Delivery settings that retry quickly, so tests with a receiver down finish soon, and never
/// give up on their own.
pub fn fast() -> DeliverySettings {
    DeliverySettings {
        max_attempts: 10_000,
        backoff_base_ms: 20,
        backoff_max_ms: 200,
        retry_after_max_ms: 10_000,
        poll_interval_ms: 50,
        batch_size: 8,
        send_timeout_ms: 5_000,
        lease_ms: 30_000,
    }
}

/// Waits until `check` holds, panicking with `what` after [`DEADLINE`].
pub async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("gave up after {DEADLINE:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The incident every test notification is about, so the store can list them.
pub const INCIDENT: &str = "INC-0001";

/// The test incident's notifications.
pub async fn notifications(store: &Store) -> Vec<Notification> {
    store
        .notifications_for_incident(INCIDENT)
        .await
        .expect("listing notifications")
}
