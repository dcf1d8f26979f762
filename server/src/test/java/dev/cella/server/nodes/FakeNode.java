package dev.cella.server.nodes;

import dev.cella.node.api.NewSandbox;
import dev.cella.node.api.NodeSandbox;
import dev.cella.node.image.ImagePuller;
import dev.cella.node.metrics.MetricPoint;
import dev.cella.node.problem.Problem;
import dev.cella.node.proxy.SandboxRoutes;
import dev.cella.node.sandbox.SandboxEvent;
import dev.cella.node.sandbox.SandboxRecord;
import dev.cella.node.sandbox.SandboxSpec;
import dev.cella.node.sandbox.SandboxState;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A node for the server's unit tests: sandboxes in a map, routed as a node routes them (a
 * paused sandbox with autoResume is woken). {@link #sandboxes} is the test's to change
 * (a removed entry is a sandbox whose time ran out on its node).
 */
public final class FakeNode implements NodeClient {
    public final Map<String, SandboxRecord> sandboxes = new ConcurrentHashMap<>();

    @Override public String id() { return "fake"; }

    @Override public Set<String> templates() { return Set.of("base"); }

    @Override public Set<String> builtInTemplates() { return templates(); }

    @Override public Optional<Path> template(String templateId) { return Optional.of(Path.of("/nonexistent/" + templateId)); }

    @Override public List<NodeSandbox> list() { return sandboxes.values().stream().map(NodeSandbox::of).toList(); }

    @Override
    public NodeSandbox create(NewSandbox req) {
        Instant now = Instant.now();
        SandboxSpec spec = req.spec(Path.of("/nonexistent/" + req.templateId()));
        SandboxRecord r = new SandboxRecord(spec, SandboxState.RUNNING, "http://10.0.0.1:49983", now, now.plus(req.timeout()),
                req.timeoutAction(), req.resumesOnTraffic());
        sandboxes.put(spec.id(), r);
        return NodeSandbox.of(r);
    }

    @Override public Optional<NodeSandbox> get(String id) { return Optional.ofNullable(sandboxes.get(id)).map(NodeSandbox::of); }

    @Override
    public void kill(String id) {
        if (sandboxes.remove(id) == null) throw Problem.sandboxNotFound(id);
    }

    @Override
    public NodeSandbox pause(String id) {
        return NodeSandbox.of(sandboxes.computeIfPresent(id, (k, r) -> r.withState(SandboxState.PAUSED)));
    }

    @Override
    public NodeSandbox resume(String id, Duration timeout) {
        return NodeSandbox.of(sandboxes.computeIfPresent(id, (k, r) -> r.withState(SandboxState.RUNNING)));
    }

    @Override public NodeSandbox setTimeout(String id, Duration timeout) { return NodeSandbox.of(sandboxes.get(id)); }

    @Override public List<MetricPoint> metrics(String id, long seconds) { return List.of(); }

    @Override public List<SandboxEvent> events(String id) { return List.of(); }

    @Override public long snapshot(String sandboxId, String templateId) { throw new UnsupportedOperationException(); }

    @Override public boolean deleteTemplate(String templateId) { return false; }
    @Override public void drainPool(String templateId) {}

    @Override
    public ImagePuller.Image pullImage(String reference, String username, String password) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Optional<SandboxRoutes.Route> route(String id, int port) {
        SandboxRecord r = sandboxes.get(id);
        if (r != null && r.state() == SandboxState.PAUSED && r.autoResume()) {
            resume(id, null);
            r = sandboxes.get(id);
        }
        if (r == null || r.state() != SandboxState.RUNNING) return Optional.empty();
        return Optional.of(new SandboxRoutes.Route(URI.create("http://10.0.0.1:" + port), Map.of(), r.spec().trafficAccessToken()));
    }
}
