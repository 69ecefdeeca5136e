-- History of the live world: numeric samples of each (service, signal) series, and the changes
-- made to the machine (deploys, config edits, packages, restarts) that explain a shift in them.
-- Keep in step with ../postgres/0005_history.sql: same tables, same columns, same meaning.
-- Times are microseconds since the Unix epoch, like everywhere else in the store.

-- One value per series per microsecond. Raw samples are kept for a day or so; older ones are
-- replaced by the mean of their bucket (at = the bucket's start), `n` saying how many raw samples
-- that mean stands for (1 for a raw sample), so a late sample or a wider bucket is folded in with
-- the right weight. Keyed by time first because every read is a time range over all series.
-- WITHOUT ROWID: the key is the table, so service and signal are stored once per row, not twice.
-- `value` is the one floating-point column in the store (REAL: an 8-byte IEEE double, as in
-- PostgreSQL), so means are taken in SQL; non-finite values are refused before they get here.
CREATE TABLE samples (
    at      BIGINT NOT NULL,
    service TEXT NOT NULL,
    signal  TEXT NOT NULL,
    value   DOUBLE PRECISION NOT NULL,
    n       BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (at, service, signal)
) WITHOUT ROWID;

-- kind: deploy, config, package, restart, …; source: webhook, file-watch, dpkg, …
CREATE TABLE change_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      BIGINT NOT NULL,
    kind    TEXT NOT NULL,
    service TEXT NOT NULL,
    detail  TEXT NOT NULL,
    source  TEXT NOT NULL
);
CREATE INDEX change_events_at ON change_events (at, id);
