package dev.cella.e2e;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code cella up} as a user runs it (the packaged server with a node in its process),
 * driven by the official E2B JS SDK with only the three printed variables set: with
 * SDK 2.51 and 2.45, on SQLite and on PostgreSQL, and across a restart.
 */
class CellaUpTest {
    final List<Process> servers = new ArrayList<>();
    final List<Path> dataDirs = new ArrayList<>();

    /** Starts the packaged server; returns the variables it printed (the key only at a first start). */
    Map<String, String> up(Path data, int port, String... extra) throws Exception {
        assumeTrue(Repo.isRoot(), "a node runs sandboxes in namespaces; this needs root (CI is root)");
        Path jar = Repo.root().resolve("server/target/cella-server.jar");
        assertThat(jar).as("the server is packaged before e2e runs").exists();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(), "--data-dir", data.toString(), "--port", Integer.toString(port),
                "--domain", "cella.localhost:" + (port + 1), "--envd-runtime", Repo.envdRuntime().toString(),
                "--template", "base=" + Repo.baseRootfs()));
        cmd.addAll(List.of(extra));
        Process server = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(data.resolve("server.log").toFile())).start();
        servers.add(server);
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        Map<String, String> exports = new HashMap<>();
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
        return exports;
    }

    Path dataDir() throws Exception {
        Path d = Files.createTempDirectory("cella-up");
        dataDirs.add(d);
        return d;
    }

    static void stop(Process server) throws InterruptedException {
        server.destroy();
        if (!server.waitFor(20, TimeUnit.SECONDS)) server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Process p : servers) stop(p);
        // the node keeps sandboxes across restarts by design: remove what the run left, as a node's reconciler would
        for (Path data : dataDirs) {
            if (Files.isDirectory(data.resolve("node"))) {
                var json = new com.fasterxml.jackson.databind.ObjectMapper();
                var driver = new dev.cella.node.runtime.ContainerDriver(data.resolve("node"),
                        new dev.cella.node.runtime.Crun(data.resolve("node/crun"), dev.cella.node.runtime.CgroupLayout.detect(), json),
                        new dev.cella.node.net.SandboxNetwork(231), new dev.cella.node.envd.EnvdRuntime(Repo.envdRuntime()),
                        new dev.cella.node.envd.EnvdClient(json), json);
                driver.reconcile(java.util.Set.of()).forEach(what -> System.out.println("cleaned up " + what));
            }
            try (var walk = Files.walk(data)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Runs a node:test directory with the SDK package given, against the server of {@code exports}. */
    static String runNode(Map<String, String> exports, String sdkPackage, String dir) throws Exception {
        Path js = Repo.root().resolve("e2e/js");
        ProcessBuilder pb = new ProcessBuilder("node", "--test", "--test-concurrency=1", "--test-reporter=spec", dir)
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
        return out;
    }

    @Test
    void theE2bSdk251RunsAgainstCellaUp() throws Exception {
        runNode(up(dataDir(), 3210), "e2b", "server-tests/");
    }

    @Test
    void theE2bSdk245RunsAgainstCellaUp() throws Exception {
        runNode(up(dataDir(), 3220), "e2b-2-45", "server-tests/");
    }

    @Test
    void cellaUpOnPostgresql() throws Exception {
        String url = System.getenv("CELLA_TEST_POSTGRES_URL");
        if (url == null || url.isBlank()) {
            assertThat(System.getenv("CI")).as("CI must test PostgreSQL: CELLA_TEST_POSTGRES_URL is not set").isNull();
            System.err.println("*** CellaUpTest: CELLA_TEST_POSTGRES_URL not set: cella up on PostgreSQL NOT tested ***");
            return;
        }
        // a database of its own: the suite's keys and sandboxes do not mix with another run's
        String db = "cella_up_" + System.nanoTime();
        new ProcessBuilder("su", "postgres", "-c", "psql -qc 'CREATE DATABASE " + db + " OWNER cella_test'").inheritIO().start().waitFor();
        String dbUrl = url.substring(0, url.lastIndexOf('/') + 1) + db;
        runNode(up(dataDir(), 3230, "--db-url", dbUrl, "--db-user", System.getenv("CELLA_TEST_POSTGRES_USER"),
                "--db-password", System.getenv("CELLA_TEST_POSTGRES_PASSWORD")), "e2b", "server-tests/");
    }

    @Test
    void keysAndSandboxesSurviveARestart() throws Exception {
        Path data = dataDir();
        Map<String, String> first = up(data, 3240);
        String id = runNode(first, "e2b", "server-tests/restart/before.mjs").lines()
                .filter(l -> l.startsWith("SANDBOX ")).findFirst().orElseThrow().substring(8).trim();
        stop(servers.removeLast());
        Map<String, String> second = up(data, 3240);
        assertThat(second.get("E2B_API_KEY")).as("the key is printed once, at the first start").doesNotStartWith("e2b_");
        Map<String, String> env = new HashMap<>(second);
        env.put("E2B_API_KEY", first.get("E2B_API_KEY"));
        env.put("CELLA_RESTART_SANDBOX", id);
        runNode(env, "e2b", "server-tests/restart/after.mjs");
    }
}
