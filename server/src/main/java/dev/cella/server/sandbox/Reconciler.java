package dev.cella.server.sandbox;

import dev.cella.node.api.NodeSandbox;
import dev.cella.node.problem.Problem;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.nodes.NodeClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The server is the source of truth, the nodes say what really runs. For every node that
 * answers: a sandbox it runs that no team owns (its row is gone, say the server crashed
 * between a kill and its record) is killed; a row whose sandbox the node no longer has
 * (its time ran out) is removed; rows take the state the node reports. Sandboxes of a
 * node that does not answer are left as they are. Run at the server's start and every
 * 30 s after ({@code Server}).
 */
public final class Reconciler {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);
    /** Longer than any create takes (the node call's own limit is 60 s): a creating row older than this is a crash's. */
    private static final Duration CREATE_LIMIT = Duration.ofMinutes(5);

    private final SandboxRepository repo;
    private final Fleet fleet;
    private final Predicate<String> ownedElsewhere;

    /** @param ownedElsewhere sandboxes of the server's own that have no row (template builds): left alone */
    public Reconciler(SandboxRepository repo, Fleet fleet, Predicate<String> ownedElsewhere) {
        this.repo = repo;
        this.fleet = fleet;
        this.ownedElsewhere = ownedElsewhere;
    }

    /** One round; returns the ids of the sandboxes it killed. */
    public List<String> run() {
        List<String> killed = new ArrayList<>();
        for (NodeClient node : fleet.reachable()) {
            List<NodeSandbox> running;
            try {
                running = node.list();
            } catch (Problem.Unavailable e) {
                log.warn("reconcile skipped node {}: {}", node.id(), e.getMessage());
                continue;
            }
            Map<String, SandboxRow> owned = new HashMap<>();
            for (SandboxRow r : repo.onNode(node.id())) owned.put(r.id(), r);
            Set<String> seen = new HashSet<>();
            for (NodeSandbox r : running) {
                String id = r.sandboxId();
                seen.add(id);
                SandboxRow row = owned.get(id);
                if (row == null && ownedElsewhere.test(id)) continue;
                if (row == null) {
                    try {
                        node.kill(id);
                        killed.add(id);
                    } catch (IOException | Problem e) {
                        // gone already
                    }
                } else if (row.state() != SandboxService.state(r)) {
                    repo.updateState(id, SandboxService.state(r), r.endAt() == null ? null : r.endAt().toEpochMilli());
                }
            }
            long now = System.currentTimeMillis();
            for (SandboxRow row : owned.values()) {
                if (seen.contains(row.id())) continue;
                // a create under way has its row before its sandbox; one older than that took is a crash's leftover
                if (row.state() != RowState.CREATING || now - row.startedAt() > CREATE_LIMIT.toMillis()) repo.delete(row.id());
            }
        }
        return killed;
    }
}
