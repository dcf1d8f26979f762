package dev.cella.server;

import dev.cella.server.nodes.Fleet;
import dev.cella.server.nodes.NodeUnavailable;
import dev.cella.server.nodes.RemoteNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code cella server}: the control plane alone, driving nodes on other hosts
 * ({@code cella node}) over their API. Sandbox traffic to PORT+1 goes on to the proxy of
 * the node that hosts the sandbox.
 *
 * <pre>--node http://HOST:PORT (repeatable: each node's API)  --node-token-file FILE (the nodes' token)
 * and the options of {@code cella up} but the node's own: --data-dir --port --host --db-url --db-user
 * --db-password --domain --rate-limit</pre>
 */
public final class CellaServer {
    private static final Logger log = LoggerFactory.getLogger(CellaServer.class);

    private CellaServer() {}

    public static void main(String[] args) throws Exception {
        Set<String> known = new HashSet<>(Server.OPTIONS);
        known.addAll(List.of("node", "node-token-file"));
        Options o = Options.parse("cella server", args, known);
        if (o.all("node").isEmpty()) Options.usage(o.command(), "name at least one node: --node http://HOST:PORT");
        Path tokenFile = Path.of(o.require("node-token-file"));
        if (!Files.isReadable(tokenFile)) Options.usage(o.command(), "cannot read the node token " + tokenFile + " (copy it from a node's state directory)");
        String token = Files.readString(tokenFile).trim();
        List<RemoteNode> nodes = new ArrayList<>();
        for (String url : o.all("node")) {
            RemoteNode n = new RemoteNode(URI.create(url), token);
            try {
                log.info("node {} at {} with templates {}", n.refresh().id(), url, n.templates());
            } catch (NodeUnavailable e) {
                log.warn("node at {} does not answer yet; it is asked again when needed: {}", url, e.getMessage());
            }
            nodes.add(n);
        }
        Server server = new Server(o, new Fleet(nodes));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        server.printWelcome();
        Thread.currentThread().join();
    }
}
