package dev.cella.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.problem.Problem;
import dev.cella.node.sandbox.SandboxRecord;
import dev.cella.node.sandbox.SandboxSpec;
import dev.cella.node.sandbox.Sandboxes;
import dev.cella.node.sandbox.TimeoutAction;
import dev.cella.node.template.NodeTemplates;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * A create as the node API takes it ({@code POST /v1/sandboxes}): what the server sends
 * (a remote node's client writes this record, the node reads the same record) and what a
 * node in the server's process is given directly. Absent fields take their defaults here,
 * in one place; {@link #spec} and {@link #timeout} check what was sent.
 */
public record NewSandbox(String sandboxId, String templateId, Integer vcpus, Integer memoryMb, Integer diskMb, Integer maxProcesses,
                         Boolean internet, Map<String, String> envVars, Map<String, String> metadata, Long timeoutSeconds,
                         String onTimeout, Boolean autoResume, String envdAccessToken, String defaultUser,
                         String trafficAccessToken, String defaultWorkdir) {

    /** Reads a request's body: a field of the wrong type is an {@link Problem.Invalid} that names it. */
    public static NewSandbox from(JsonNode body, ObjectMapper json) {
        return NodeRequests.read(body, json, NewSandbox.class, "a sandbox to create");
    }

    /**
     * Starts it on this node, from the node's copy of its template: what the node API does
     * with a create and what a node in the server's process does, the same way.
     */
    public SandboxRecord startOn(Sandboxes sandboxes, NodeTemplates templates) throws IOException {
        Path rootfs = templates.rootfs(templateId)
                .orElseThrow(() -> new Problem.Invalid("template '" + templateId + "' is not on this node"));
        return sandboxes.create(spec(rootfs), timeout(), timeoutAction(), resumesOnTraffic());
    }

    /** The sandbox to start on a node whose copy of the template is at {@code rootfs}. */
    public SandboxSpec spec(Path rootfs) {
        return new SandboxSpec(sandboxId == null ? "" : sandboxId, templateId, rootfs, or(vcpus, 2), or(memoryMb, 512), or(diskMb, 2048),
                or(maxProcesses, 1024), internet == null || internet, envVars == null ? Map.of() : envVars,
                metadata == null ? Map.of() : metadata, envdAccessToken, defaultUser == null ? "user" : defaultUser,
                trafficAccessToken, defaultWorkdir);
    }

    /** How long it may live (null: until killed), at most {@link Sandboxes#MAX_TIMEOUT}. */
    public Duration timeout() {
        return timeoutSeconds == null ? null : Sandboxes.timeout("timeoutSeconds", timeoutSeconds);
    }

    public TimeoutAction timeoutAction() {
        if (onTimeout == null) return TimeoutAction.KILL;
        return switch (onTimeout.toLowerCase(Locale.ROOT)) {
            case "kill" -> TimeoutAction.KILL;
            case "pause" -> TimeoutAction.PAUSE;
            default -> throw new Problem.Invalid("onTimeout must be kill or pause");
        };
    }

    public boolean resumesOnTraffic() {
        return autoResume != null && autoResume;
    }

    private static int or(Integer value, int fallback) {
        return value == null ? fallback : value;
    }
}
