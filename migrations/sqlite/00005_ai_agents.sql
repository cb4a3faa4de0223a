-- +goose Up
-- AI agents answer customers through an OpenAI-compatible chat API until they hand the conversation to
-- people. An empty base_url or api_key_enc falls back to SWITCHBOARD_OPENAI_BASE_URL / _API_KEY at run
-- time; the key is sealed with AES-GCM by the store (never stored in clear).
CREATE TABLE ai_agents (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT        NOT NULL,
    model             TEXT        NOT NULL,
    instructions      TEXT        NOT NULL DEFAULT '',
    knowledge         TEXT        NOT NULL DEFAULT '',
    temperature       REAL        NOT NULL DEFAULT 0.3,
    turn_limit        INTEGER     NOT NULL DEFAULT 0,
    base_url          TEXT        NOT NULL DEFAULT '',
    api_key_enc       TEXT        NOT NULL DEFAULT '',
    enabled           BOOLEAN     NOT NULL DEFAULT 1,
    handoff_message   TEXT        NOT NULL DEFAULT '',
    handoff_phrases   TEXT        NOT NULL DEFAULT '[]',
    unreadable_action TEXT        NOT NULL DEFAULT 'handoff',
    unreadable_reply  TEXT        NOT NULL DEFAULT '',
    timeout_seconds   INTEGER     NOT NULL DEFAULT 30,
    created_at        TIMESTAMP   NOT NULL,
    updated_at        TIMESTAMP   NOT NULL
);
CREATE UNIQUE INDEX ai_agents_name_key ON ai_agents (lower(name));

-- The turn limit counts the AI's replies in a conversation since it was assigned.
CREATE INDEX messages_ai_turns_idx ON messages (conversation_id, created_at) WHERE sender = 'ai';

-- +goose Down
DROP INDEX messages_ai_turns_idx;
DROP TABLE ai_agents;
