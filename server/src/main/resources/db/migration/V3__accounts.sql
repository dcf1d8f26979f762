-- Accounts for the native API (seed 004): users who log in, their memberships in teams,
-- and what the server signs tokens with. Teams gain a slug (reserved for ever) and a soft
-- delete; keys remember who made them and when they were last used.
CREATE TABLE users (
    id             VARCHAR(40) PRIMARY KEY,
    email          VARCHAR(320) NOT NULL UNIQUE,
    name           VARCHAR(100) NOT NULL,
    password_hash  VARCHAR(200),
    github_id      VARCHAR(40) UNIQUE,
    created_at     BIGINT NOT NULL
);

CREATE TABLE team_members (
    team_id    VARCHAR(40) NOT NULL REFERENCES teams(id),
    user_id    VARCHAR(40) NOT NULL REFERENCES users(id),
    role       VARCHAR(10) NOT NULL,
    joined_at  BIGINT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id);

ALTER TABLE teams ADD COLUMN slug VARCHAR(20);
ALTER TABLE teams ADD COLUMN deleted_at BIGINT;
UPDATE teams SET slug = SUBSTR(id, 6, 6) || '-' || SUBSTR(id, 12, 6);
CREATE UNIQUE INDEX teams_slug ON teams(slug);

ALTER TABLE api_keys ADD COLUMN created_by VARCHAR(40);

-- One row: the key JWTs are signed with, made at the first start (shared by every server of a fleet).
CREATE TABLE server_secrets (
    name   VARCHAR(40) PRIMARY KEY,
    value  VARCHAR(200) NOT NULL
);

-- Native API capsules: the inactivity TTL that pauses them, and when they were last used.
ALTER TABLE sandboxes ADD COLUMN timeout_sec INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sandboxes ADD COLUMN last_active_at BIGINT;
ALTER TABLE sandboxes ADD COLUMN created_at BIGINT;
UPDATE sandboxes SET created_at = started_at;

-- What each team ran, sampled by the server, for /v1/capsules/stats (kept 31 days).
CREATE TABLE team_usage (
    team_id      VARCHAR(40) NOT NULL,
    sampled_at   BIGINT NOT NULL,
    running      INTEGER NOT NULL,
    vcpus        INTEGER NOT NULL,
    memory_mb    INTEGER NOT NULL,
    PRIMARY KEY (team_id, sampled_at)
);
