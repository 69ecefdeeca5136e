//! The simulated world's journal kept in the store: servers started as separate processes on
//! one data directory (or one PostgreSQL) join the same run and replay the same actions.

use futures::future::BoxFuture;
use opsmcp_store::{Store, WorldAction, WorldRun};
use opsmcp_world::{
    WorldError,
    sim::{Applied, Journal},
};

/// A run's actions in the store.
#[derive(Debug, Clone)]
pub struct StoreJournal {
    store: Store,
    run: WorldRun,
}

impl StoreJournal {
    /// Joins the latest run of (`scenario`, `seed`), or starts one at `now` when there is none
    /// or `fresh` is asked for.
    pub async fn join_or_start(
        store: Store,
        scenario: &str,
        seed: u64,
        fresh: bool,
        now: jiff::Timestamp,
    ) -> Result<Self, opsmcp_store::StoreError> {
        let run = match store.latest_world_run(scenario, seed).await? {
            Some(run) if !fresh => run,
            _ => store.start_world_run(scenario, seed, now).await?,
        };
        Ok(Self { store, run })
    }

    /// The run this journal belongs to.
    pub fn run(&self) -> &WorldRun {
        &self.run
    }
}

fn unavailable(e: opsmcp_store::StoreError) -> WorldError {
    WorldError::Unavailable(format!("the store holding the world's actions failed: {e}"))
}

impl Journal for StoreJournal {
    fn load(&self) -> BoxFuture<'_, Result<Vec<Applied>, WorldError>> {
        Box::pin(async move {
            Ok(self
                .store
                .world_actions(self.run.id)
                .await
                .map_err(unavailable)?
                .into_iter()
                .map(|a| Applied {
                    action: a.action,
                    target: a.target,
                    at: a.at,
                    rollback: a.rollback,
                })
                .collect())
        })
    }

    fn record(&self, applied: Applied) -> BoxFuture<'_, Result<(), WorldError>> {
        Box::pin(async move {
            self.store
                .record_world_action(
                    &self.run,
                    &WorldAction {
                        action: applied.action,
                        target: applied.target,
                        at: applied.at,
                        rollback: applied.rollback,
                    },
                )
                .await
                .map_err(unavailable)
        })
    }
}
