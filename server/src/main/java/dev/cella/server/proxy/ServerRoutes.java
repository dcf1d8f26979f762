package dev.cella.server.proxy;

import dev.cella.node.proxy.SandboxRoutes;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.nodes.NodeUnavailable;
import dev.cella.server.sandbox.SandboxRepository;
import dev.cella.server.sandbox.SandboxRow;

import java.util.Optional;

/**
 * The server's routes for sandbox traffic: the sandbox's row says which node hosts it,
 * and that node says how to reach it (directly for the node in this process, through its
 * own proxy for a remote one). The traffic token is the server's to check, from its table.
 */
public final class ServerRoutes implements SandboxRoutes {
    private final SandboxRepository sandboxes;
    private final Fleet fleet;

    public ServerRoutes(SandboxRepository sandboxes, Fleet fleet) {
        this.sandboxes = sandboxes;
        this.fleet = fleet;
    }

    @Override
    public Optional<Route> route(String sandboxId, int port) {
        Optional<SandboxRow> row = sandboxes.findAnyTeam(sandboxId);
        if (row.isEmpty()) return Optional.empty();
        try {
            return fleet.node(row.get().nodeId()).route(sandboxId, port)
                    .map(r -> new Route(r.base(), r.headers(), row.get().trafficAccessToken()));
        } catch (NodeUnavailable e) {
            return Optional.empty();
        }
    }

    @Override
    public Optional<String> signedBy(String path, String operation, String user, String signature, String expiration) {
        return sandboxes.withEnvdToken().stream()
                .filter(r -> SandboxRoutes.signs(r.envdAccessToken(), path, operation, user, signature, expiration))
                .map(SandboxRow::id).findFirst();
    }
}
