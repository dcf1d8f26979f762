package dev.cella.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.envd.EnvdClient;
import dev.cella.node.envd.EnvdRuntime;
import dev.cella.node.net.SandboxNetwork;
import dev.cella.node.runtime.CgroupLayout;
import dev.cella.node.runtime.ContainerDriver;
import dev.cella.node.runtime.Crun;
import dev.cella.node.sandbox.SandboxSpec;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A container driver on real crun, real namespaces and nftables, with the packaged envd. */
final class NodeFixture implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    final Path state;
    SandboxNetwork network = new SandboxNetwork(231);
    ContainerDriver driver;
    final Path repo;
    final Path rootfs;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    NodeFixture() throws Exception {
        state = Files.createTempDirectory("cella-node-test");
        repo = repoRoot();
        rootfs = baseRootfs(repo);
        network.installRules(List.of());
        driver = newDriver();
    }

    /** A driver as a freshly started node process would make it: same state directory, nothing in memory. */
    ContainerDriver newDriver() throws IOException {
        network = new SandboxNetwork(231);
        driver = new ContainerDriver(state, new Crun(state.resolve("crun"), CgroupLayout.detect(), JSON), network,
                new EnvdRuntime(repo.resolve("envd/target/envd-runtime")), new EnvdClient(JSON), JSON);
        return driver;
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static Path repoRoot() {
        Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("cella"))) p = p.getParent();
        return p;
    }

    static Path baseRootfs(Path repo) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(repo.resolve("scripts/build-rootfs.sh").toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) throw new IllegalStateException("build-rootfs.sh failed");
        return Path.of(out.lines().toList().getLast());
    }

    SandboxSpec spec(String id, int memoryMb, boolean internet) {
        return spec(id, memoryMb, 1024, internet);
    }

    SandboxSpec spec(String id, int memoryMb, int diskMb, boolean internet) {
        return new SandboxSpec(id, "base", rootfs, 1, memoryMb, diskMb, 256, internet, Map.of("SANDBOX_VAR", "from-init"),
                Map.of(), null, "user", null, null);
    }

    static int loopDevices() throws IOException {
        return (int) dev.cella.node.sys.Command.run("losetup", "-a").lines().filter(l -> !l.isBlank()).count();
    }

    record Result(String stdout, String stderr, int exitCode) {}

    /** Runs {@code bash -c script} through envd's Start stream. */
    Result run(String envdUrl, String script, String user) throws Exception {
        return run(envdUrl, script, user, Map.of());
    }

    Result run(String envdUrl, String script, String user, Map<String, String> envs) throws Exception {
        return run(envdUrl, script, user, envs, null);
    }

    /** As {@link #run}, with envd's access token (a sandbox made with one refuses calls without it: exit code MIN_VALUE). */
    Result runWithToken(String envdUrl, String script, String token) throws Exception {
        return run(envdUrl, script, null, Map.of(), token);
    }

    Result run(String envdUrl, String script, String user, Map<String, String> envs, String token) throws Exception {
        var req = JSON.createObjectNode();
        var p = req.putObject("process");
        p.put("cmd", "/bin/bash");
        p.putArray("args").add("-c").add(script);
        p.set("envs", JSON.valueToTree(envs));
        byte[] body = JSON.writeValueAsBytes(req);
        byte[] env = ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(body.length).put(body).array();
        var b = HttpRequest.newBuilder(URI.create(envdUrl + "/process.Process/Start")).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/connect+json").POST(HttpRequest.BodyPublishers.ofByteArray(env));
        if (token != null) b.header("X-Access-Token", token);
        if (user != null) b.header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString((user + ":").getBytes()));
        HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            r.body().close();
            return new Result("", "envd answered " + r.statusCode(), Integer.MIN_VALUE);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int exit = Integer.MIN_VALUE;
        try (DataInputStream in = new DataInputStream(r.body())) {
            while (true) {
                int flags = in.readUnsignedByte();
                JsonNode m = JSON.readTree(in.readNBytes(in.readInt()));
                if ((flags & 2) != 0) {
                    if (m.has("error")) throw new AssertionError("envd: " + m);
                    break;
                }
                JsonNode ev = m.path("event");
                if (ev.path("data").has("stdout")) out.write(ev.path("data").get("stdout").binaryValue());
                if (ev.path("data").has("stderr")) err.write(ev.path("data").get("stderr").binaryValue());
                if (ev.has("end")) exit = ev.path("end").path("exitCode").asInt(0);
            }
        } catch (EOFException ignored) {
            // stream over
        }
        return new Result(out.toString(), err.toString(), exit);
    }

    @Override
    public void close() throws IOException {
        driver.reconcile(java.util.Set.of());
        network.removeRules();
        dev.cella.node.sys.Paths.deleteTree(state);
    }
}
