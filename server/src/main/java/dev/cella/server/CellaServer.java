package dev.cella.server;

import dev.cella.node.cli.Options;
import dev.cella.node.problem.Problem;
import dev.cella.server.nodes.Fleet;
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
        Set<String> known = new HashSet<>(ServerSettings.OPTIONS);
        known.addAll(List.of("node", "node-token-file"));
        ServerSettings settings;
        List<String> urls;
        String token;
        try {
            Options o = Options.parse("cella server", args, known);
            settings = ServerSettings.from(o);
            urls = o.all("node");
            if (urls.isEmpty()) throw o.invalid("name at least one node: --node http://HOST:PORT");
            for (String url : urls) {
                URI u;
                try {
                    u = URI.create(url);
                } catch (IllegalArgumentException e) {
                    throw o.invalid("--node takes a node's API URL such as http://10.0.0.5:7301, not '" + url + "'");
                }
                if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                    throw o.invalid("--node takes a node's API URL such as http://10.0.0.5:7301, not '" + url + "'");
                }
            }
            Path tokenFile = Path.of(o.require("node-token-file"));
            if (!Files.isReadable(tokenFile)) throw o.invalid("cannot read the node token " + tokenFile + " (copy it from a node's state directory)");
            token = Files.readString(tokenFile).trim();
        } catch (Options.Invalid e) {
            Options.exitWith(e);
            return;
        }
        List<RemoteNode> nodes = new ArrayList<>();
        for (String url : urls) {
            RemoteNode n = new RemoteNode(URI.create(url), token);
            try {
                log.info("node {} at {} with templates {}", n.refresh().id(), url, n.templates());
            } catch (Problem.Unavailable e) {
                log.warn("node at {} does not answer yet; it is asked again when needed: {}", url, e.getMessage());
            }
            nodes.add(n);
        }
        Server server = new Server(settings, new Fleet(nodes));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        server.printWelcome();
        Thread.currentThread().join();
    }
}
