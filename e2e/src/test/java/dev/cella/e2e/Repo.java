package dev.cella.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Where the repository, its scripts and the built envd runtime are. */
final class Repo {
    private Repo() {}

    static Path root() {
        Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("cella"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("not inside the Cella repository");
        return p;
    }

    static Path script(String name) {
        return root().resolve("scripts").resolve(name);
    }

    static Path envdRuntime() {
        Path rt = root().resolve("envd/target/envd-runtime");
        if (!Files.isRegularFile(rt.resolve("envd.args"))) {
            throw new IllegalStateException("no envd runtime at " + rt + ": build envd first (./mvnw package)");
        }
        return rt;
    }

    /** The cached Debian base root filesystem, built on first use (about half a minute). */
    static Path baseRootfs() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(script("build-rootfs.sh").toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) throw new IllegalStateException("build-rootfs.sh failed");
        List<String> lines = out.lines().toList();
        return Path.of(lines.getLast());
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }
}
