package dev.cella.server;

import dev.cella.node.Node;
import dev.cella.node.NodeConfig;
import dev.cella.node.NodeMain;
import dev.cella.node.cli.Options;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.nodes.LocalNode;

import java.nio.file.Files;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code cella up}: the server and a node in one process, state in SQLite under the data
 * directory (the single-machine default).
 *
 * <pre>--data-dir DIR (/var/lib/cella)  --port PORT (3000; the sandbox proxy on PORT+1)  --host H (127.0.0.1)
 * --envd-runtime DIR  --template ID=ROOTFS (repeatable)  [--subnet-octet N (231)]
 * [--db-url jdbc:postgresql://... --db-user U --db-password P]
 * [--domain D (sandbox host names PORT-ID.D)]  [--rate-limit N (requests per second per team, 200)]
 * [--pool-size N (sandboxes kept ready per template in demand, 4; 0: no warm pool)] [--pool ID=N (repeatable)]
 * [--registry-allow HOST[:PORT] (a registry image pulls may reach though it is not public; repeatable)]
 * [--max-upload-mb N (the native API's streaming upload limit, 10240)]  [--pty-idle-seconds N (120)]</pre>
 * (every default in {@link ServerSettings} and {@link NodeMain#sandboxSettings})
 */
public final class CellaUp {
    private CellaUp() {}

    public static void main(String[] args) throws Exception {
        Set<String> known = new HashSet<>(ServerSettings.OPTIONS);
        known.addAll(NodeMain.SANDBOX_OPTIONS);
        ServerSettings settings;
        NodeMain.Sandboxing sandboxing;
        try {
            Options o = Options.parse("cella up", args, known);
            settings = ServerSettings.from(o);
            sandboxing = NodeMain.sandboxSettings(o);
        } catch (Options.Invalid e) {
            Options.exitWith(e);
            return;
        }
        Files.createDirectories(settings.dataDir());
        // the node's own API and proxy listen on loopback ports nobody needs: the server calls it in-process
        Node node = new Node(new NodeConfig("local", settings.dataDir().resolve("node"), "127.0.0.1", 0, "127.0.0.1", 0,
                NodeMain.token(settings.dataDir().resolve("node-token")), sandboxing.envdRuntime(), sandboxing.templates(),
                sandboxing.subnetOctet(), sandboxing.pool(), sandboxing.registryAllow()));
        Server server = new Server(settings, new Fleet(List.of(new LocalNode("local", node))));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            node.close();
        }));
        server.printWelcome();
        // operators (and the benchmark) read the warm pool and the start queue there
        System.out.println("cella node API: http://127.0.0.1:" + node.apiPort() + " (token in " + settings.dataDir().resolve("node-token")
                + "; GET /v1/pool shows the warm pool)");
        System.out.flush();
        Thread.currentThread().join();
    }
}
