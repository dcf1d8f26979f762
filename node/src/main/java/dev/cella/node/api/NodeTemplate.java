package dev.cella.node.api;

/** {@code GET /v1/templates}: one template a node can start sandboxes from, and where its root filesystem is. */
public record NodeTemplate(String templateId, String rootfs, boolean builtIn) {}
