-- opsmcp store, SQLite flavour. Keep in step with ../postgres/0001_init.sql: same tables, same
-- columns, same meaning. Timestamps are microseconds since the Unix epoch (BIGINT) in both
-- backends, so one set of queries serves both and values round-trip exactly.

-- Named counters handed out under the writer lock: incident numbers (INC-0042) and audit seqs.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('incident', 0), ('audit', 0);

CREATE TABLE incidents (
    id              TEXT PRIMARY KEY,
    num             BIGINT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    description     TEXT,
    severity        TEXT NOT NULL,
    status          TEXT NOT NULL,
    services        TEXT NOT NULL,
    dedup_key       TEXT,
    assignee        TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    acknowledged_at BIGINT,
    resolved_at     BIGINT,
    closed_at       BIGINT,
    last_seq        BIGINT NOT NULL DEFAULT 0
);
-- At most one open incident per dedup key; the store also serializes creates, this is the backstop.
CREATE UNIQUE INDEX incidents_open_dedup ON incidents (dedup_key)
    WHERE dedup_key IS NOT NULL
      AND status IN ('triggered', 'acknowledged', 'investigating', 'mitigated');
CREATE INDEX incidents_status ON incidents (status, num);
CREATE INDEX incidents_severity ON incidents (severity, num);

-- One row per (incident, service) so the service filter is an indexed lookup, not a JSON scan.
CREATE TABLE incident_services (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    service     TEXT NOT NULL,
    PRIMARY KEY (incident_id, service)
);
CREATE INDEX incident_services_service ON incident_services (service, incident_id);

CREATE TABLE timeline (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (incident_id, seq)
);

CREATE TABLE world_actions (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    scenario TEXT NOT NULL,
    seed     BIGINT NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX world_actions_run ON world_actions (scenario, seed, id);

CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    channel         TEXT NOT NULL,
    payload         TEXT NOT NULL,
    incident_id     TEXT,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_error      TEXT,
    delivered_at    BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at, id);
CREATE INDEX notifications_incident ON notifications (incident_id, id);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    server      TEXT NOT NULL,
    tool        TEXT NOT NULL,
    caller      TEXT NOT NULL,
    arguments   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
