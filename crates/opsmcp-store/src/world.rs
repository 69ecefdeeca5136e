//! Simulated world runs and the actions applied to them. A simulated world is a pure function
//! of its scenario, seed, start and the actions applied to it; storing the run and its actions
//! is what lets separate processes (several servers, a restarted one) replay them and agree on
//! the world. What an action does is the world's business, not the store's.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::row::{RowExt, micros};
use crate::store::Store;

/// One play of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldRun {
    /// Its number.
    pub id: i64,
    /// The scenario's name.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// When the world started (the fault began some minutes before).
    pub started_at: Timestamp,
}

/// One action applied to a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldAction {
    /// The action's name.
    pub action: String,
    /// The service it was applied to.
    pub target: String,
    /// When it was applied (kept to the microsecond, like every time in the store).
    pub at: Timestamp,
    /// It undoes the latest earlier application of the same action on the same target.
    pub rollback: bool,
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
    /// Starts a new run of (`scenario`, `seed`) at `started_at`.
    pub async fn start_world_run(
        &self,
        scenario: &str,
        seed: u64,
        started_at: Timestamp,
    ) -> Result<WorldRun, StoreError> {
        let id = write_tx!(self, |tx, pg| {
            let row = sqlx::query(
                "INSERT INTO world_runs (scenario, seed, started_at) VALUES ($1, $2, $3) \
                 RETURNING id",
            )
            .bind(scenario)
            .bind(seed_to_db(seed))
            .bind(micros(started_at))
            .fetch_one(&mut *tx)
            .await?;
            row.int("id")?
        });
        Ok(WorldRun {
            id,
            scenario: scenario.into(),
            seed,
            started_at: Timestamp::from_microsecond(micros(started_at)).unwrap_or(started_at),
        })
    }

    /// The most recent run of (`scenario`, `seed`), if there is one.
    pub async fn latest_world_run(
        &self,
        scenario: &str,
        seed: u64,
    ) -> Result<Option<WorldRun>, StoreError> {
        let run = read_tx!(self, |tx| {
            let row = sqlx::query(
                "SELECT id, scenario, seed, started_at FROM world_runs \
                 WHERE scenario = $1 AND seed = $2 ORDER BY id DESC LIMIT 1",
            )
            .bind(scenario)
            .bind(seed_to_db(seed))
            .fetch_optional(&mut *tx)
            .await?;
            match row {
                Some(r) => Some(WorldRun {
                    id: r.int("id")?,
                    scenario: r.text("scenario")?,
                    seed: seed_from_db(r.int("seed")?),
                    started_at: r.ts("started_at")?,
                }),
                None => None,
            }
        });
        Ok(run)
    }

    /// Records `action` in run `run`. The time is the world's, as given, not the store's clock.
    pub async fn record_world_action(
        &self,
        run: &WorldRun,
        action: &WorldAction,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx, pg| {
            sqlx::query(
                "INSERT INTO world_actions (scenario, seed, action, target, at, run_id, rollback) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&run.scenario)
            .bind(seed_to_db(run.seed))
            .bind(&action.action)
            .bind(&action.target)
            .bind(micros(action.at))
            .bind(run.id)
            .bind(i64::from(action.rollback))
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Every action recorded for run `run_id`, in the order recorded.
    pub async fn world_actions(&self, run_id: i64) -> Result<Vec<WorldAction>, StoreError> {
        let actions = read_tx!(self, |tx| {
            let rows = sqlx::query(
                "SELECT action, target, at, rollback FROM world_actions \
                 WHERE run_id = $1 ORDER BY id",
            )
            .bind(run_id)
            .fetch_all(&mut *tx)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(WorldAction {
                        action: r.text("action")?,
                        target: r.text("target")?,
                        at: r.ts("at")?,
                        rollback: r.int("rollback")? != 0,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        Ok(actions)
    }
}
