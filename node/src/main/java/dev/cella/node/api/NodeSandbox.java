package dev.cella.node.api;

import dev.cella.node.sandbox.SandboxRecord;
import dev.cella.node.sandbox.SandboxSpec;
import dev.cella.node.sandbox.SandboxState;
import dev.cella.node.sandbox.TimeoutAction;

import java.time.Instant;
import java.util.Map;

/**
 * A sandbox as a node shows it to the server: what its API answers ({@code GET
 * /v1/sandboxes/{id}} and the rest) and what a node in the server's process answers too,
 * so the server sees the same whichever way it reaches a node. Never its tokens (the
 * server keeps those) nor its node-local paths.
 *
 * @param runtimeName its container is {@code cella-<runtimeName>}: its own id, or its name in the warm pool
 */
public record NodeSandbox(String sandboxId, String runtimeName, String templateId, SandboxState state, String envdUrl,
                          Instant startedAt, Instant endAt, TimeoutAction onTimeout, boolean autoResume, int vcpus,
                          int memoryMb, int diskMb, int maxProcesses, boolean internet, Map<String, String> metadata,
                          String defaultUser, String defaultWorkdir) {

    public static NodeSandbox of(SandboxRecord r) {
        SandboxSpec s = r.spec();
        return new NodeSandbox(s.id(), r.name(), s.templateId(), r.state(), r.envdUrl(), r.startedAt(), r.endAt(), r.onTimeout(),
                r.autoResume(), s.vcpus(), s.memoryMb(), s.diskMb(), s.maxProcesses(), s.internet(), s.metadata(), s.defaultUser(),
                s.defaultWorkdir());
    }
}
