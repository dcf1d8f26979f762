package dev.cella.server.nodes;

import dev.cella.node.sandbox.SandboxRecord;
import dev.cella.node.sandbox.SandboxSpec;
import dev.cella.node.sandbox.TimeoutAction;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How the server drives one node: the same calls whether the node runs in this process
 * ({@code cella up}) or on another host (over the node API).
 */
public interface NodeClient {
    String id();

    /** The templates this node can start. */
    java.util.Set<String> templates();

    /** The ids of every sandbox on the node, of any team. */
    java.util.List<String> sandboxIds();

    /** The root filesystem of a template on this node, if it has it. */
    Optional<Path> template(String templateId);

    SandboxRecord create(SandboxSpec spec, Duration timeout, TimeoutAction onTimeout, boolean autoResume) throws IOException;

    Optional<SandboxRecord> get(String sandboxId);

    void kill(String sandboxId) throws IOException;

    SandboxRecord pause(String sandboxId);

    SandboxRecord resume(String sandboxId, Duration timeout);

    SandboxRecord setTimeout(String sandboxId, Duration timeout);

    /** The sandbox's metric points over the last {@code seconds}. */
    java.util.List<dev.cella.node.metrics.MetricPoint> metrics(String sandboxId, long seconds);

    /** The sandbox's lifecycle log. */
    java.util.List<dev.cella.node.sandbox.SandboxEvent> events(String sandboxId) throws IOException;
}
