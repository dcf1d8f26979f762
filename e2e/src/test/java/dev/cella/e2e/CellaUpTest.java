package dev.cella.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code cella up} as a user runs it (the packaged server with a node in its process),
 * driven by the official E2B JS SDK with only the three printed variables set.
 */
class CellaUpTest {
    static Process server;
    static Path data;
    static final Map<String, String> exports = new HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Repo.isRoot(), "a node runs sandboxes in namespaces; this needs root (CI is root)");
        data = Files.createTempDirectory("cella-up");
        Path jar = Repo.root().resolve("server/target/cella-server.jar");
        assertThat(jar).as("the server is packaged before e2e runs").exists();
        server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(), "--data-dir", data.toString(), "--port", "3210", "--domain", "cella.localhost:3211",
                "--envd-runtime", Repo.envdRuntime().toString(), "--template", "base=" + Repo.baseRootfs())
                .redirectError(data.resolve("server.log").toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        String line;
        while (exports.size() < 3 && (line = out.readLine()) != null && System.nanoTime() < deadline) {
            if (line.startsWith("export ")) {
                String[] kv = line.substring(7).split("=", 2);
                exports.put(kv[0], kv[1]);
            }
        }
        assertThat(exports).as("cella up prints the three variables\n" + Files.readString(data.resolve("server.log")))
                .containsKeys("E2B_API_URL", "E2B_SANDBOX_URL", "E2B_API_KEY");
        assertThat(exports.get("E2B_API_KEY")).matches("e2b_[0-9a-f]{40}");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.destroy();
            server.waitFor(20, TimeUnit.SECONDS);
            server.destroyForcibly();
        }
        // the node keeps sandboxes across restarts by design: remove what the run left, as a node's reconciler would
        if (data != null && Files.isDirectory(data.resolve("node"))) {
            var json = new com.fasterxml.jackson.databind.ObjectMapper();
            var driver = new dev.cella.node.runtime.ContainerDriver(data.resolve("node"),
                    new dev.cella.node.runtime.Crun(data.resolve("node/crun"), dev.cella.node.runtime.CgroupLayout.detect(), json),
                    new dev.cella.node.net.SandboxNetwork(231), new dev.cella.node.envd.EnvdRuntime(Repo.envdRuntime()),
                    new dev.cella.node.envd.EnvdClient(json), json);
            driver.reconcile(java.util.Set.of()).forEach(what -> System.out.println("cleaned up " + what));
        }
        if (data != null) {
            try (var walk = Files.walk(data)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void theE2bSdk251RunsAgainstCellaUp() throws Exception {
        runSuite("e2b");
    }

    @Test
    void theE2bSdk245RunsAgainstCellaUp() throws Exception {
        runSuite("e2b-2-45");
    }

    private static void runSuite(String sdkPackage) throws Exception {
        Path js = Repo.root().resolve("e2e/js");
        ProcessBuilder pb = new ProcessBuilder("node", "--test", "--test-concurrency=1", "--test-reporter=spec", "server-tests/")
                .directory(js.toFile()).redirectErrorStream(true);
        pb.environment().putAll(exports);
        pb.environment().put("E2B_SDK_PACKAGE", sdkPackage);
        pb.environment().remove("E2B_DEBUG");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean done = p.waitFor(10, TimeUnit.MINUTES);
        System.out.println(out);
        assertThat(done).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }
}
