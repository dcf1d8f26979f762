package dev.cella.node.api;

import dev.cella.node.problem.Problem;

/**
 * {@code POST /v1/sandboxes/{id}/snapshot}: the request names the new template
 * ({@code {"templateId"}}), the answer says how large it is on the node's disk.
 */
public record SnapshotTaken(String templateId, long sizeBytes) {
    /** The request's body. */
    public record Request(String templateId) {
        public String checkedTemplateId() {
            if (templateId == null || templateId.isBlank()) throw new Problem.Invalid("templateId is required");
            return templateId;
        }
    }
}
