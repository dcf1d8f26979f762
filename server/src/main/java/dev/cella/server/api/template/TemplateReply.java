package dev.cella.server.api.template;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import dev.cella.server.api.E2bApi;
import dev.cella.server.sandbox.SandboxService;
import dev.cella.server.template.Templates;

import java.time.Instant;
import java.util.List;

/**
 * A template as the root path's {@code /templates} answers it: in E2B's shape and in
 * Superserve's at once, because both clients call the same routes and each reads the
 * fields it knows.
 */
public record TemplateReply(@JsonUnwrapped E2b e2b, @JsonUnwrapped Superserve superserve) {
    /** When this server started: the built-in templates' creation time. */
    private static final Instant STARTED = Instant.now();

    /** E2B's Template (camelCase). */
    public record E2b(String templateID, String buildID, Integer cpuCount, Integer memoryMB, Integer diskSizeMB,
                      @JsonProperty("public") boolean isPublic, List<String> aliases, String createdAt, String updatedAt,
                      String createdBy, String lastSpawnedAt, long spawnCount, long buildCount, String envdVersion) {}

    /** Superserve's template (snake_case); a built-in template has only id, name and status. */
    public record Superserve(String id, @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("team_id") String teamId,
                             String name, String status,
                             @JsonInclude(JsonInclude.Include.NON_NULL) Integer vcpu,
                             @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("memory_mib") Integer memoryMib,
                             @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("disk_mib") Integer diskMib,
                             @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("created_at") String createdAt,
                             @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("build_id") String buildId) {}

    /** A team's template. */
    public static TemplateReply of(Templates.TeamTemplate t, Templates.Stats stats) {
        String created = Instant.ofEpochMilli(t.createdAt()).toString();
        return new TemplateReply(
                new E2b(t.id(), stats.lastBuild(), t.vcpus(), t.memoryMb(), t.diskMb(), stats.isPublic(), List.of(t.name()), created,
                        Instant.ofEpochMilli(stats.updatedAt()).toString(), null,
                        stats.lastSpawnedAt() == null ? null : Instant.ofEpochMilli(stats.lastSpawnedAt()).toString(),
                        stats.spawnCount(), stats.buildCount(), E2bApi.ENVD_VERSION),
                new Superserve(t.id(), t.teamId(), t.name(), t.status().superserve(), t.vcpus(), t.memoryMb(), t.diskMb(), created, stats.lastBuild()));
    }

    /** A template built into this server: public, ready, of the default sizes. */
    public static TemplateReply builtIn(String id) {
        return new TemplateReply(
                new E2b(id, id, SandboxService.DEFAULT_VCPUS, SandboxService.DEFAULT_MEMORY_MB, SandboxService.DEFAULT_DISK_MB, true,
                        List.of(id), STARTED.toString(), STARTED.toString(), null, null, 0, 1, E2bApi.ENVD_VERSION),
                new Superserve(id, null, id, "ready", null, null, null, null, null));
    }

    /** The template's id (E2B's templateID, Superserve's id). */
    public String templateId() {
        return e2b.templateID();
    }
}
