package dev.cella.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.envd.EnvdRuntime;
import dev.cella.node.envd.EnvdSetup;
import dev.cella.node.net.SandboxNetwork;
import dev.cella.node.runtime.CgroupLayout;
import dev.cella.node.runtime.ContainerDriver;
import dev.cella.node.runtime.Crun;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.SequenceInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

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
        return up(List.of(), data, port, extra);
    }

    Map<String, String> up(List<String> jvmOptions, Path data, int port, String... extra) throws Exception {
        assumeTrue(Repo.isRoot(), "a node runs sandboxes in namespaces; this needs root (CI is root)");
        Path jar = Repo.root().resolve("server/target/cella-server.jar");
        assertThat(jar).as("the server is packaged before e2e runs").exists();
        List<String> cmd = new ArrayList<>(List.of(java()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(), "--data-dir", data.toString(), "--port", Integer.toString(port),
                "--domain", "cella.localhost:" + (port + 1), "--envd-runtime", Repo.envdRuntime().toString(),
                "--template", "base=" + Repo.baseRootfs()));
        cmd.addAll(List.of(extra));
        return exports(data, cmd);
    }

    /** Starts a server process and reads the three variables it prints. */
    Map<String, String> exports(Path data, List<String> cmd) throws Exception {
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

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** {@code cella node} as a process of its own, its state under DATA/node; returns once its API answers. */
    Process node(Path data, int apiPort) throws Exception {
        assumeTrue(Repo.isRoot(), "a node runs sandboxes in namespaces; this needs root (CI is root)");
        Path jar = Repo.root().resolve("node/target/cella-node.jar");
        Process node = new ProcessBuilder(java(), "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(), "--id", "far-node",
                "--state-dir", data.resolve("node").toString(), "--api", "127.0.0.1:" + apiPort, "--proxy", "127.0.0.1:" + (apiPort + 1),
                "--envd-runtime", Repo.envdRuntime().toString(), "--template", "base=" + Repo.baseRootfs())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(data.resolve("node.log").toFile())).start();
        servers.add(node);
        var http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + apiPort + "/health")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return node;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("the node did not start\n" + Files.readString(data.resolve("node.log")));
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
                var json = new ObjectMapper();
                var driver = new ContainerDriver(data.resolve("node"),
                        new Crun(data.resolve("node/crun"), CgroupLayout.detect(), json),
                        new SandboxNetwork(231), new EnvdRuntime(Repo.envdRuntime()),
                        new EnvdSetup(json), json);
                driver.reconcile(Set.of()).forEach(what -> System.out.println("cleaned up " + what));
            }
            try (var walk = Files.walk(data)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
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

    /**
     * {@code cella server} without a node of its own, driving a {@code cella node} process
     * over its API: the same SDK suite, its traffic going server proxy -> node proxy ->
     * sandbox. Then the node goes away: its sandbox answers 503 (not 404: nothing is
     * forgotten) until the node is back, when it is there again, still running.
     */
    @Test
    void cellaServerDrivesANodeOverItsApi() throws Exception {
        Path data = dataDir();
        Process node = node(data, 7311);
        int port = 3250;
        Map<String, String> env = exports(data, List.of(java(), "-cp", Repo.root().resolve("server/target/cella-server.jar").toString(),
                "dev.cella.server.CellaServer", "--data-dir", data.toString(), "--port", Integer.toString(port),
                "--domain", "cella.localhost:" + (port + 1), "--node", "http://127.0.0.1:7311",
                "--node-token-file", data.resolve("node/node-token").toString()));
        runNode(env, "e2b", "server-tests/");

        var http = HttpClient.newHttpClient();
        String api = env.get("E2B_API_URL"), key = env.get("E2B_API_KEY");
        BiFunction<String, String, HttpResponse<String>> call = (method, path) -> {
            try {
                return http.send(HttpRequest.newBuilder(URI.create(api + path)).header("X-API-KEY", key)
                        .header("Content-Type", "application/json")
                        .method(method, method.equals("POST") ? HttpRequest.BodyPublishers.ofString("{\"templateID\":\"base\"}")
                                : HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        var created = call.apply("POST", "/sandboxes");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = new ObjectMapper().readTree(created.body()).path("sandboxID").asText();
        assertThat(data.resolve("node/records/" + id + ".json"))
                .as("the sandbox lives on the node, not in the server").exists();

        stop(node);
        servers.remove(node);
        var away = call.apply("GET", "/sandboxes/" + id);
        assertThat(away.statusCode()).as(away.body()).isEqualTo(503);
        assertThat(away.body()).contains("\"code\":503");
        assertThat(call.apply("GET", "/v2/sandboxes").statusCode()).isEqualTo(200);
        assertThat(call.apply("POST", "/sandboxes").statusCode()).as("no node to start a sandbox on").isEqualTo(503);

        node(data, 7311);
        var back = call.apply("GET", "/sandboxes/" + id);
        assertThat(back.statusCode()).as(back.body()).isEqualTo(200);
        assertThat(back.body()).contains("\"state\":\"running\"");
        assertThat(call.apply("DELETE", "/sandboxes/" + id).statusCode()).isEqualTo(204);
    }

    @Test
    void theE2bSdkBuildsTemplates() throws Exception {
        runNode(up(dataDir(), 3270), "e2b", "template-tests/");
    }

    @Test
    void theE2bSdkBuildsFromARegistryImage() throws Exception {
        try (LoopbackRegistry registry = new LoopbackRegistry(); LoopbackRegistry locked = new LoopbackRegistry("puller", "pull-secret")) {
            // registries on loopback are refused unless the operator names them (server-side request forgery)
            Map<String, String> env = up(dataDir(), 3280, "--registry-allow", "127.0.0.1:" + registry.port, "--registry-allow", "127.0.0.1:" + locked.port);
            Map<String, String> withImage = new HashMap<>(env);
            withImage.put("CELLA_TEST_IMAGE", registry.pushBusyboxImage("cella/busy"));
            withImage.put("CELLA_TEST_PRIVATE_IMAGE", locked.pushBusyboxImage("cella/private"));
            runNode(withImage, "e2b", "image-tests/");
        }
    }

    /**
     * A gibibyte up and down through the native API's streaming file routes of a server
     * whose heap is 192 MiB: it can only pass if nothing holds the file whole.
     */
    @Test
    void aGibibyteStreamsThroughASmallHeap() throws Exception {
        Path data = dataDir();
        Map<String, String> env = up(List.of("-Xmx192m"), data, 3260);
        String api = env.get("E2B_API_URL"), key = env.get("E2B_API_KEY");
        var http = HttpClient.newHttpClient();
        var created = http.send(HttpRequest.newBuilder(URI.create(api + "/v1/capsules")).header("X-API-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String c = api + "/v1/capsules/" + new ObjectMapper().readTree(created.body()).path("id").asText();
        long size = 1L << 30;
        String boundary = "gib-boundary";
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n/home/user/gib.bin\r\n--" + boundary
                + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"gib.bin\"\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        var sent = MessageDigest.getInstance("SHA-256");
        long t0 = System.nanoTime();
        var up = http.send(HttpRequest.newBuilder(URI.create(c + "/files/stream/write")).header("X-API-Key", key)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new SequenceInputStream(Collections.enumeration(List.of(
                        new ByteArrayInputStream(head), new DigestInputStream(new Pattern(size), sent),
                        new ByteArrayInputStream(tail)))))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(up.statusCode()).as(up.body()).isEqualTo(204);
        long upMs = (System.nanoTime() - t0) / 1_000_000;
        t0 = System.nanoTime();
        var down = http.send(HttpRequest.newBuilder(URI.create(c + "/files/stream/read")).header("X-API-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"path\":\"/home/user/gib.bin\"}")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(down.statusCode()).isEqualTo(200);
        var received = MessageDigest.getInstance("SHA-256");
        long n = 0;
        try (var in = down.body()) {
            byte[] buf = new byte[1 << 16];
            int k;
            while ((k = in.read(buf)) >= 0) {
                received.update(buf, 0, k);
                n += k;
            }
        }
        long downMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(n).isEqualTo(size);
        assertThat(received.digest()).isEqualTo(sent.digest());
        System.out.printf("1 GiB through /v1 files/stream with -Xmx192m: up %d ms (%.0f MiB/s), down %d ms (%.0f MiB/s)%n",
                upMs, 1024_000.0 / upMs, downMs, 1024_000.0 / downMs);
        http.send(HttpRequest.newBuilder(URI.create(c)).header("X-API-Key", key).DELETE().build(),
                HttpResponse.BodyHandlers.discarding());
    }

    /** Bytes of a pattern, made as they are read. */
    static final class Pattern extends InputStream {
        private long left;

        Pattern(long n) {
            left = n;
        }

        @Override
        public int read() {
            return left-- > 0 ? (int) (left & 0x7f) : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left <= 0) return -1;
            int k = (int) Math.min(len, left);
            for (int i = 0; i < k; i++) b[off + i] = (byte) ((left - 1 - i) & 0x7f);
            left -= k;
            return k;
        }
    }
}
