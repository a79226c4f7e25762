-- Durable reminders for single-node mode (Orleans' ADO.NET reminders have no SQLite support): a batch cut by a
-- crash, a settlement waiting on a retry and a pending chain order resume by themselves after a restart.
CREATE TABLE IF NOT EXISTS agentdesk_reminders
(
    service_id    TEXT    NOT NULL,
    grain_id      TEXT    NOT NULL,
    reminder_name TEXT    NOT NULL,
    grain_hash    INTEGER NOT NULL,
    start_at      INTEGER NOT NULL, -- UTC ticks
    period_ms     INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
);

CREATE INDEX IF NOT EXISTS ix_agentdesk_reminders_hash ON agentdesk_reminders (service_id, grain_hash);
