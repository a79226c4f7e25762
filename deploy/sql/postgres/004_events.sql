-- AgentDesk schema for PostgreSQL, part 4: events (docs/events.md). Each organisation's event log numbers its events
-- (id, increasing in the order stored) and stores them here; source_key names the occurrence, so an event sent twice
-- is stored once. Rows older than the retention window are deleted by every silo periodically (by `at`).
CREATE TABLE IF NOT EXISTS agentdesk_events
(
    service_id   varchar(150) NOT NULL,
    organization varchar(64)  NOT NULL,
    id           bigint       NOT NULL,
    source_key   text         NOT NULL,
    type         varchar(64)  NOT NULL,
    agent_id     uuid         NULL,
    account      text         NULL,
    symbol       text         NULL,
    at           timestamptz  NOT NULL,
    data         text         NOT NULL,
    PRIMARY KEY (service_id, organization, id)
);

CREATE UNIQUE INDEX IF NOT EXISTS ux_agentdesk_events_source ON agentdesk_events (service_id, organization, source_key);

CREATE INDEX IF NOT EXISTS ix_agentdesk_events_at ON agentdesk_events (service_id, at);
