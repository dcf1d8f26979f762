package dev.cella.server;

import dev.cella.node.Node;
import dev.cella.node.NodeConfig;
import dev.cella.node.NodeMain;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.nodes.LocalNode;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
 * [--max-upload-mb N (the native API's streaming upload limit, 10240)]  [--pty-idle-seconds N (120)]</pre>
 */
public final class CellaUp {
    private CellaUp() {}

    public static void main(String[] args) throws Exception {
        Set<String> known = new HashSet<>(Server.OPTIONS);
        known.addAll(List.of("envd-runtime", "template", "subnet-octet", "pool-size", "pool"));
        Options o = Options.parse("cella up", args, known);
        Map<String, Path> templates = templates(o);
        Path data = Path.of(o.get("data-dir", "/var/lib/cella"));
        java.nio.file.Files.createDirectories(data);
        // the node's own API and proxy listen on loopback ports nobody needs: the server calls it in-process
        Node node = new Node(new NodeConfig("local", data.resolve("node"), "127.0.0.1", 0, "127.0.0.1", 0,
                NodeMain.token(data.resolve("node-token")), Path.of(o.require("envd-runtime")), templates, o.integer("subnet-octet", 231),
                NodeMain.poolSettings(o.get("pool-size", null), poolSizes(o), m -> Options.usage(o.command(), m))));
        Server server = new Server(o, new Fleet(List.of(new LocalNode("local", node))));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            node.close();
        }));
        server.printWelcome();
        // operators (and the benchmark) read the warm pool and the start queue there
        System.out.println("cella node API: http://127.0.0.1:" + node.apiPort() + " (token in " + data.resolve("node-token")
                + "; GET /v1/pool shows the warm pool)");
        System.out.flush();
        Thread.currentThread().join();
    }

    static Map<String, Integer> poolSizes(Options o) {
        Map<String, Integer> sizes = new HashMap<>();
        for (String t : o.all("pool")) {
            int eq = t.indexOf('=');
            if (eq < 1 || !t.substring(eq + 1).matches("\\d{1,4}")) Options.usage(o.command(), "--pool takes ID=N");
            sizes.put(t.substring(0, eq), Integer.parseInt(t.substring(eq + 1)));
        }
        return sizes;
    }

    static Map<String, Path> templates(Options o) {
        Map<String, Path> templates = new HashMap<>();
        for (String t : o.all("template")) {
            int eq = t.indexOf('=');
            if (eq < 1) Options.usage(o.command(), "--template takes ID=ROOTFS");
            templates.put(t.substring(0, eq), Path.of(t.substring(eq + 1)));
        }
        return Map.copyOf(templates);
    }
}
