-- One schema for SQLite (the embedded default) and PostgreSQL (fleets): portable types only.
CREATE TABLE teams (
    id          VARCHAR(40) PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    created_at  BIGINT NOT NULL
);

-- API keys are stored as SHA-256 of the key: they are random (160 bits), so a fast hash
-- is enough; only the prefix is kept readable, to tell keys apart.
CREATE TABLE api_keys (
    id           VARCHAR(40) PRIMARY KEY,
    team_id      VARCHAR(40) NOT NULL REFERENCES teams(id),
    name         VARCHAR(200) NOT NULL,
    key_hash     VARCHAR(64) NOT NULL UNIQUE,
    key_prefix   VARCHAR(16) NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE TABLE sandboxes (
    id                 VARCHAR(40) PRIMARY KEY,
    team_id            VARCHAR(40) NOT NULL REFERENCES teams(id),
    template_id        VARCHAR(100) NOT NULL,
    node_id            VARCHAR(100) NOT NULL,
    state              VARCHAR(20) NOT NULL,
    metadata           TEXT NOT NULL,
    envd_access_token  VARCHAR(100),
    vcpus              INTEGER NOT NULL,
    memory_mb          INTEGER NOT NULL,
    disk_mb            INTEGER NOT NULL,
    auto_pause         BOOLEAN NOT NULL,
    started_at         BIGINT NOT NULL,
    end_at             BIGINT
);
CREATE INDEX sandboxes_team ON sandboxes(team_id, started_at);
