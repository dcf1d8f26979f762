package dev.cella.server.nodes;

import dev.cella.node.Node;
import dev.cella.node.api.NewSandbox;
import dev.cella.node.api.NodeSandbox;
import dev.cella.node.image.ImagePuller;
import dev.cella.node.metrics.MetricPoint;
import dev.cella.node.proxy.NodeRoutes;
import dev.cella.node.proxy.SandboxRoutes;
import dev.cella.node.sandbox.SandboxEvent;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A node in the server's own process ({@code cella up}): calls go straight to its
 * lifecycle, and traffic straight to the sandbox, with no second proxy hop.
 */
public final class LocalNode implements NodeClient {
    private final String id;
    private final Node node;
    private final NodeRoutes routes;

    public LocalNode(String id, Node node) {
        this.id = id;
        this.node = node;
        this.routes = new NodeRoutes(node.sandboxes());
    }

    @Override public String id() { return id; }

    @Override public Set<String> templates() { return node.templates().all().keySet(); }

    @Override public Set<String> builtInTemplates() { return node.templates().builtIn().keySet(); }

    @Override public Optional<Path> template(String templateId) { return node.templates().rootfs(templateId); }

    @Override
    public long snapshot(String sandboxId, String templateId) throws IOException {
        node.sandboxes().snapshot(sandboxId, templateId, node.templates());
        return node.templates().size(templateId);
    }

    @Override
    public boolean deleteTemplate(String templateId) throws IOException {
        return node.deleteTemplate(templateId);
    }

    @Override public List<NodeSandbox> list() { return node.sandboxes().list().stream().map(NodeSandbox::of).toList(); }

    /** As the node API does it: the same record read the same way, the template's files from this node. */
    @Override
    public NodeSandbox create(NewSandbox req) throws IOException {
        return NodeSandbox.of(req.startOn(node.sandboxes(), node.templates()));
    }

    @Override public Optional<NodeSandbox> get(String id) { return node.sandboxes().get(id).map(NodeSandbox::of); }

    @Override public void kill(String id) throws IOException { node.sandboxes().kill(id); }

    @Override public NodeSandbox pause(String id) { return NodeSandbox.of(node.sandboxes().pause(id)); }

    @Override public NodeSandbox resume(String id, Duration timeout) { return NodeSandbox.of(node.sandboxes().resume(id, timeout)); }

    @Override public NodeSandbox setTimeout(String id, Duration timeout) { return NodeSandbox.of(node.sandboxes().setTimeout(id, timeout)); }

    @Override public List<MetricPoint> metrics(String id, long seconds) { return node.metrics().points(id, seconds); }

    @Override public List<SandboxEvent> events(String id) throws IOException { return node.sandboxes().events(id); }

    @Override
    public ImagePuller.Image pullImage(String reference, String username, String password) throws IOException {
        return node.images().pull(reference, username, password);
    }

    @Override public void drainPool(String templateId) { node.pool().drain(templateId); }

    @Override public Optional<SandboxRoutes.Route> route(String sandboxId, int port) { return routes.route(sandboxId, port); }
}
