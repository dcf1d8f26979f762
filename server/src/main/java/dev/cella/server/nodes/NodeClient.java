package dev.cella.server.nodes;

import dev.cella.node.api.NewSandbox;
import dev.cella.node.api.NodeSandbox;
import dev.cella.node.image.ImagePuller;
import dev.cella.node.metrics.MetricPoint;
import dev.cella.node.problem.Problem;
import dev.cella.node.proxy.SandboxRoutes;
import dev.cella.node.sandbox.SandboxEvent;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * How the server drives one node: the same calls whether the node runs in this process
 * ({@code cella up}) or on another host (over the node API). A node that cannot be
 * reached answers {@link Problem.Unavailable}, never "not found": the server must not forget
 * sandboxes because their host is briefly away.
 */
public interface NodeClient {
    /** The node's name, as the server records where a sandbox runs. */
    String id();

    /** Whether the node answers now (a node in this process always does). */
    default boolean available() {
        return true;
    }

    /** The templates this node can start: its built-in ones and the teams' (snapshots, build layers, pulled images). */
    Set<String> templates();

    /**
     * The templates the node's operator gave it ({@code --template}), which every team may
     * start. Everything else on a node belongs to the team whose template row names it.
     */
    Set<String> builtInTemplates();

    /** The root filesystem of a template on this node, if it has it. */
    Optional<Path> template(String templateId);

    /** Every sandbox on the node, of any team. */
    List<NodeSandbox> list();

    /** Starts a sandbox: the node API's create, the same record whichever way the node is reached. */
    NodeSandbox create(NewSandbox request) throws IOException;

    Optional<NodeSandbox> get(String sandboxId);

    void kill(String sandboxId) throws IOException;

    NodeSandbox pause(String sandboxId);

    NodeSandbox resume(String sandboxId, Duration timeout);

    NodeSandbox setTimeout(String sandboxId, Duration timeout);

    /** The sandbox's metric points over the last {@code seconds}. */
    List<MetricPoint> metrics(String sandboxId, long seconds);

    /** The sandbox's lifecycle log. */
    List<SandboxEvent> events(String sandboxId) throws IOException;

    /** Makes a layered template of the sandbox's files on this node; returns its size in bytes. */
    long snapshot(String sandboxId, String templateId) throws IOException;

    /** Deletes a template this node made; false when it has no such template. */
    boolean deleteTemplate(String templateId) throws IOException;

    /** Pulls an image (registry v2) into a template on this node. */
    ImagePuller.Image pullImage(String reference, String username, String password) throws IOException;

    /** Stops the sandboxes the node keeps ready for this template (it was replaced); the pool refills on demand. */
    void drainPool(String templateId);

    /** Where the server's proxy sends traffic for a port of one of this node's sandboxes. */
    Optional<SandboxRoutes.Route> route(String sandboxId, int port);
}
