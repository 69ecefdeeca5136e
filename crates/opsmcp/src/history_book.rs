//! The live world's history kept in the incident store: the binary is where the world (which
//! must not know the store) and the store meet.

use futures::future::BoxFuture;
use jiff::Timestamp;
use opsmcp_store::{ChangeEvent, Sample as StoredSample, Store};
use opsmcp_world::{
    WorldEvent,
    live::history::{HistoryBook, Sample},
};

/// The store as the live world's history book.
#[derive(Debug, Clone)]
pub struct StoreBook(pub Store);

impl HistoryBook for StoreBook {
    fn record(&self, samples: Vec<Sample>) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let rows: Vec<StoredSample> = samples
                .into_iter()
                .map(|s| StoredSample {
                    at: s.at,
                    service: s.service,
                    signal: s.signal,
                    value: s.value,
                })
                .collect();
            self.0
                .record_samples(&rows)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }

    fn samples(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> BoxFuture<'_, Result<Vec<Sample>, String>> {
        Box::pin(async move {
            let rows = self.0.samples(from, to).await.map_err(|e| e.to_string())?;
            Ok(rows
                .into_iter()
                .map(|s| Sample {
                    at: s.at,
                    service: s.service,
                    signal: s.signal,
                    value: s.value,
                })
                .collect())
        })
    }

    fn record_change(&self, event: WorldEvent, source: &str) -> BoxFuture<'_, Result<(), String>> {
        let source = source.to_string();
        Box::pin(async move {
            self.0
                .record_change(&ChangeEvent {
                    at: event.at,
                    kind: event.kind,
                    service: event.service,
                    detail: event.detail,
                    source,
                })
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }

    fn changes(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> BoxFuture<'_, Result<Vec<WorldEvent>, String>> {
        Box::pin(async move {
            let rows = self.0.changes(from, to).await.map_err(|e| e.to_string())?;
            Ok(rows
                .into_iter()
                .map(|c| WorldEvent {
                    at: c.at,
                    kind: c.kind,
                    service: c.service,
                    detail: c.detail,
                })
                .collect())
        })
    }
}
