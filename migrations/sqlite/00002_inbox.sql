-- +goose Up
CREATE TABLE channels (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    type                TEXT        NOT NULL DEFAULT 'whatsapp',
    name                TEXT        NOT NULL,
    phone_number        TEXT        NOT NULL,
    phone_number_id     TEXT        NOT NULL,
    business_account_id TEXT        NOT NULL,
    api_key_enc         TEXT        NOT NULL,
    app_secret_enc      TEXT        NOT NULL,
    verify_token        TEXT        NOT NULL,
    status              TEXT        NOT NULL DEFAULT 'active',
    status_reason       TEXT        NOT NULL DEFAULT '',
    sandbox             BOOLEAN     NOT NULL DEFAULT 0,
    assignment_mode     TEXT        NOT NULL DEFAULT 'load',
    ai_agent_id         BIGINT,
    default_capacity    INTEGER     NOT NULL DEFAULT 10,
    settings            TEXT        NOT NULL DEFAULT '{}',
    rr_last_agent_id    BIGINT,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    deleted_at          TIMESTAMP
);
-- A phone number id is connected to at most one live channel.
CREATE UNIQUE INDEX channels_phone_number_id_key ON channels (phone_number_id) WHERE deleted_at IS NULL;

CREATE TABLE channel_members (
    channel_id BIGINT      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    agent_id   BIGINT      NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    capacity   INTEGER     NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel_id, agent_id)
);
CREATE INDEX channel_members_agent_idx ON channel_members (agent_id);

CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT        NOT NULL DEFAULT '',
    wa_id        TEXT,
    bsuid        TEXT,
    phone        TEXT        NOT NULL DEFAULT '',
    tags         TEXT        NOT NULL DEFAULT '[]',
    opted_out    BOOLEAN     NOT NULL DEFAULT 0,
    opted_out_at TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX contacts_wa_id_key ON contacts (wa_id) WHERE wa_id IS NOT NULL;
CREATE UNIQUE INDEX contacts_bsuid_key ON contacts (bsuid) WHERE bsuid IS NOT NULL;

CREATE TABLE conversations (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id           BIGINT      NOT NULL REFERENCES channels (id),
    contact_id           BIGINT      NOT NULL REFERENCES contacts (id),
    status               TEXT        NOT NULL CHECK (status IN ('open', 'pending', 'resolved')),
    assignee_kind        TEXT        NOT NULL DEFAULT '',
    assignee_id          BIGINT,
    team_id              BIGINT,
    ai_handed_off        BOOLEAN     NOT NULL DEFAULT 0,
    last_inbound_at      TIMESTAMP,
    last_message_at      TIMESTAMP,
    last_message_preview TEXT        NOT NULL DEFAULT '',
    unread_count         INTEGER     NOT NULL DEFAULT 0,
    waiting_since        TIMESTAMP,
    assigned_at          TIMESTAMP,
    resolved_at          TIMESTAMP,
    resolutions          INTEGER     NOT NULL DEFAULT 0,
    away_sent_for        TIMESTAMP,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
-- At most one open or pending conversation per contact and channel: concurrent webhooks converge on it.
CREATE UNIQUE INDEX conversations_active_key ON conversations (channel_id, contact_id) WHERE status <> 'resolved';
CREATE INDEX conversations_contact_idx ON conversations (contact_id, id);
CREATE INDEX conversations_list_idx ON conversations (channel_id, status, last_message_at DESC, id DESC);
CREATE INDEX conversations_recent_idx ON conversations (last_message_at DESC, id DESC);
CREATE INDEX conversations_assignee_idx ON conversations (assignee_kind, assignee_id, status);
CREATE INDEX conversations_waiting_idx ON conversations (channel_id, waiting_since) WHERE waiting_since IS NOT NULL;

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id  BIGINT      NOT NULL REFERENCES conversations (id),
    channel_id       BIGINT      NOT NULL,
    direction        TEXT        NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    sender           TEXT        NOT NULL,
    sender_id        BIGINT,
    sender_name      TEXT        NOT NULL DEFAULT '',
    type             TEXT        NOT NULL,
    text             TEXT        NOT NULL DEFAULT '',
    private          BOOLEAN     NOT NULL DEFAULT 0,
    external_id      TEXT,
    status           TEXT        NOT NULL,
    status_rank      INTEGER     NOT NULL DEFAULT 0,
    error_code       INTEGER,
    error_title      TEXT        NOT NULL DEFAULT '',
    error_details    TEXT        NOT NULL DEFAULT '',
    media            TEXT,
    reactions        TEXT        NOT NULL DEFAULT '[]',
    reply_to         TEXT        NOT NULL DEFAULT '',
    payload          TEXT,
    client_id        TEXT,
    timestamp        TIMESTAMP,
    sent_at          TIMESTAMP,
    delivered_at     TIMESTAMP,
    read_at          TIMESTAMP,
    played_at        TIMESTAMP,
    failed_at        TIMESTAMP,
    created_at       TIMESTAMP NOT NULL
);
-- A wamid is stored once per channel: Meta's retries and duplicate deliveries are no-ops.
CREATE UNIQUE INDEX messages_external_key ON messages (channel_id, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX messages_client_key ON messages (conversation_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);

-- Statuses that arrived before the message they concern (the send call had not returned yet).
CREATE TABLE parked_statuses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id  BIGINT      NOT NULL,
    external_id TEXT        NOT NULL,
    status      TEXT        NOT NULL,
    payload     TEXT        NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX parked_statuses_external_idx ON parked_statuses (channel_id, external_id);
CREATE INDEX parked_statuses_created_idx ON parked_statuses (created_at);

-- Correctly signed webhooks that could not be understood, kept for admins instead of lost.
CREATE TABLE dead_letters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id  BIGINT,
    body        TEXT        NOT NULL,
    error       TEXT        NOT NULL,
    received_at TIMESTAMP NOT NULL
);

-- What Meta tells about a channel besides messages: template status, quality, account updates.
CREATE TABLE channel_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id BIGINT      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    field      TEXT        NOT NULL,
    payload    TEXT        NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX channel_events_channel_idx ON channel_events (channel_id, id);

-- The bounded event log agents resume from after a reconnect.
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    type            TEXT        NOT NULL,
    channel_id      BIGINT      NOT NULL DEFAULT 0,
    conversation_id BIGINT      NOT NULL DEFAULT 0,
    data            TEXT        NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX events_created_idx ON events (created_at);

CREATE TABLE templates (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id       BIGINT      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    external_id      TEXT        NOT NULL DEFAULT '',
    name             TEXT        NOT NULL,
    language         TEXT        NOT NULL,
    category         TEXT        NOT NULL DEFAULT '',
    status           TEXT        NOT NULL DEFAULT '',
    parameter_format TEXT        NOT NULL DEFAULT '',
    components       TEXT        NOT NULL DEFAULT '[]',
    rejected_reason  TEXT        NOT NULL DEFAULT '',
    synced_at        TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX templates_name_key ON templates (channel_id, name, language);

-- +goose Down
DROP TABLE templates;
DROP TABLE events;
DROP TABLE channel_events;
DROP TABLE dead_letters;
DROP TABLE parked_statuses;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE contacts;
DROP TABLE channel_members;
DROP TABLE channels;
