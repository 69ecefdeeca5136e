//! PostgreSQL as a metric source: how many connections are in use against each bound the
//! server enforces — the whole server (`max_connections` less the reserved slots), a role's
//! `CONNECTION LIMIT` (`pg_roles.rolconnlimit`) and a database's (`pg_database.datconnlimit`).
//!
//! Why: a role or database out of connections fails every new session of its callers with
//! "too many connections", while the server answers its probe and its own log says what it
//! said yesterday. The bound is a number the server knows; read as a quantity with its limit
//! (`role_connections_in_use` / `role_connections_max`, the fullest role speaking for all),
//! exhaustion is what the analysis already understands as a pool at its maximum.
//!
//! ```toml
//! [[postgres]]
//! service = "orders-db"
//! url = "postgres://monitor@10.0.0.5:5432/postgres"   # optional: libpq's PG* variables otherwise
//! ```
//!
//! A `[[probes]]` TCP probe whose address answers as PostgreSQL (its SSL negotiation reply) is
//! read the same way with libpq's environment and defaults (`PGUSER`, `PGPASSWORD`,
//! `PGDATABASE`, `~/.pgpass`; the user is this process's user otherwise), as `psql -h HOST -p
//! PORT` would connect; when that login is refused it is dropped with one warning saying to
//! add a `[[postgres]]` entry. `discover_postgres = false` turns this off
//! ([`super::world::LiveWorld::with_postgres_discovery`]). Only `pg_stat_activity`, `pg_roles`, `pg_database` and settings
//! are read: no privilege beyond a plain login is needed.

use std::{str::FromStr, time::Duration};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::{
    ConnectOptions, Connection, Row,
    postgres::{PgConnectOptions, PgConnection},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::history::Sample;

/// One `[[postgres]]` entry.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PostgresSpec {
    /// The service whose signals these are.
    pub service: String,
    /// A connection URL (`postgres://user:password@host:port/database`); without one, libpq's
    /// environment variables and defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Give up connecting or querying after this many milliseconds (default 2000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    2000
}

/// A `[[postgres]]` entry that cannot work as written.
#[derive(Debug, thiserror::Error)]
#[error("[[postgres]] for service '{service}': {problem}")]
pub struct InvalidPostgres {
    /// The entry's service.
    pub service: String,
    /// What is wrong and what to write instead.
    pub problem: String,
}

/// A reading that failed.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// No connection: refused, timed out, or the login was not accepted.
    #[error("cannot connect to PostgreSQL for '{service}': {source}")]
    Connect {
        /// The source's service.
        service: String,
        /// Why.
        source: sqlx::Error,
    },
    /// The query failed or took too long.
    #[error("reading PostgreSQL's connections for '{service}' failed: {problem}")]
    Query {
        /// The source's service.
        service: String,
        /// Why.
        problem: String,
    },
}

impl PostgresError {
    /// Whether the server refused the login itself (a wrong user or password, no such
    /// database): trying again the same way only fills its log.
    pub fn login_refused(&self) -> bool {
        match self {
            Self::Connect {
                source: sqlx::Error::Database(e),
                ..
            } => {
                // 28xxx: invalid authorization; 3D000: no such database.
                e.code()
                    .is_some_and(|c| c.starts_with("28") || c.as_ref() == "3D000")
            }
            _ => false,
        }
    }
}

impl PostgresSpec {
    /// Checks the entry: a service name, a URL PostgreSQL's client can read.
    pub fn validate(&self) -> Result<(), InvalidPostgres> {
        let bad = |problem: String| InvalidPostgres {
            service: self.service.clone(),
            problem,
        };
        if self.service.trim().is_empty() {
            return Err(bad("service must not be empty".into()));
        }
        if let Some(url) = &self.url {
            // The client reads any scheme as its own; another database's URL is a mistake.
            if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
                return Err(bad(format!(
                    "url = \"{}…\" is not a PostgreSQL URL; write postgres://user@host:5432/database",
                    url.chars().take(12).collect::<String>()
                )));
            }
            PgConnectOptions::from_str(url).map_err(|e| {
                bad(format!(
                    "url is not a PostgreSQL URL ({e}); write postgres://user@host:5432/database"
                ))
            })?;
        }
        Ok(())
    }
}

/// What [`PostgresSource::discover`] found at an address.
#[derive(Debug)]
pub enum Discovery {
    /// A PostgreSQL server, and the source that reads it.
    Postgres(Option<Box<PostgresSource>>),
    /// Something else answered: not looked at again.
    Other,
    /// Nothing answered (yet): looked at again at the next reading.
    Unreachable,
}

/// A PostgreSQL server read for its connections, over one connection kept open between
/// readings (opened again when lost).
#[derive(Debug)]
pub struct PostgresSource {
    service: String,
    options: PgConnectOptions,
    timeout: Duration,
    /// Found from a probe rather than configured: dropped when its login is refused.
    discovered: bool,
    conn: tokio::sync::Mutex<Option<PgConnection>>,
}

impl PostgresSource {
    /// The source a `[[postgres]]` entry describes.
    pub fn new(spec: PostgresSpec) -> Result<Self, InvalidPostgres> {
        spec.validate()?;
        let options = match &spec.url {
            Some(url) => PgConnectOptions::from_str(url).map_err(|e| InvalidPostgres {
                service: spec.service.clone(),
                problem: e.to_string(),
            })?,
            None => PgConnectOptions::new(),
        };
        Ok(Self::with_options(
            spec.service,
            options,
            Duration::from_millis(spec.timeout_ms),
            false,
        ))
    }

    fn with_options(
        service: String,
        options: PgConnectOptions,
        timeout: Duration,
        discovered: bool,
    ) -> Self {
        // Named, so a DBA sees who holds the session; quiet, since every reading would log.
        let options = options
            .application_name("opsmcp")
            .log_statements(tracing::log::LevelFilter::Off);
        Self {
            service,
            options,
            timeout,
            discovered,
            conn: tokio::sync::Mutex::new(None),
        }
    }

    /// What answers at `address` (`host:port`): PostgreSQL when its reply to an SSL request
    /// is a single `S` or `N`, which no other common server sends (one that speaks first, as
    /// MySQL does, sends more) — then a source reading it with libpq's defaults.
    pub async fn discover(service: &str, address: &str, timeout: Duration) -> Discovery {
        let Some((host, port)) = address.rsplit_once(':') else {
            return Discovery::Other;
        };
        let Ok(port) = port.parse::<u16>() else {
            return Discovery::Other;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let answered = tokio::time::timeout(timeout, async {
            let Ok(mut s) = TcpStream::connect(address).await else {
                return Discovery::Unreachable;
            };
            // Length 8, then the SSLRequest code 80877103.
            if s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
                .await
                .is_err()
            {
                return Discovery::Other;
            }
            let mut buf = [0u8; 16];
            match s.read(&mut buf).await {
                Ok(1) if matches!(buf[0], b'S' | b'N') => Discovery::Postgres(None),
                _ => Discovery::Other,
            }
        })
        .await
        .unwrap_or(Discovery::Other);
        if !matches!(answered, Discovery::Postgres(_)) {
            return answered;
        }
        let options = PgConnectOptions::new().host(host).port(port);
        tracing::info!(
            service,
            address,
            user = options.get_username(),
            "the probed address answers as PostgreSQL: reading its connections"
        );
        Discovery::Postgres(Some(Box::new(Self::with_options(
            service.to_string(),
            options,
            timeout,
            true,
        ))))
    }

    /// The service these signals are of.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Whether it was found from a probe rather than configured.
    pub fn discovered(&self) -> bool {
        self.discovered
    }

    /// Reads the connections now: `connections_in_use` / `connections_max` for the server,
    /// and for the fullest role and database that have a limit of their own,
    /// `role_connections_in_use` / `role_connections_max` and `database_connections_in_use`
    /// / `database_connections_max`. Our own session is not counted.
    pub async fn read(&self, now: Timestamp) -> Result<Vec<Sample>, PostgresError> {
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            let conn = tokio::time::timeout(self.timeout, self.options.connect())
                .await
                .map_err(|_| PostgresError::Connect {
                    service: self.service.clone(),
                    source: sqlx::Error::PoolTimedOut,
                })?
                .map_err(|source| PostgresError::Connect {
                    service: self.service.clone(),
                    source,
                })?;
            *guard = Some(conn);
        }
        let Some(conn) = guard.as_mut() else {
            return Ok(Vec::new());
        };
        let read = tokio::time::timeout(self.timeout, query(conn)).await;
        let result = match read {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer in {} ms", self.timeout.as_millis())),
        };
        match result {
            Ok(counts) => Ok(counts.samples(&self.service, now)),
            Err(problem) => {
                // A connection that failed once is not trusted again: the next reading opens
                // a new one.
                if let Some(conn) = guard.take() {
                    let _ = tokio::time::timeout(self.timeout, conn.close()).await;
                }
                Err(PostgresError::Query {
                    service: self.service.clone(),
                    problem,
                })
            }
        }
    }
}

/// One reading's counts.
#[derive(Debug, Default, PartialEq)]
struct Counts {
    server: (i64, i64),
    /// The fullest role with a limit: (name, in use, limit).
    role: Option<(String, i64, i64)>,
    /// The fullest database with a limit.
    database: Option<(String, i64, i64)>,
}

impl Counts {
    fn samples(&self, service: &str, now: Timestamp) -> Vec<Sample> {
        let mut out = Vec::new();
        let mut pair = |what: &str, used: i64, max: i64| {
            for (signal, value) in [
                (format!("{what}connections_in_use"), used),
                (format!("{what}connections_max"), max),
            ] {
                out.push(Sample {
                    at: now,
                    service: service.to_string(),
                    signal,
                    value: value as f64,
                });
            }
        };
        pair("", self.server.0, self.server.1);
        if let Some((_, used, max)) = &self.role {
            pair("role_", *used, *max);
        }
        if let Some((_, used, max)) = &self.database {
            pair("database_", *used, *max);
        }
        out
    }
}

/// The fullest of `(name, in use, limit)`, by share of its limit (a limit of 0 is full at
/// once); ties to the name, so the same one speaks from reading to reading.
fn fullest(rows: Vec<(String, i64, i64)>) -> Option<(String, i64, i64)> {
    let share = |used: i64, max: i64| {
        if max <= 0 {
            f64::INFINITY
        } else {
            used as f64 / max as f64
        }
    };
    rows.into_iter().max_by(|a, b| {
        share(a.1, a.2)
            .total_cmp(&share(b.1, b.2))
            .then_with(|| b.0.cmp(&a.0))
    })
}

const SERVER: &str = "\
SELECT
  (SELECT count(*) FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())::bigint,
  (current_setting('max_connections')::int
    - current_setting('superuser_reserved_connections')::int
    - coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0))::bigint";

// Only roles and databases with a limit of their own (-1 is none); a role that cannot log in
// holds no session.
const ROLES: &str = "\
SELECT r.rolname::text, count(a.pid)::bigint, r.rolconnlimit::bigint
  FROM pg_roles r
  LEFT JOIN pg_stat_activity a
    ON a.usename = r.rolname AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
 WHERE r.rolconnlimit >= 0 AND r.rolcanlogin
 GROUP BY r.rolname, r.rolconnlimit";

const DATABASES: &str = "\
SELECT d.datname::text, count(a.pid)::bigint, d.datconnlimit::bigint
  FROM pg_database d
  LEFT JOIN pg_stat_activity a
    ON a.datname = d.datname AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
 WHERE d.datconnlimit >= 0 AND d.datallowconn
 GROUP BY d.datname, d.datconnlimit";

async fn query(conn: &mut PgConnection) -> Result<Counts, sqlx::Error> {
    let server = sqlx::query(SERVER).fetch_one(&mut *conn).await?;
    let triples =
        |rows: Vec<sqlx::postgres::PgRow>| -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect()
        };
    let roles = triples(sqlx::query(ROLES).fetch_all(&mut *conn).await?)?;
    let databases = triples(sqlx::query(DATABASES).fetch_all(&mut *conn).await?)?;
    Ok(Counts {
        server: (server.try_get(0)?, server.try_get(1)?),
        role: fullest(roles),
        database: fullest(databases),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fullest_bound_speaks_and_ties_go_by_name() {
        let rows = vec![
            ("batch".to_string(), 3, 4),
            ("app".to_string(), 12, 12),
            ("zeta".to_string(), 12, 12),
        ];
        assert_eq!(fullest(rows), Some(("app".to_string(), 12, 12)));
        assert_eq!(
            fullest(vec![("locked".into(), 0, 0), ("app".into(), 5, 6)]),
            Some(("locked".to_string(), 0, 0))
        );
        assert_eq!(fullest(Vec::new()), None);
    }

    #[test]
    fn an_entry_that_cannot_work_says_what_to_write() {
        let spec = |url: &str| PostgresSpec {
            service: "db".into(),
            url: Some(url.into()),
            timeout_ms: 2000,
        };
        assert!(
            spec("postgres://monitor@127.0.0.1:5432/postgres")
                .validate()
                .is_ok()
        );
        let err = spec("mysql://x@y/z").validate().unwrap_err();
        assert!(err.to_string().contains("postgres://"), "{err}");
        let typo: Result<PostgresSpec, _> = toml::from_str("service = \"db\"\nuri = \"x\"\n");
        assert!(typo.unwrap_err().to_string().contains("uri"));
    }

    /// Against the real server of the test machines (`OPSMCP_TEST_DATABASE_URL`): a role of
    /// our own with a limit of 3, all 3 of its connections taken, is the fullest role, at its
    /// limit.
    #[tokio::test]
    async fn a_role_with_all_its_connections_taken_is_read_at_its_limit() {
        let Ok(url) = std::env::var("OPSMCP_TEST_DATABASE_URL") else {
            eprintln!("OPSMCP_TEST_DATABASE_URL not set: skipped");
            return;
        };
        let mut admin = PgConnection::connect(&url).await.unwrap();
        let role = format!("opsmcp_pgsrc_{}", std::process::id());
        let _ = sqlx::query(&format!("DROP ROLE IF EXISTS {role}"))
            .execute(&mut admin)
            .await;
        sqlx::query(&format!("CREATE ROLE {role} LOGIN CONNECTION LIMIT 3"))
            .execute(&mut admin)
            .await
            .unwrap();
        let mut as_role = PgConnectOptions::from_str(&url).unwrap().username(&role);
        as_role = as_role.application_name("holder");
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(as_role.connect().await.unwrap());
        }
        let source = PostgresSource::new(PostgresSpec {
            service: "db".into(),
            url: Some(url.clone()),
            timeout_ms: 5000,
        })
        .unwrap();
        let samples = source.read(Timestamp::now()).await;
        for c in held {
            let _ = c.close().await;
        }
        sqlx::query(&format!("DROP ROLE {role}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let samples = samples.unwrap();
        let get = |s: &str| samples.iter().find(|x| x.signal == s).map(|x| x.value);
        assert_eq!(get("role_connections_in_use"), Some(3.0), "{samples:?}");
        assert_eq!(get("role_connections_max"), Some(3.0), "{samples:?}");
        assert!(get("connections_in_use").is_some_and(|v| v >= 3.0));
        assert!(get("connections_max").is_some_and(|v| v > 3.0));
    }
}
