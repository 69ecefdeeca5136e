-- A simulated world is one run: a scenario and seed started at a given time. Servers started
-- separately on one data directory join the same run, so they agree on when the incident began
-- and on every action applied since. Keep in step with ../postgres/0002_world_runs.sql.
CREATE TABLE world_runs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    scenario   TEXT NOT NULL,
    seed       BIGINT NOT NULL,
    started_at BIGINT NOT NULL
);
CREATE INDEX world_runs_latest ON world_runs (scenario, seed, id);

ALTER TABLE world_actions ADD COLUMN run_id BIGINT REFERENCES world_runs (id);
-- 1 when the row undoes the latest earlier application of the same action on the same target.
ALTER TABLE world_actions ADD COLUMN rollback BIGINT NOT NULL DEFAULT 0;
CREATE INDEX world_actions_by_run ON world_actions (run_id, id);
