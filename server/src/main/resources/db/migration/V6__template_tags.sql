-- E2B's template tags: a tag names one build of a template ("name:tag"); a sandbox of
-- "name:tag" starts from that build's layer, "name" alone from the last good build.
CREATE TABLE template_tags (
    template_id  VARCHAR(60) NOT NULL,
    tag          VARCHAR(128) NOT NULL,
    build_id     VARCHAR(60) NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (template_id, tag)
);
