package dev.cella.server.nodes;

import dev.cella.node.Node;
import dev.cella.node.sandbox.SandboxRecord;
import dev.cella.node.sandbox.SandboxSpec;
import dev.cella.node.sandbox.TimeoutAction;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** A node in the server's own process: calls go straight to its lifecycle. */
public final class LocalNode implements NodeClient {
    private final Node node;
    private final Map<String, Path> templates;

    public LocalNode(Node node, Map<String, Path> templates) {
        this.node = node;
        this.templates = templates;
    }

    @Override public String id() { return "local"; }

    @Override public java.util.Set<String> templates() { return templates.keySet(); }

    @Override
    public java.util.List<String> sandboxIds() {
        return node.sandboxes().list().stream().map(r -> r.spec().id()).toList();
    }

    @Override public Optional<Path> template(String templateId) { return Optional.ofNullable(templates.get(templateId)); }

    @Override
    public SandboxRecord create(SandboxSpec spec, Duration timeout, TimeoutAction onTimeout, boolean autoResume) throws IOException {
        return node.sandboxes().create(spec, timeout, onTimeout, autoResume);
    }

    @Override public Optional<SandboxRecord> get(String id) { return node.sandboxes().get(id); }

    @Override public void kill(String id) throws IOException { node.sandboxes().kill(id); }

    @Override public SandboxRecord pause(String id) { return node.sandboxes().pause(id); }

    @Override public SandboxRecord resume(String id, Duration timeout) { return node.sandboxes().resume(id, timeout); }

    @Override public SandboxRecord setTimeout(String id, Duration timeout) { return node.sandboxes().setTimeout(id, timeout); }

    @Override
    public java.util.List<dev.cella.node.metrics.MetricPoint> metrics(String id, long seconds) {
        return node.metrics().points(id, seconds);
    }

    @Override
    public java.util.List<dev.cella.node.sandbox.SandboxEvent> events(String id) throws IOException {
        return node.sandboxes().events(id);
    }
}
