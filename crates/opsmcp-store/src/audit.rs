//! The audit log: every tool call, appended to a hash chain. Each entry's link is an
//! HMAC-SHA256 (under the key of [`crate::AuditKey`], kept outside the database) over the
//! previous entry's link and the entry's canonical form, so editing an entry breaks its own link
//! and recomputing the later ones needs the key; deleting one leaves a gap in the sequence, and
//! deleting from the end leaves a chain shorter than its anchor (the head recorded outside the
//! table on every write). Stores opened without a key, and chains written before keying began,
//! have plain SHA-256 links (no `k1:` prefix): they verify as before, up to the first keyed
//! entry; after it, an unkeyed link is a rewrite. Appends are serialized by the database (the `audit` counter row), so concurrent
//! appends — from any number of processes — cannot fork the chain. Redacting secrets from the
//! arguments is the caller's job; the store keeps what it is given.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::row::{RowExt, micros};
use crate::store::Store;

/// The `prev_hash` of the first entry.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How many entries `verify_audit` reads per query: bounded memory for any log length.
const VERIFY_BATCH: i64 = 1000;

/// A tool call to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// Which server handled it (`monitoring`, `workflow`, `log-analytics`).
    pub server: String,
    /// Which tool.
    pub tool: String,
    /// Who called (client name, user, token id — never a secret).
    pub caller: String,
    /// The call's arguments, secrets already redacted.
    pub arguments: serde_json::Value,
    /// How it ended (`ok`, or the error).
    pub outcome: String,
    /// How long it took.
    pub duration_ms: u64,
    /// The request id the client got back in `x-request-id`.
    pub request_id: Option<String>,
}

/// A recorded tool call, with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1, 2, 3… without gaps.
    pub seq: i64,
    /// When it was recorded; never earlier than the entry before.
    pub at: Timestamp,
    /// Which server.
    pub server: String,
    /// Which tool.
    pub tool: String,
    /// Who called.
    pub caller: String,
    /// The arguments as stored (redacted JSON text) — hashed exactly as stored.
    pub arguments: String,
    /// How it ended.
    pub outcome: String,
    /// How long it took.
    pub duration_ms: i64,
    /// The request id, when recorded (entries written before it existed have none).
    pub request_id: Option<String>,
    /// The previous entry's hash (zeros for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) over `prev_hash` and this entry's canonical form.
    pub hash: String,
}

/// What `verify_audit` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum AuditVerdict {
    /// Every entry is present and matches its hash.
    Intact {
        /// How many entries were checked.
        entries: i64,
        /// How many of them (the first ones) have plain SHA-256 links, from before the key.
        unkeyed: i64,
    },
    /// The chain breaks at `seq`: the first entry that is missing, edited, or does not follow
    /// the one before.
    Broken {
        /// The first broken link.
        seq: i64,
        /// What is wrong there.
        reason: String,
    },
}

/// The entry's canonical form: its fields as a JSON array (unambiguous: strings are quoted and
/// escaped, so no two entries share a form). The request id is appended only when present, so
/// entries from before it existed keep their hash. Serialized straight from a tuple (serde writes
/// a tuple as the same compact array a `Value::Array` prints) to skip building a `Value` per field.
fn canonical(
    seq: i64,
    at_us: i64,
    e: (&str, &str, &str, &str, &str, i64),
    request_id: Option<&str>,
) -> String {
    let (server, tool, caller, arguments, outcome, duration_ms) = e;
    // Serializing integers and strings into a String cannot fail.
    let mut form = serde_json::to_string(&(
        seq,
        at_us,
        server,
        tool,
        caller,
        arguments,
        outcome,
        duration_ms,
    ))
    .unwrap_or_default();
    if let Some(id) = request_id {
        // The array's last element: before its closing bracket.
        form.pop();
        form.push(',');
        form.push_str(&serde_json::to_string(id).unwrap_or_default());
        form.push(']');
    }
    form
}

/// A legacy (unkeyed) link: SHA-256 over the previous link, a newline and the canonical form.
fn plain_link(prev_hash: &str, canonical: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    format!("{:x}", hasher.finalize())
}

fn audit_from_row(row: &impl RowExt) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: row.int("seq")?,
        at: row.ts("at")?,
        server: row.text("server")?,
        tool: row.text("tool")?,
        caller: row.text("caller")?,
        arguments: row.text("arguments")?,
        outcome: row.text("outcome")?,
        duration_ms: row.int("duration_ms")?,
        request_id: row.opt_text("request_id")?,
        prev_hash: row.text("prev_hash")?,
        hash: row.text("hash")?,
    })
}

/// One row of a batch, before its statement.
struct Row<'a> {
    seq: i64,
    at: Timestamp,
    entry: &'a NewAuditEntry,
    arguments: String,
    duration_ms: i64,
    prev_hash: String,
}

/// Most rows in one INSERT (11 parameters each: 704, under SQLite's and PostgreSQL's limits).
const INSERT_ROWS: usize = 64;

/// How many of `left` rows the next INSERT takes: 64, or the largest power of two below what
/// is left, so a batch of any size uses one of seven statement texts (each prepared once per
/// connection and cached) and at most ten statements for 256 rows.
fn chunk(left: usize) -> usize {
    if left >= INSERT_ROWS {
        INSERT_ROWS
    } else {
        1 << left.ilog2()
    }
}

/// The INSERT of `n` rows (`n` a power of two up to [`INSERT_ROWS`]), built once per size and
/// dialect. SQLite gets anonymous `?` parameters: sqlx looks up each numbered parameter's name,
/// a scan of the statement's names in SQLite, which made binding 704 `$N` parameters quadratic.
fn insert_sql(n: usize, pg: bool) -> &'static str {
    static SQL: std::sync::OnceLock<[Vec<String>; 2]> = std::sync::OnceLock::new();
    let build = |pg: bool| -> Vec<String> {
        (0..=INSERT_ROWS.ilog2())
            .map(|k| {
                let rows = 1usize << k;
                let mut sql = String::from(
                    "INSERT INTO audit_log (seq, at, server, tool, caller, arguments, outcome, \
                     duration_ms, prev_hash, hash, request_id) VALUES ",
                );
                for r in 0..rows {
                    if r > 0 {
                        sql.push_str(", ");
                    }
                    sql.push('(');
                    for c in 1..=11 {
                        if c > 1 {
                            sql.push_str(", ");
                        }
                        if pg {
                            sql.push_str(&format!("${}", r * 11 + c));
                        } else {
                            sql.push('?');
                        }
                    }
                    sql.push(')');
                }
                sql
            })
            .collect()
    };
    let all = SQL.get_or_init(|| [build(false), build(true)]);
    // n is a power of two up to INSERT_ROWS (chunk's answer), so its log is an index.
    &all[usize::from(pg)][n.ilog2() as usize]
}

impl Store {
    /// Appends one tool call to the audit log and returns it with its seq and hash.
    pub async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let mut all = self.append_audit_batch(std::slice::from_ref(entry)).await?;
        all.pop().ok_or_else(|| StoreError::Corrupt {
            what: "audit log",
            detail: "an append returned no entry".into(),
        })
    }

    /// Appends several tool calls in one transaction (one commit, one fsync), in order.
    pub async fn append_audit_batch(
        &self,
        entries: &[NewAuditEntry],
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out = Vec::with_capacity(entries.len());
        self.append_chain(entries, Some(&mut out)).await?;
        Ok(out)
    }

    /// Like [`Store::append_audit_batch`], returning only the seqs given (first and last; `None`
    /// for no entries): the audit writer's path, which has no use for copies of what it wrote.
    pub async fn append_audit_entries(
        &self,
        entries: &[NewAuditEntry],
    ) -> Result<Option<(i64, i64)>, StoreError> {
        self.append_chain(entries, None).await
    }

    /// The append: one transaction, at most [`INSERT_ROWS`] rows per statement, the statements'
    /// text reused (so the backends' statement caches keep them prepared). `out` receives the
    /// written entries when given.
    async fn append_chain(
        &self,
        entries: &[NewAuditEntry],
        out: Option<&mut Vec<AuditEntry>>,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        if entries.is_empty() {
            return Ok(None);
        }
        let now = self.now();
        let count = i64::try_from(entries.len()).unwrap_or(i64::MAX);
        let (first, head) = write_tx!(self, |tx, pg| {
            // Taking the batch's seqs locks the counter row until commit: the chain's one
            // writer. The entry before the batch is read once; the rest chain in memory.
            let last = sqlx::query(
                "UPDATE counters SET value = value + $1 WHERE name = 'audit' RETURNING value",
            )
            .bind(count)
            .fetch_one(&mut *tx)
            .await?
            .int("value")?;
            let first = last - count + 1;
            let prev = sqlx::query(
                "SELECT hash, at FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT 1",
            )
            .bind(first)
            .fetch_optional(&mut *tx)
            .await?;
            let (mut prev_hash, mut prev_at) = match prev {
                Some(r) => (r.text("hash")?, Some(r.ts("at")?)),
                None => (GENESIS.to_owned(), None),
            };
            let mut rows = Vec::with_capacity(entries.len());
            for (seq, entry) in (first..).zip(entries) {
                let arguments = entry.arguments.to_string();
                let duration_ms = i64::try_from(entry.duration_ms).unwrap_or(i64::MAX);
                let at = prev_at.map_or(now, |p| now.max(p));
                let form = canonical(
                    seq,
                    micros(at),
                    (
                        &entry.server,
                        &entry.tool,
                        &entry.caller,
                        &arguments,
                        &entry.outcome,
                        duration_ms,
                    ),
                    entry.request_id.as_deref(),
                );
                let hash = match &self.seal {
                    Some(seal) => seal.key.link(&prev_hash, &form),
                    None => plain_link(&prev_hash, &form),
                };
                let link = std::mem::replace(&mut prev_hash, hash);
                rows.push(Row {
                    seq,
                    at,
                    entry,
                    arguments,
                    duration_ms,
                    prev_hash: link,
                });
                prev_at = Some(at);
            }
            // Each row's hash is the next row's prev_hash; the last row's is `prev_hash`.
            let hash_of = |i: usize| rows.get(i + 1).map_or(prev_hash.as_str(), |n| &n.prev_hash);
            let mut done = 0;
            while done < rows.len() {
                let n = chunk(rows.len() - done);
                let mut q = sqlx::query(insert_sql(n, pg));
                for (i, r) in rows.iter().enumerate().skip(done).take(n) {
                    q = q
                        .bind(r.seq)
                        .bind(micros(r.at))
                        .bind(&r.entry.server)
                        .bind(&r.entry.tool)
                        .bind(&r.entry.caller)
                        .bind(&r.arguments)
                        .bind(&r.entry.outcome)
                        .bind(r.duration_ms)
                        .bind(&r.prev_hash)
                        .bind(hash_of(i))
                        .bind(&r.entry.request_id);
                }
                q.execute(&mut *tx).await?;
                done += n;
            }
            if let Some(out) = out {
                let hashes: Vec<String> = rows
                    .iter()
                    .skip(1)
                    .map(|r| r.prev_hash.clone())
                    .chain(std::iter::once(prev_hash.clone()))
                    .collect();
                for (r, hash) in rows.into_iter().zip(hashes) {
                    out.push(AuditEntry {
                        seq: r.seq,
                        at: r.at,
                        server: r.entry.server.clone(),
                        tool: r.entry.tool.clone(),
                        caller: r.entry.caller.clone(),
                        arguments: r.arguments,
                        outcome: r.entry.outcome.clone(),
                        duration_ms: r.duration_ms,
                        request_id: r.entry.request_id.clone(),
                        prev_hash: r.prev_hash,
                        hash,
                    });
                }
            }
            (first, prev_hash)
        });
        let last = first + count - 1;
        if let Some(seal) = &self.seal {
            seal.anchor(first, last, &head);
        }
        Ok(Some((first, last)))
    }

    /// Audit entries with seq greater than `after`, oldest first, at most `limit`.
    pub async fn audit_entries(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let entries = read_tx!(self, |tx| {
            let rows = sqlx::query(
                "SELECT seq, at, server, tool, caller, arguments, outcome, duration_ms, \
                 prev_hash, hash, request_id FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after)
            .bind(limit.clamp(1, 10_000))
            .fetch_all(&mut *tx)
            .await?;
            rows.iter()
                .map(audit_from_row)
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(entries)
    }

    /// Whether the chain's last entry is keyed with another key than this store's (a replica
    /// started with a key file of its own, or the key replaced): `Some(seq)` of that entry.
    /// Cheap (one entry), for a check at start; [`Store::verify_audit`] is the full one.
    pub async fn audit_head_foreign(&self) -> Result<Option<i64>, StoreError> {
        let Some(seal) = &self.seal else {
            return Ok(None);
        };
        let last = read_tx!(self, |tx| {
            let row = sqlx::query(
                "SELECT seq, at, server, tool, caller, arguments, outcome, duration_ms, \
                 prev_hash, hash, request_id FROM audit_log ORDER BY seq DESC LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?;
            row.as_ref().map(audit_from_row).transpose()?
        });
        Ok(last.and_then(|e| {
            let form = canonical(
                e.seq,
                micros(e.at),
                (
                    &e.server,
                    &e.tool,
                    &e.caller,
                    &e.arguments,
                    &e.outcome,
                    e.duration_ms,
                ),
                e.request_id.as_deref(),
            );
            (e.hash.starts_with(crate::seal::KEYED) && seal.key.link(&e.prev_hash, &form) != e.hash)
                .then_some(e.seq)
        }))
    }

    /// Walks the whole chain and reports the first broken link: a missing entry (deleted), an
    /// entry that does not match its link (edited, or checked with another key), one whose
    /// `prev_hash` is not its predecessor's link (edited and re-linked, or re-ordered), or an
    /// unkeyed link where keying had begun (re-linked without the key). Entries deleted from the
    /// end are caught by the seq counter, which deletion does not roll back, and — when the
    /// counter was rewound too — by the anchor file of the store's key: the log must reach the
    /// anchor's count, and its entry there must have the anchor's link.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        // What this process wrote is in the anchor before it is compared.
        self.flush_audit_anchor();
        let key = self.seal.as_ref().map(|s| &s.key);
        let anchor = match key.map(crate::seal::AuditKey::read_anchor).transpose() {
            Ok(a) => a.flatten(),
            Err(e) => {
                return Ok(AuditVerdict::Broken {
                    seq: 0,
                    reason: e.to_string(),
                });
            }
        };
        let keyed_since = anchor.as_ref().and_then(|a| a.keyed_since);
        let mut expected_seq = 1_i64;
        let mut prev_hash = GENESIS.to_owned();
        let mut first_keyed: Option<i64> = None;
        let mut at_anchor: Option<String> = None;
        loop {
            let batch = self.audit_entries(expected_seq - 1, VERIFY_BATCH).await?;
            if batch.is_empty() {
                break;
            }
            for e in batch {
                let broken = |seq: i64, reason: String| Ok(AuditVerdict::Broken { seq, reason });
                if e.seq != expected_seq {
                    return broken(
                        expected_seq,
                        format!(
                            "entry {expected_seq} is missing (deleted); the next entry is {}",
                            e.seq
                        ),
                    );
                }
                if e.prev_hash != prev_hash {
                    return broken(
                        e.seq,
                        format!(
                            "entry {} does not follow entry {}: its prev_hash is not that entry's hash",
                            e.seq,
                            e.seq - 1
                        ),
                    );
                }
                let form = canonical(
                    e.seq,
                    micros(e.at),
                    (
                        &e.server,
                        &e.tool,
                        &e.caller,
                        &e.arguments,
                        &e.outcome,
                        e.duration_ms,
                    ),
                    e.request_id.as_deref(),
                );
                if e.hash.starts_with(crate::seal::KEYED) {
                    let Some(key) = key else {
                        return broken(
                            e.seq,
                            format!(
                                "entry {} is keyed and no audit key was given (audit_key_file /                                  OPSMCP_AUDIT_KEY_FILE, default audit.key in the data directory)",
                                e.seq
                            ),
                        );
                    };
                    if key.link(&e.prev_hash, &form) != e.hash {
                        return broken(
                            e.seq,
                            format!(
                                "entry {} does not match its keyed link (edited, or the key is                                  not the one it was written with)",
                                e.seq
                            ),
                        );
                    }
                    first_keyed.get_or_insert(e.seq);
                } else {
                    if let Some(k) = first_keyed.or(keyed_since.filter(|k| *k <= e.seq)) {
                        return broken(
                            e.seq,
                            format!(
                                "entry {} has an unkeyed link but keying began at entry {k}                                  (the chain was rewritten without the key)",
                                e.seq
                            ),
                        );
                    }
                    if plain_link(&e.prev_hash, &form) != e.hash {
                        return broken(
                            e.seq,
                            format!("entry {} does not match its hash (edited)", e.seq),
                        );
                    }
                }
                if anchor.as_ref().is_some_and(|a| a.count == e.seq) {
                    at_anchor = Some(e.hash.clone());
                }
                prev_hash = e.hash;
                expected_seq += 1;
            }
        }
        let last = expected_seq - 1;
        let issued = read_tx!(self, |tx| {
            sqlx::query("SELECT value FROM counters WHERE name = 'audit'")
                .fetch_one(&mut *tx)
                .await?
                .int("value")?
        });
        if issued > last {
            return Ok(AuditVerdict::Broken {
                seq: last + 1,
                reason: format!(
                    "entries {} to {issued} are missing (deleted from the end)",
                    last + 1
                ),
            });
        }
        if let Some(a) = &anchor {
            if a.count > last {
                return Ok(AuditVerdict::Broken {
                    seq: last + 1,
                    reason: format!(
                        "the log ends at {last}, the anchor says {} (entries deleted from the end)",
                        a.count
                    ),
                });
            }
            if a.count > 0 && at_anchor.as_deref() != Some(a.head.as_str()) {
                return Ok(AuditVerdict::Broken {
                    seq: a.count,
                    reason: format!(
                        "entry {} is not the one the anchor recorded (the chain was rewritten)",
                        a.count
                    ),
                });
            }
        } else if let (Some(k), Some(path)) = (first_keyed, key.and_then(|k| k.anchor_path())) {
            return Ok(AuditVerdict::Broken {
                seq: k,
                reason: format!(
                    "the log has keyed entries but no anchor file at {} (deleted?)",
                    path.display()
                ),
            });
        }
        let unkeyed = first_keyed.map_or(last, |k| k - 1);
        Ok(AuditVerdict::Intact {
            entries: last,
            unkeyed,
        })
    }
}

#[cfg(test)]
mod tests {
    /// The form as it was first written (a `Value` per field): hashes of existing chains depend
    /// on `canonical` printing exactly this.
    fn reference(seq: i64, at: i64, e: [&str; 5], d: i64, id: Option<&str>) -> String {
        let mut fields = vec![
            serde_json::json!(seq),
            serde_json::json!(at),
            serde_json::json!(e[0]),
            serde_json::json!(e[1]),
            serde_json::json!(e[2]),
            serde_json::json!(e[3]),
            serde_json::json!(e[4]),
            serde_json::json!(d),
        ];
        if let Some(id) = id {
            fields.push(serde_json::json!(id));
        }
        serde_json::Value::Array(fields).to_string()
    }

    #[test]
    fn canonical_form_is_unchanged() {
        let odd = [
            "monitoring",
            "tool \"quoted\" \\ back",
            "caller\nnew\tline \u{1} ctl",
            r#"{"a":[1,2],"b":"é ✓ 😀"}"#,
            "error: </script> \u{7f} \u{2028}",
        ];
        for (seq, at, d, id) in [
            (1, 0, 0, None),
            (42, -5, i64::MAX, Some("req-1")),
            (i64::MAX, 1_700_000_000_000_000, 7, Some("\"")),
        ] {
            assert_eq!(
                super::canonical(seq, at, (odd[0], odd[1], odd[2], odd[3], odd[4], d), id),
                reference(seq, at, odd, d, id)
            );
        }
    }
}
