package dev.cella.server.nodes;

import dev.cella.node.problem.Problem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The nodes this server drives, and where a new sandbox goes. A node that cannot be
 * reached is passed over for placement; its sandboxes are kept (their calls answer 503).
 */
public final class Fleet {
    private static final Logger log = LoggerFactory.getLogger(Fleet.class);
    private final List<NodeClient> nodes;

    public Fleet(List<? extends NodeClient> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    /** Every node that answers, in the order given. */
    public List<NodeClient> reachable() {
        return nodes.stream().filter(NodeClient::available).toList();
    }

    /** Asks every remote node again what it is (its templates may have changed with a restart). */
    public void refresh() {
        for (NodeClient n : nodes) {
            if (!(n instanceof RemoteNode r)) continue;
            try {
                r.refresh();
            } catch (Problem.Unavailable e) {
                log.warn("{}", e.getMessage());
            }
        }
    }

    /** The node of this id; a node that does not answer is unavailable, not absent. */
    public NodeClient node(String id) {
        for (NodeClient n : nodes) {
            try {
                if (n.id().equals(id)) return n;
            } catch (Problem.Unavailable e) {
                // maybe that one; keep looking among those that answer
            }
        }
        throw new Problem.Unavailable("node " + id + " is not reachable", null);
    }

    /** The templates of every node that answers. */
    public Set<String> templates() {
        Set<String> all = new LinkedHashSet<>();
        for (NodeClient n : reachable()) all.addAll(n.templates());
        return all;
    }

    /**
     * Whether some node was given this template by its operator (see {@link NodeClient#builtInTemplates}):
     * asked on every read of a sandbox, so it copies nothing and asks no node that is away.
     */
    public boolean isBuiltIn(String templateId) {
        for (NodeClient n : nodes) {
            if (n.available() && n.builtInTemplates().contains(templateId)) return true;
        }
        return false;
    }

    /** The built-in templates of every node that answers: those any team may start (see {@link NodeClient#builtInTemplates}). */
    public Set<String> builtInTemplates() {
        Set<String> all = new LinkedHashSet<>();
        for (NodeClient n : reachable()) all.addAll(n.builtInTemplates());
        return all;
    }

    /**
     * The node for a new sandbox of this template: of those that have it, the one with the
     * fewest sandboxes (from the server's own table, so placement costs no node call).
     */
    public Optional<NodeClient> place(String templateId, Map<String, Integer> sandboxesByNode) {
        return reachable().stream().filter(n -> n.templates().contains(templateId))
                .min(Comparator.comparingInt(n -> sandboxesByNode.getOrDefault(n.id(), 0)));
    }
}
