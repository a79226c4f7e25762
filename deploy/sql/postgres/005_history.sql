-- AgentDesk schema for PostgreSQL, part 5: the history read model (docs/history.md). One row per closed trade (a sale of
-- a position, or a trigger order cancelled before it filled), written by the organisations' event logs; append-only,
-- never pruned by AgentDesk. The row is kept whole as JSON in `data`; the columns serve the filters and the order of
-- GET /api/v1/historical-swaps (newest first: closed_at, then id).
CREATE TABLE IF NOT EXISTS agentdesk_trades
(
    service_id   varchar(150) NOT NULL,
    organization varchar(64)  NOT NULL,
    id           text         COLLATE "C" NOT NULL,
    agent_id     uuid         NOT NULL,
    wallet       text         NOT NULL,
    symbol       text         NOT NULL,
    closed_at    timestamptz  NOT NULL,
    data         text         NOT NULL,
    PRIMARY KEY (service_id, organization, id)
);

CREATE INDEX IF NOT EXISTS ix_agentdesk_trades_org ON agentdesk_trades (service_id, organization, closed_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS ix_agentdesk_trades_agent ON agentdesk_trades (service_id, organization, agent_id, closed_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS ix_agentdesk_trades_wallet ON agentdesk_trades (service_id, organization, wallet, closed_at DESC, id DESC);

-- An agent's subscriber count at the end of each day it changed (the last change of the day wins), for the daily
-- subscriber series of GET /api/v1/agents/{id}/performance.
CREATE TABLE IF NOT EXISTS agentdesk_subscriber_counts
(
    service_id   varchar(150) NOT NULL,
    organization varchar(64)  NOT NULL,
    agent_id     uuid         NOT NULL,
    day          date         NOT NULL,
    subscribers  integer      NOT NULL,
    PRIMARY KEY (service_id, organization, agent_id, day)
);
