//! The actions applied to a simulated world. A simulated world is a pure function of its
//! scenario, seed, start and the actions applied to it; storing the actions is what lets
//! separate processes (several servers, a restarted one) replay them and agree on the world.
//! What an action does is the world's business, not the store's.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::row::{RowExt, micros};
use crate::store::Store;

/// One action applied to one simulated run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldAction {
    /// The scenario's name.
    pub scenario: String,
    /// The run's seed.
    pub seed: u64,
    /// The action's name.
    pub action: String,
    /// The service it was applied to.
    pub target: String,
    /// When it was applied (kept to the microsecond, like every time in the store).
    pub at: Timestamp,
}

/// Seeds are `u64`; both backends store signed 64-bit integers, so the bits are kept as they
/// are (`u64::MAX` is stored as -1) and read back the same way.
fn seed_to_db(seed: u64) -> i64 {
    i64::from_ne_bytes(seed.to_ne_bytes())
}

fn seed_from_db(seed: i64) -> u64 {
    u64::from_ne_bytes(seed.to_ne_bytes())
}

impl Store {
    /// Records that `action.action` was applied to `action.target` at `action.at` in the run
    /// (`scenario`, `seed`). The time is the world's, as given, not the store's clock.
    pub async fn record_world_action(&self, action: &WorldAction) -> Result<(), StoreError> {
        write_tx!(self, |tx, pg| {
            sqlx::query(
                "INSERT INTO world_actions (scenario, seed, action, target, at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&action.scenario)
            .bind(seed_to_db(action.seed))
            .bind(&action.action)
            .bind(&action.target)
            .bind(micros(action.at))
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Every action recorded for the run (`scenario`, `seed`), in the order recorded.
    pub async fn world_actions(
        &self,
        scenario: &str,
        seed: u64,
    ) -> Result<Vec<WorldAction>, StoreError> {
        let actions = read_tx!(self, |tx| {
            let rows = sqlx::query(
                "SELECT scenario, seed, action, target, at FROM world_actions \
                 WHERE scenario = $1 AND seed = $2 ORDER BY id",
            )
            .bind(scenario)
            .bind(seed_to_db(seed))
            .fetch_all(&mut *tx)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(WorldAction {
                        scenario: r.text("scenario")?,
                        seed: seed_from_db(r.int("seed")?),
                        action: r.text("action")?,
                        target: r.text("target")?,
                        at: r.ts("at")?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        Ok(actions)
    }
}
