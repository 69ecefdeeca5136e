//! What a fetched set holds, for the answer's summary: counts by service and level, its span,
//! the lines redacted, and the most frequent templates mined from its messages.

use std::collections::BTreeMap;

use opsmcp_logs::{Engine, MineOptions};
use schemars::JsonSchema;
use serde::Serialize;

use super::Entry;

/// A message template and how often it occurred.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplateCount {
    /// The service that wrote it.
    pub service: String,
    /// The message with its variables as `<*>`.
    pub template: String,
    /// Lines.
    pub count: u64,
    /// One line of it.
    pub example: String,
}

/// What the file holds.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Summary {
    /// Entries per service.
    pub by_service: BTreeMap<String, u64>,
    /// Entries per level.
    pub by_level: BTreeMap<String, u64>,
    /// Entries per service and level.
    pub by_service_level: BTreeMap<String, BTreeMap<String, u64>>,
    /// The first entry's time.
    pub first_at: Option<String>,
    /// The last entry's time.
    pub last_at: Option<String>,
    /// The most frequent templates (at most 10).
    pub top_templates: Vec<TemplateCount>,
    /// Lines in which a secret was redacted.
    pub redacted_lines: u64,
}

/// The summary being counted while entries are written.
#[derive(Default)]
pub(super) struct Tally {
    by_service: BTreeMap<String, u64>,
    by_level: BTreeMap<String, u64>,
    by_service_level: BTreeMap<String, BTreeMap<String, u64>>,
    first_at: Option<String>,
    last_at: Option<String>,
    redacted_lines: u64,
    // Per service, because services log in different formats and the miner detects one format
    // per stream.
    miners: BTreeMap<String, Miner>,
}

/// Bytes of a service's messages kept before they go to its engine: mined as they come, a
/// fetch holds this much per service, not every message of the file (up to ~70 MB).
const FEED_BYTES: usize = 64 * 1024;

/// One service's template miner and the messages not yet fed to it.
struct Miner {
    /// `None` when the engine could not be made; the service then has no templates.
    engine: Option<Engine>,
    buf: Vec<u8>,
}

impl Miner {
    fn new() -> Self {
        // One thread: the server shares its cores with every other request.
        let opts = MineOptions {
            threads: 1,
            examples: 1,
            ..MineOptions::default()
        };
        Self {
            engine: Engine::new(opts).ok(),
            buf: Vec::new(),
        }
    }

    fn add(&mut self, message: &str) {
        // Fed before the buffer would pass the bound, so it never grows past it.
        if self.buf.len() + message.len() + 1 > FEED_BYTES {
            self.feed();
        }
        self.buf.extend_from_slice(message.as_bytes());
        self.buf.push(b'\n');
    }

    fn feed(&mut self) {
        if let Some(engine) = &mut self.engine
            && !self.buf.is_empty()
        {
            engine.feed(&self.buf);
        }
        self.buf.clear();
    }
}

impl Tally {
    /// One entry written to the file.
    pub(super) fn count(&mut self, entry: &Entry) {
        *self.by_service.entry(entry.service.clone()).or_default() += 1;
        *self.by_level.entry(entry.level.clone()).or_default() += 1;
        *self
            .by_service_level
            .entry(entry.service.clone())
            .or_default()
            .entry(entry.level.clone())
            .or_default() += 1;
        if self.first_at.is_none() {
            self.first_at = Some(entry.at.clone());
        }
        match self.miners.get_mut(&entry.service) {
            Some(m) => m.add(&entry.message),
            None => {
                let mut m = Miner::new();
                m.add(&entry.message);
                self.miners.insert(entry.service.clone(), m);
            }
        }
        self.last_at = Some(entry.at.clone());
    }

    /// One line read in which a secret was redacted.
    pub(super) fn redacted(&mut self) {
        self.redacted_lines += 1;
    }

    /// The counts, with the templates mined from every entry counted.
    pub(super) fn finish(self) -> Summary {
        Summary {
            by_service: self.by_service,
            by_level: self.by_level,
            by_service_level: self.by_service_level,
            first_at: self.first_at,
            last_at: self.last_at,
            top_templates: mine(self.miners),
            redacted_lines: self.redacted_lines,
        }
    }
}

/// The ten most frequent templates over all services.
fn mine(miners: BTreeMap<String, Miner>) -> Vec<TemplateCount> {
    let mut all = Vec::new();
    for (service, mut miner) in miners {
        miner.feed();
        let Some(mut engine) = miner.engine else {
            continue;
        };
        engine.end_stream();
        for t in engine.finish().templates.into_iter().take(10) {
            all.push(TemplateCount {
                service: service.clone(),
                template: t.template,
                count: t.count,
                example: t.examples.into_iter().next().unwrap_or_default(),
            });
        }
    }
    all.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.template.cmp(&b.template))
    });
    all.truncate(10);
    all
}
