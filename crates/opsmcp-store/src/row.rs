//! Reading rows the same way from both backends. Only four column shapes are stored (BIGINT and
//! TEXT, each nullable or not) so that one set of queries and one decoder serve SQLite and
//! PostgreSQL; this trait is that decoder, implemented once per backend row type. The one
//! exception is a sample's value (`DOUBLE PRECISION`, an 8-byte IEEE double in both backends,
//! never null), so that history can be averaged in SQL.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::error::StoreError;

/// Typed column access shared by both backends' rows.
pub(crate) trait RowExt {
    fn int(&self, col: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError>;
    fn text(&self, col: &str) -> Result<String, StoreError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn float(&self, col: &str) -> Result<f64, StoreError>;

    fn ts(&self, col: &str) -> Result<Timestamp, StoreError> {
        from_micros(self.int(col)?)
    }

    fn opt_ts(&self, col: &str) -> Result<Option<Timestamp>, StoreError> {
        self.opt_int(col)?.map(from_micros).transpose()
    }

    fn json(&self, col: &str) -> Result<serde_json::Value, StoreError> {
        let text = self.text(col)?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            what: "JSON column",
            detail: format!("{col}: {e}"),
        })
    }
}

macro_rules! impl_row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn int(&self, col: &str) -> Result<i64, StoreError> {
                Ok(self.try_get::<i64, _>(col)?)
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
                Ok(self.try_get::<Option<i64>, _>(col)?)
            }
            fn text(&self, col: &str) -> Result<String, StoreError> {
                Ok(self.try_get::<String, _>(col)?)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
                Ok(self.try_get::<Option<String>, _>(col)?)
            }
            fn float(&self, col: &str) -> Result<f64, StoreError> {
                Ok(self.try_get::<f64, _>(col)?)
            }
        }
    };
}

impl_row_ext!(SqliteRow);
impl_row_ext!(PgRow);

/// Timestamps are stored as microseconds since the epoch: exact, sortable, and the same type in
/// both backends (sqlx has no jiff support, and TEXT would sort wrongly across years ≥ 10000).
pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn from_micros(us: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(us).map_err(|e| StoreError::Corrupt {
        what: "timestamp",
        detail: format!("{us} µs: {e}"),
    })
}
