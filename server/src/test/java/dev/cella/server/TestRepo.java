package dev.cella.server;

import dev.cella.node.Node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Where the server's tests find the repository, the envd runtime and the base root filesystem (built once, cached). */
final class TestRepo {
    private TestRepo() {}

    static Path root() {
        Path repo = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (!Files.exists(repo.resolve("cella"))) repo = repo.getParent();
        return repo;
    }

    static Path envdRuntime() {
        return root().resolve("envd/target/envd-runtime");
    }

    static Path baseRootfs() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(root().resolve("scripts/build-rootfs.sh").toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        p.waitFor(10, TimeUnit.MINUTES);
        return Path.of(out.lines().toList().getLast());
    }

    /** Kills what a test's node still runs (its sandboxes outlive it by design), then closes it. */
    static void closeWithItsSandboxes(Node node) {
        if (node == null) return;
        for (var r : node.sandboxes().list()) {
            try {
                node.sandboxes().kill(r.spec().id());
            } catch (Exception ignored) {
                // gone already
            }
        }
        node.close();
    }
}
