package dev.cella.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * {@code cella node}: runs a node in the foreground.
 *
 * <pre>
 * --id ID                this host's name: how the server names the node
 * --state-dir DIR        /var/lib/cella/node
 * --api HOST:PORT        127.0.0.1:7301   the lifecycle API (Bearer token)
 * --proxy HOST:PORT      127.0.0.1:7302   the sandbox traffic proxy
 * --token-file FILE      STATE/node-token (made with a random token when missing, mode 0600)
 * --envd-runtime DIR     the packaged envd runtime
 * --template ID=ROOTFS   a template's root filesystem (repeatable)
 * --subnet-octet N       231: sandboxes get 10.N.0.0/16
 * --pool-size N          4: sandboxes kept ready (frozen) per template in demand; 0 turns the warm pool off
 * --pool ID=N            a template's own pool size (repeatable)
 * </pre>
 */
public final class NodeMain {
    private NodeMain() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new HashMap<>();
        Map<String, Path> templates = new HashMap<>();
        Map<String, Integer> poolSizes = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || i + 1 >= args.length) usage("option " + a + " needs a value");
            String v = args[++i];
            if (a.equals("--template")) {
                int eq = v.indexOf('=');
                if (eq < 1) usage("--template takes ID=ROOTFS");
                templates.put(v.substring(0, eq), Path.of(v.substring(eq + 1)));
            } else if (a.equals("--pool")) {
                int eq = v.indexOf('=');
                if (eq < 1 || !v.substring(eq + 1).matches("\\d{1,4}")) usage("--pool takes ID=N");
                poolSizes.put(v.substring(0, eq), Integer.parseInt(v.substring(eq + 1)));
            } else {
                o.put(a.substring(2), v);
            }
        }
        Path state = Path.of(o.getOrDefault("state-dir", "/var/lib/cella/node"));
        Files.createDirectories(state);
        String[] api = o.getOrDefault("api", "127.0.0.1:7301").split(":");
        String[] proxy = o.getOrDefault("proxy", "127.0.0.1:7302").split(":");
        if (!o.containsKey("envd-runtime")) usage("--envd-runtime is required");
        NodeConfig config = new NodeConfig(o.getOrDefault("id", hostName()), state, api[0], Integer.parseInt(api[1]), proxy[0], Integer.parseInt(proxy[1]),
                token(Path.of(o.getOrDefault("token-file", state.resolve("node-token").toString()))),
                Path.of(o.get("envd-runtime")), Map.copyOf(templates), Integer.parseInt(o.getOrDefault("subnet-octet", "231")),
                poolSettings(o.get("pool-size"), poolSizes, NodeMain::usage));
        Node node = new Node(config);
        Runtime.getRuntime().addShutdownHook(new Thread(node::close));
        Thread.currentThread().join();
    }

    /** The warm pool's settings from {@code --pool-size} (null: the default) and {@code --pool ID=N}. */
    public static dev.cella.node.pool.WarmPool.Settings poolSettings(String size, Map<String, Integer> sizes,
                                                                       java.util.function.Consumer<String> usage) {
        var d = dev.cella.node.pool.WarmPool.Settings.defaults();
        if (size != null && !size.matches("\\d{1,4}")) usage.accept("--pool-size takes a number of sandboxes (0 turns the pool off)");
        return new dev.cella.node.pool.WarmPool.Settings(size == null ? d.size() : Integer.parseInt(size), sizes, d.idleAfter(), d.idleSize());
    }

    /** The node token: read, or made once (random, readable by root alone). */
    public static String token(Path file) throws IOException {
        if (Files.exists(file)) return Files.readString(file).trim();
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        String t = HexFormat.of().formatHex(b);
        Files.writeString(file, t + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return t;
    }

    /** The host's name, as the kernel knows it: a node's default id. */
    public static String hostName() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException e) {
            return "node";
        }
    }

    private static void usage(String problem) {
        System.err.println("cella node: " + problem);
        System.exit(2);
    }
}
