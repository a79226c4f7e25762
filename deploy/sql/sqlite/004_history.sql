-- The history read model for single-node mode (docs/history.md): one row per closed trade, written by the event logs,
-- append-only. `closed_at` is UTC ticks; the row is kept whole as JSON in `data`.
CREATE TABLE IF NOT EXISTS agentdesk_trades
(
    service_id   TEXT    NOT NULL,
    organization TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    agent_id     TEXT    NOT NULL,
    wallet       TEXT    NOT NULL,
    symbol       TEXT    NOT NULL,
    closed_at    INTEGER NOT NULL,
    data         TEXT    NOT NULL,
    PRIMARY KEY (service_id, organization, id)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS ix_agentdesk_trades_org ON agentdesk_trades (service_id, organization, closed_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS ix_agentdesk_trades_agent ON agentdesk_trades (service_id, organization, agent_id, closed_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS ix_agentdesk_trades_wallet ON agentdesk_trades (service_id, organization, wallet, closed_at DESC, id DESC);

-- An agent's subscriber count at the end of each day it changed (the last change of the day wins). `day` is ISO 8601.
CREATE TABLE IF NOT EXISTS agentdesk_subscriber_counts
(
    service_id   TEXT    NOT NULL,
    organization TEXT    NOT NULL,
    agent_id     TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    subscribers  INTEGER NOT NULL,
    PRIMARY KEY (service_id, organization, agent_id, day)
) WITHOUT ROWID;
