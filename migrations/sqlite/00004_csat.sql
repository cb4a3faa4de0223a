-- +goose Up
-- One satisfaction survey per resolution of a conversation.
CREATE TABLE csat_surveys (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id BIGINT      NOT NULL REFERENCES conversations (id),
    channel_id      BIGINT      NOT NULL REFERENCES channels (id),
    agent_id        BIGINT,
    resolution      INTEGER     NOT NULL CHECK (resolution > 0),
    status          TEXT        NOT NULL CHECK (status IN ('pending', 'answered', 'cancelled', 'expired', 'skipped')),
    message_id      BIGINT,
    rating          INTEGER     CHECK (rating BETWEEN 1 AND 5),
    comment         TEXT        NOT NULL DEFAULT '',
    await_comment   BOOLEAN     NOT NULL DEFAULT 0,
    sent_at         TIMESTAMP   NOT NULL,
    expires_at      TIMESTAMP   NOT NULL,
    answered_at     TIMESTAMP
);
CREATE UNIQUE INDEX csat_surveys_resolution_key ON csat_surveys (conversation_id, resolution);
-- Reports read a period of surveys, optionally of one channel or agent.
CREATE INDEX csat_surveys_sent_idx ON csat_surveys (sent_at);
CREATE INDEX csat_surveys_channel_idx ON csat_surveys (channel_id, sent_at);
CREATE INDEX csat_surveys_agent_idx ON csat_surveys (agent_id, sent_at);

-- Reports count conversations and messages by creation time.
CREATE INDEX conversations_report_created_idx ON conversations (created_at);
CREATE INDEX conversations_report_resolved_idx ON conversations (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX messages_report_created_idx ON messages (created_at);

-- +goose Down
DROP INDEX messages_report_created_idx;
DROP INDEX conversations_report_resolved_idx;
DROP INDEX conversations_report_created_idx;
DROP TABLE csat_surveys;
