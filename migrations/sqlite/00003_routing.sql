-- +goose Up
-- A channel's routing rules, evaluated in position order; the first whose conditions all hold sends
-- the conversation to its target (an agent, a team or an AI agent). Conditions are a JSON array of
-- {"field", "op", "values"}. target_id is not a foreign key: it names an agent, a team or an AI agent
-- depending on target_kind (the store checks agents and teams when a rule is saved).
CREATE TABLE routing_rules (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id  BIGINT      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    position    INTEGER     NOT NULL,
    name        TEXT        NOT NULL,
    enabled     BOOLEAN     NOT NULL DEFAULT 1,
    conditions  TEXT        NOT NULL DEFAULT '[]',
    target_kind TEXT        NOT NULL CHECK (target_kind IN ('agent', 'team', 'ai_agent')),
    target_id   BIGINT      NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX routing_rules_channel_idx ON routing_rules (channel_id, position);

-- A conversation waiting for one agent named by a routing rule (a team's queue uses team_id; neither
-- set: the channel's queue).
ALTER TABLE conversations ADD COLUMN queue_agent_id BIGINT;

-- An agent's load on a channel: the open and pending conversations they hold there. Every assignment
-- decision counts it per agent, and every claim re-counts it for one agent under a lock.
CREATE INDEX conversations_load_idx ON conversations (channel_id, assignee_id)
    WHERE assignee_kind = 'human' AND status <> 'resolved';

-- Each member's load on the channel (open and pending conversations they hold there), kept by
-- triggers on every write to conversations, whichever code makes it: a decision reads 500 members'
-- loads in one small read instead of counting 50,000 conversations. Claims still count the one
-- agent they assign to, under a lock, before they commit.
ALTER TABLE channel_members ADD COLUMN open_count INTEGER NOT NULL DEFAULT 0;
UPDATE channel_members SET open_count = (SELECT COUNT(*) FROM conversations c WHERE c.channel_id = channel_members.channel_id
    AND c.assignee_id = channel_members.agent_id AND c.assignee_kind = 'human' AND c.status <> 'resolved');

-- +goose StatementBegin
CREATE TRIGGER conversations_load_insert AFTER INSERT ON conversations
WHEN NEW.assignee_kind = 'human' AND NEW.status <> 'resolved'
BEGIN
    UPDATE channel_members SET open_count = open_count + 1 WHERE channel_id = NEW.channel_id AND agent_id = NEW.assignee_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER conversations_load_delete AFTER DELETE ON conversations
WHEN OLD.assignee_kind = 'human' AND OLD.status <> 'resolved'
BEGIN
    UPDATE channel_members SET open_count = open_count - 1 WHERE channel_id = OLD.channel_id AND agent_id = OLD.assignee_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER conversations_load_update AFTER UPDATE OF channel_id, status, assignee_kind, assignee_id ON conversations
WHEN NOT (OLD.assignee_kind = 'human' AND OLD.status <> 'resolved' AND NEW.assignee_kind = 'human' AND NEW.status <> 'resolved'
    AND OLD.channel_id = NEW.channel_id AND OLD.assignee_id = NEW.assignee_id)
BEGIN
    UPDATE channel_members SET open_count = open_count - 1
    WHERE OLD.assignee_kind = 'human' AND OLD.status <> 'resolved' AND channel_id = OLD.channel_id AND agent_id = OLD.assignee_id;
    UPDATE channel_members SET open_count = open_count + 1
    WHERE NEW.assignee_kind = 'human' AND NEW.status <> 'resolved' AND channel_id = NEW.channel_id AND agent_id = NEW.assignee_id;
END;
-- +goose StatementEnd

-- A member who joins (or joins again) starts with the conversations they already hold there.
-- +goose StatementBegin
CREATE TRIGGER channel_members_load AFTER INSERT ON channel_members
BEGIN
    UPDATE channel_members SET open_count = (SELECT COUNT(*) FROM conversations WHERE channel_id = NEW.channel_id
        AND assignee_id = NEW.agent_id AND assignee_kind = 'human' AND status <> 'resolved')
    WHERE channel_id = NEW.channel_id AND agent_id = NEW.agent_id;
END;
-- +goose StatementEnd

-- Agents connected to each server process, refreshed by a heartbeat, so that a decision taken on one
-- replica sees the agents connected to another. Rows older than a few heartbeats are ignored.
CREATE TABLE agent_presence (
    agent_id  BIGINT      NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    instance  TEXT        NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    PRIMARY KEY (agent_id, instance)
);
CREATE INDEX agent_presence_instance_idx ON agent_presence (instance);
CREATE INDEX agent_presence_seen_idx ON agent_presence (last_seen);

-- +goose Down
DROP TRIGGER channel_members_load;
DROP TRIGGER conversations_load_update;
DROP TRIGGER conversations_load_delete;
DROP TRIGGER conversations_load_insert;
ALTER TABLE channel_members DROP COLUMN open_count;
DROP TABLE agent_presence;
DROP INDEX conversations_load_idx;
ALTER TABLE conversations DROP COLUMN queue_agent_id;
DROP TABLE routing_rules;
