package dev.cella.server;

import dev.cella.node.Node;
import dev.cella.node.NodeConfig;
import dev.cella.server.api.E2bApi;
import dev.cella.server.auth.ApiKeys;
import dev.cella.server.auth.Team;
import dev.cella.server.db.Database;
import dev.cella.server.db.Jdbc;
import dev.cella.server.nodes.LocalNode;
import dev.cella.server.sandbox.SandboxRepository;
import dev.cella.server.sandbox.SandboxService;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code cella up}: the server and a node in one process, state in SQLite under the data
 * directory. Wired by hand, here.
 *
 * <pre>--data-dir DIR (/var/lib/cella)  --port PORT (3000; the sandbox proxy on PORT+1)
 * --envd-runtime DIR  --template ID=ROOTFS  [--db-url jdbc:postgresql://... --db-user U --db-password P]
 * [--domain D (sandbox host names PORT-ID.D)]  [--rate-limit N (requests per second per team, 200)]</pre>
 */
public final class CellaUp {
    private CellaUp() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new HashMap<>();
        Map<String, Path> templates = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--template")) {
                String[] kv = args[i + 1].split("=", 2);
                templates.put(kv[0], Path.of(kv[1]));
            } else {
                o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
            }
        }
        Path data = Path.of(o.getOrDefault("data-dir", "/var/lib/cella"));
        Files.createDirectories(data);
        int port = Integer.parseInt(o.getOrDefault("port", "3000"));
        String host = o.getOrDefault("host", "127.0.0.1");

        Database db = o.containsKey("db-url") ? Database.postgres(o.get("db-url"), o.get("db-user"), o.get("db-password"))
                : Database.sqlite(data.resolve("cella.db"));
        Jdbc jdbc = new Jdbc(db.dataSource());
        ApiKeys keys = new ApiKeys(jdbc);
        String firstKey = null;
        if (!keys.anyTeam()) {
            Team admin = keys.createTeam("admin");
            firstKey = keys.createKey(admin, "first key");
        }
        Node node = new Node(new NodeConfig(data.resolve("node"), "127.0.0.1", 0, host, port + 1,
                dev.cella.node.NodeMain.token(data.resolve("node-token")), Path.of(o.get("envd-runtime")), Map.copyOf(templates),
                Integer.parseInt(o.getOrDefault("subnet-octet", "231"))));
        SandboxService sandboxes = new SandboxService(new SandboxRepository(jdbc), new LocalNode(node, Map.copyOf(templates)));
        sandboxes.reconcile();
        Thread.ofVirtual().name("server-reconciler").start(() -> {
            while (true) {
                try {
                    Thread.sleep(30_000);
                    sandboxes.reconcile();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException ignored) {
                    // next round
                }
            }
        });
        E2bApi api = new E2bApi(keys, sandboxes, Integer.parseInt(o.getOrDefault("rate-limit", "200")), o.get("domain"))
                .start(host, port);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            api.stop();
            node.close();
            db.close();
        }));

        String base = "http://" + host + ":" + port;
        System.out.println("Cella is up. In another shell:");
        System.out.println("export E2B_API_URL=" + base);
        System.out.println("export E2B_SANDBOX_URL=http://" + host + ":" + (port + 1));
        System.out.println("export E2B_API_KEY=" + (firstKey != null ? firstKey : "<the key printed at the first start of " + data + ">"));
        System.out.println("node -e \"const {Sandbox} = require('e2b');");
        System.out.println("  Sandbox.create().then(async s => { console.log((await s.commands.run('echo hello from $(hostname)')).stdout);");
        System.out.println("  await s.kill(); });\"");
        System.out.flush();
        Thread.currentThread().join();
    }
}
