-- Templates made by teams (snapshots of capsules; later, builds). The built-in templates
-- (base) are the nodes' own and have no row. A team's template is named by the team; on
-- its node it has an id of its own, unique across teams.
CREATE TABLE templates (
    id          VARCHAR(60) PRIMARY KEY,
    team_id     VARCHAR(40) NOT NULL REFERENCES teams(id),
    name        VARCHAR(64) NOT NULL,
    type        VARCHAR(20) NOT NULL,
    node_id     VARCHAR(100) NOT NULL,
    vcpus       INTEGER,
    memory_mb   INTEGER,
    size_bytes  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX templates_team_name ON templates(team_id, name);
