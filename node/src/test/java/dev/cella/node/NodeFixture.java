package dev.cella.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.envd.EnvdRuntime;
import dev.cella.node.envd.EnvdSetup;
import dev.cella.node.net.SandboxNetwork;
import dev.cella.node.runtime.CgroupLayout;
import dev.cella.node.runtime.ContainerDriver;
import dev.cella.node.runtime.Crun;
import dev.cella.node.sandbox.SandboxSpec;
import dev.cella.node.sys.Command;
import dev.cella.node.sys.Paths;
import dev.cella.protocol.envd.EnvdClient;
import dev.cella.protocol.envd.EnvdException;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
                new EnvdRuntime(repo.resolve("envd/target/envd-runtime")), new EnvdSetup(JSON), JSON);
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
        return (int) Command.run("losetup", "-a").lines().filter(l -> !l.isBlank()).count();
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

    /** The one envd client for the envd at this URL. */
    EnvdClient envd(String envdUrl) {
        return new EnvdClient(http, URI.create(envdUrl));
    }

    Result run(String envdUrl, String script, String user, Map<String, String> envs, String token) throws Exception {
        EnvdClient.Run r;
        try {
            r = envd(envdUrl).withAccessToken(token).as(user).run(EnvdClient.Start.bash(script).envs(envs), Duration.ofSeconds(60));
        } catch (EnvdException e) {
            return new Result("", "envd answered " + e.status(), Integer.MIN_VALUE);
        }
        if (r.trailer() != null && r.trailer().has("error")) throw new AssertionError("envd: " + r.trailer());
        return new Result(r.stdout(), r.stderr(), r.exitCode());
    }

    @Override
    public void close() throws IOException {
        driver.reconcile(Set.of());
        network.removeRules();
        Paths.deleteTree(state);
    }
}
