-- +goose Up
CREATE TABLE agents (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT        NOT NULL,
    email            TEXT        NOT NULL,
    role             TEXT        NOT NULL CHECK (role IN ('admin', 'agent')),
    availability     TEXT        NOT NULL DEFAULT 'available' CHECK (availability IN ('available', 'away')),
    disabled         BOOLEAN     NOT NULL DEFAULT 0,
    password_hash    TEXT        NOT NULL,
    last_assigned_at TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX agents_email_key ON agents (email);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    agent_id     BIGINT      NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    csrf_token   TEXT        NOT NULL,
    user_agent   TEXT        NOT NULL DEFAULT '',
    ip           TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX sessions_agent_idx ON sessions (agent_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id     BIGINT      NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    name         TEXT        NOT NULL,
    prefix       TEXT        NOT NULL,
    hash         TEXT        NOT NULL,
    last_used_at TIMESTAMP,
    expires_at   TIMESTAMP,
    created_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX api_tokens_hash_key ON api_tokens (hash);

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT        NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX teams_name_key ON teams (lower(name));

CREATE TABLE team_members (
    team_id  BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    agent_id BIGINT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent_idx ON team_members (agent_id);

-- Durable background work. Jobs sharing a key run one at a time in id order. A finished job is
-- deleted; a job that failed its last attempt stays, dead, until an admin retries or discards it.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT        NOT NULL,
    key          TEXT        NOT NULL DEFAULT '',
    payload      TEXT        NOT NULL DEFAULT '{}',
    state        TEXT        NOT NULL CHECK (state IN ('queued', 'running', 'dead')),
    run_at       TIMESTAMP NOT NULL,
    attempts     INTEGER     NOT NULL DEFAULT 0,
    max_attempts INTEGER     NOT NULL,
    lease_until  TIMESTAMP,
    leased_by    TEXT        NOT NULL DEFAULT '',
    last_error   TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP
);
CREATE INDEX jobs_runnable_idx ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_lease_idx ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_key_idx ON jobs (key, id) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_dead_idx ON jobs (updated_at) WHERE state = 'dead';

-- +goose Down
DROP TABLE jobs;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE agents;
