package dev.cella.node;

import dev.cella.node.cli.Options;
import dev.cella.node.pool.WarmPool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

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
 * --registry-allow HOST[:PORT]  a registry pulls may reach though it is not public (loopback, link-local, the sandboxes' subnet; repeatable)
 * </pre>
 */
public final class NodeMain {
    /** What every process that runs a node takes ({@code cella node}, {@code cella up}), read by {@link #sandboxSettings}. */
    public static final Set<String> SANDBOX_OPTIONS = Set.of("envd-runtime", "template", "subnet-octet", "pool-size", "pool", "registry-allow");
    /** The options of {@code cella node}. */
    public static final Set<String> OPTIONS = Stream.concat(SANDBOX_OPTIONS.stream(),
            Stream.of("id", "state-dir", "api", "proxy", "token-file")).collect(Collectors.toUnmodifiableSet());
    /** The largest warm pool of one template an option may ask for. */
    static final int MAX_POOL = 1000;

    private NodeMain() {}

    public static void main(String[] args) throws Exception {
        NodeConfig config;
        try {
            config = config(Options.parse("cella node", args, OPTIONS));
        } catch (Options.Invalid e) {
            Options.exitWith(e);
            return;
        }
        Node node = new Node(config);
        Runtime.getRuntime().addShutdownHook(new Thread(node::close));
        Thread.currentThread().join();
    }

    /** The node's settings from its command line, defaults filled in; makes the state directory and the token. */
    public static NodeConfig config(Options o) throws IOException {
        Path state = o.path("state-dir", Path.of("/var/lib/cella/node"));
        Options.HostPort api = o.hostPort("api", new Options.HostPort("127.0.0.1", 7301));
        Options.HostPort proxy = o.hostPort("proxy", new Options.HostPort("127.0.0.1", 7302));
        Sandboxing s = sandboxSettings(o);
        Files.createDirectories(state);
        return new NodeConfig(o.get("id", hostName()), state, api.host(), api.port(), proxy.host(), proxy.port(),
                token(o.path("token-file", state.resolve("node-token"))), s.envdRuntime(), s.templates(), s.subnetOctet(), s.pool(), s.registryAllow());
    }

    /** How a node makes sandboxes: its envd runtime, its templates, its subnet and its warm pool. */
    public record Sandboxing(Path envdRuntime, Map<String, Path> templates, int subnetOctet, WarmPool.Settings pool, Set<String> registryAllow) {}

    /**
     * {@code --envd-runtime DIR} (required), {@code --template ID=ROOTFS} (repeatable),
     * {@code --subnet-octet N} (231: sandboxes get 10.N.0.0/16), {@code --pool-size N} and
     * {@code --pool ID=N} (repeatable).
     */
    public static Sandboxing sandboxSettings(Options o) {
        Map<String, Path> templates = new HashMap<>();
        o.assignments("template", "ROOTFS").forEach((id, rootfs) -> templates.put(id, Path.of(rootfs)));
        WarmPool.Settings d = WarmPool.Settings.defaults();
        WarmPool.Settings pool = new WarmPool.Settings(o.integer("pool-size", d.size(), 0, MAX_POOL),
                o.numberedAssignments("pool", 0, MAX_POOL), d.idleAfter(), d.idleSize());
        return new Sandboxing(Path.of(o.require("envd-runtime")),
                Map.copyOf(templates), o.integer("subnet-octet", 231, 0, 255), pool, registryAllow(o));
    }

    /** {@code --registry-allow HOST[:PORT]} (repeatable): a host name or address, with a port or not. */
    static Set<String> registryAllow(Options o) {
        Set<String> out = new HashSet<>();
        for (String v : o.all("registry-allow")) {
            if (!v.matches("(\\[[0-9a-fA-F:.]+]|[A-Za-z0-9.-]+)(:\\d{1,5})?")) {
                throw o.invalid("--registry-allow takes HOST or HOST:PORT, not '" + v + "'");
            }
            out.add(v);
        }
        return Set.copyOf(out);
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

}
