package dev.cella.node.envd;

import dev.cella.protocol.envd.EnvdProtocol;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The packaged envd runtime directory (scripts/build-envd-runtime.sh), mounted read-only
 * at {@value #MOUNT_PATH} in every sandbox, and the command that starts envd from it
 * without needing anything from the sandbox's image.
 */
public record EnvdRuntime(Path dir) {
    public static final String MOUNT_PATH = "/.cella/envd";
    public static final int PORT = EnvdProtocol.PORT;

    public EnvdRuntime {
        dir = dir.toAbsolutePath().normalize(); // crun resolves mount sources from its own directory
        if (!Files.isRegularFile(dir.resolve("envd.args"))) {
            throw new IllegalArgumentException("no envd runtime at " + dir + " (build it: ./mvnw package)");
        }
        if (!Files.isRegularFile(dir.resolve("glibc/ld.so"))) {
            throw new IllegalArgumentException("the envd runtime at " + dir + " is older than this node (no glibc/ld.so): rebuild it (./mvnw package)");
        }
    }

    /**
     * A pooled envd's JIT compiles a method after 1/20 of the usual calls. envd's request
     * paths reach full speed only once compiled: in a sandbox just taken from the pool, a
     * command took ~10 ms for its first 15 calls, ~5 ms up to 130, and ~2.5 ms after 250
     * (measured with curl, keep-alive; docs/performance.md). The pool's warm-up runs each
     * path a few dozen times, which with these thresholds compiles them. Only for pooled
     * starts: a cold start would pay ~45 ms more in compilation during its own start.
     */
    static final String POOLED_JIT = "-XX:CompileThresholdScaling=0.05";

    /** The command that starts envd; {@code pooled} when it starts ahead of demand and is warmed up before use. */
    public List<String> command(List<String> envdArgs, boolean pooled) {
        List<String> argv = new ArrayList<>(List.of(
                MOUNT_PATH + "/glibc/ld.so", "--library-path", MOUNT_PATH + "/glibc",
                MOUNT_PATH + "/jre/bin/java", "@" + MOUNT_PATH + "/envd.args"));
        if (Files.isRegularFile(dir.resolve("envd.aot"))) argv.add("-XX:AOTCache=" + MOUNT_PATH + "/envd.aot");
        if (pooled) argv.add(POOLED_JIT);
        argv.add("dev.cella.envd.Envd");
        argv.addAll(envdArgs);
        return argv;
    }
}
