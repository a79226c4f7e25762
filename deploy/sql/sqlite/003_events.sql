-- Events for single-node mode (docs/events.md): one row per event, numbered per organisation by its event log in the
-- order stored; source_key names the occurrence, so an event sent twice is stored once. `at` is UTC ticks; rows older
-- than the retention window are deleted periodically.
CREATE TABLE IF NOT EXISTS agentdesk_events
(
    service_id   TEXT    NOT NULL,
    organization TEXT    NOT NULL,
    id           INTEGER NOT NULL,
    source_key   TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    agent_id     TEXT    NULL,
    account      TEXT    NULL,
    symbol       TEXT    NULL,
    at           INTEGER NOT NULL,
    data         TEXT    NOT NULL,
    PRIMARY KEY (service_id, organization, id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX IF NOT EXISTS ux_agentdesk_events_source ON agentdesk_events (service_id, organization, source_key);

CREATE INDEX IF NOT EXISTS ix_agentdesk_events_at ON agentdesk_events (service_id, at);
