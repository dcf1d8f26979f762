package dev.cella.node.envd;

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
    public static final int PORT = dev.cella.protocol.envd.EnvdProtocol.PORT;

    public EnvdRuntime {
        dir = dir.toAbsolutePath().normalize(); // crun resolves mount sources from its own directory
        if (!Files.isRegularFile(dir.resolve("envd.args"))) {
            throw new IllegalArgumentException("no envd runtime at " + dir + " (build it: ./mvnw package)");
        }
    }

    public List<String> command(List<String> envdArgs) {
        List<String> argv = new ArrayList<>(List.of(
                MOUNT_PATH + "/glibc/ld-linux-x86-64.so.2", "--library-path", MOUNT_PATH + "/glibc",
                MOUNT_PATH + "/jre/bin/java", "@" + MOUNT_PATH + "/envd.args"));
        if (Files.isRegularFile(dir.resolve("envd.aot"))) argv.add("-XX:AOTCache=" + MOUNT_PATH + "/envd.aot");
        argv.add("dev.cella.envd.Envd");
        argv.addAll(envdArgs);
        return argv;
    }
}
