-- The request id of each audited call (also returned to the client in x-request-id), so a
-- client's report and the audit log can be matched. Entries before this have none.
ALTER TABLE audit_log ADD COLUMN request_id TEXT;
