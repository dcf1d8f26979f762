-- Built templates (issue 6): a team's template is a name over the node template of its
-- last good build, with the defaults sandboxes of it start with; builds keep their steps'
-- progress and logs.
ALTER TABLE templates ADD COLUMN node_template VARCHAR(60);
ALTER TABLE templates ADD COLUMN status VARCHAR(20) NOT NULL DEFAULT 'ready';
ALTER TABLE templates ADD COLUMN disk_mb INTEGER;
ALTER TABLE templates ADD COLUMN env TEXT NOT NULL DEFAULT '{}';
ALTER TABLE templates ADD COLUMN workdir VARCHAR(1000);
ALTER TABLE templates ADD COLUMN user_name VARCHAR(100);
ALTER TABLE templates ADD COLUMN start_cmd TEXT;
ALTER TABLE templates ADD COLUMN ready_cmd TEXT;
ALTER TABLE templates ADD COLUMN spec TEXT;
ALTER TABLE templates ADD COLUMN public BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE templates ADD COLUMN spawn_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE templates ADD COLUMN last_spawned_at BIGINT;
ALTER TABLE templates ADD COLUMN build_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE templates ADD COLUMN updated_at BIGINT;
UPDATE templates SET node_template = id, updated_at = created_at, build_count = 1;

CREATE TABLE template_builds (
    id            VARCHAR(60) PRIMARY KEY,
    template_id   VARCHAR(60) NOT NULL,
    status        VARCHAR(20) NOT NULL,
    step_index    INTEGER NOT NULL DEFAULT 0,
    step_total    INTEGER NOT NULL DEFAULT 0,
    layer         VARCHAR(60),
    error         TEXT,
    created_at    BIGINT NOT NULL,
    started_at    BIGINT,
    finished_at   BIGINT
);
CREATE INDEX template_builds_template ON template_builds(template_id, created_at);

CREATE TABLE build_logs (
    build_id   VARCHAR(60) NOT NULL,
    seq        INTEGER NOT NULL,
    at         BIGINT NOT NULL,
    level      VARCHAR(10) NOT NULL,
    line       TEXT NOT NULL,
    PRIMARY KEY (build_id, seq)
);
