-- Remediations run through execute_remediation, and the approvals humans gave for them.
-- Keep in step with the other backend's 0003_remediations.sql.
CREATE TABLE remediations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     TEXT NOT NULL REFERENCES incidents (id),
    action          TEXT NOT NULL,
    target          TEXT NOT NULL,
    params          TEXT NOT NULL,
    dry_run         BIGINT NOT NULL,
    -- A repeat with the same key returns this row instead of running the action again.
    idempotency_key TEXT UNIQUE,
    -- running, succeeded, failed, rolled_back, dry_run
    status          TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    started_at      BIGINT NOT NULL,
    finished_at     BIGINT,
    before_state    TEXT,
    after_state     TEXT,
    result          TEXT
);
CREATE INDEX remediations_incident ON remediations (incident_id, id);

CREATE TABLE approvals (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    action      TEXT NOT NULL,
    -- '' approves the action on whichever service it targets.
    target      TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at BIGINT NOT NULL,
    PRIMARY KEY (incident_id, action, target)
);
