package dev.cella.node;

import dev.cella.node.envd.EnvdSetup;
import dev.cella.node.pool.WarmPool;
import dev.cella.node.sandbox.SandboxRecord;
import dev.cella.node.sandbox.SandboxSpec;
import dev.cella.node.sandbox.SandboxStore;
import dev.cella.node.sandbox.Sandboxes;
import dev.cella.node.sandbox.StartQueue;
import dev.cella.node.sandbox.TimeoutAction;
import dev.cella.node.sys.Command;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

import static dev.cella.node.SandboxesTest.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The warm pool on real crun: what it hands out, once, refilled, drained, and after a node crash. */
class WarmPoolTest {
    static NodeFixture node;
    Sandboxes sandboxes;
    WarmPool pool;
    final AtomicReference<Path> baseRoot = new AtomicReference<>();

    @BeforeAll
    static void startNode() throws Exception {
        assumeTrue(NodeFixture.isRoot(), "sandboxes need root: namespaces, mounts, cgroups (CI is root)");
        node = new NodeFixture();
    }

    @AfterAll
    static void stopNode() throws Exception {
        if (node != null) node.close();
    }

    @BeforeEach
    void start() throws Exception {
        baseRoot.set(node.rootfs);
        sandboxes = new Sandboxes(node.newDriver(), new SandboxStore(node.state), Clock.systemUTC(),
                new StartQueue(4, 256, Duration.ofMinutes(5))); // a slow, busy CI machine: a create may wait long, never fail
        sandboxes.recover();
        var envd = new EnvdSetup(NodeFixture.JSON);
        pool = new WarmPool(node.driver, s -> envd.warmUp(s.envdUrl()), sandboxes.starts(), id -> id.equals("base") ? Optional.ofNullable(baseRoot.get()) : Optional.empty(),
                Set.of("base"), new WarmPool.Settings(2, Map.of(), Duration.ofMinutes(10), 1), Clock.systemUTC());
        sandboxes.usePool(pool);
        pool.start();
    }

    @AfterEach
    void stop() throws Exception {
        for (SandboxRecord r : sandboxes.list()) sandboxes.kill(r.spec().id());
        pool.close();
        sandboxes.close();
    }

    WarmPool.TemplatePool base() {
        return pool.report().stream().filter(p -> p.templateId().equals("base")).findFirst().orElseThrow();
    }

    void awaitReady(int n) throws InterruptedException {
        await(() -> base().ready() == n, Duration.ofSeconds(60), n + " pooled sandboxes ready");
    }

    /** What a create asks for: the pool's disk size, its own limits, variables and token. */
    SandboxSpec spec(String id, boolean internet) {
        return new SandboxSpec(id, "base", node.rootfs, 1, 256, WarmPool.DISK_MB, 300, internet, Map.of("SANDBOX_VAR", "from-init"),
                Map.of(), "tok-" + id, "user", null, null);
    }

    String run(SandboxRecord r, String script) throws Exception {
        return node.runWithToken(r.envdUrl(), script, "tok-" + r.spec().id()).stdout();
    }

    static boolean inInternetSet(String ip) throws Exception {
        return Pattern.compile("[{ ,]" + Pattern.quote(ip) + "[ ,}\\n]")
                .matcher(Command.run("nft", "list", "set", "inet", "cella", "internet")).find();
    }

    static String readQuietly(Path p) {
        try {
            return Files.readString(p).strip();
        } catch (Exception e) {
            return "(" + e + ")";
        }
    }

    static String rootCause(Throwable t) {
        while (t.getCause() != null) t = t.getCause();
        return t.toString();
    }

    static String ip(SandboxRecord r) {
        return r.envdUrl().replaceAll("http://([0-9.]+):.*", "$1");
    }

    @Test
    void aPooledSandboxIsTheOneTheCreateAskedFor() throws Exception {
        awaitReady(2);
        Set<String> pooled = pool.names();
        SandboxRecord r = sandboxes.create(spec("warm1", true), Duration.ofMinutes(5), TimeoutAction.KILL);
        assertThat(pooled).contains(r.name());
        assertThat(r.name()).isNotEqualTo("warm1");
        assertThat(sandboxes.events("warm1").getFirst().detail()).contains("from the warm pool");
        // its id as host name, the create's variables, user and token (envd refuses calls without it), its limits
        String out = run(r, "hostname; echo $SANDBOX_VAR; id -un; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max"
                + " /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max");
        assertThat(out.lines().toList()).startsWith("warm1", "from-init", "user", Long.toString(256L << 20), "300");
        assertThat(node.runWithToken(r.envdUrl(), "true", "wrong").exitCode()).as("a wrong token is refused").isNotZero();
        if (Files.exists(Path.of("/sys/fs/cgroup/cpu/cella"))) { // cgroup v1: its CPU quota, and the normal weight again
            assertThat(run(r, "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.shares").lines().toList())
                    .containsExactly("100000", "1024");
            String other = pooled.stream().filter(n -> !n.equals(r.name())).findFirst().orElseThrow(); // ready, not taken
            String pooledShares = readQuietly(Path.of("/sys/fs/cgroup/cpu/cella", other, "cpu.shares"));
            assertThat(pooledShares).as("a pooled sandbox waits at the least CPU weight").isEqualTo("2");
        }
        // the internet permission the create asked for, and it is running, not frozen
        String ip = r.envdUrl().replaceAll("http://([0-9.]+):.*", "$1");
        assertThat(inInternetSet(ip)).isTrue();
        assertThat(run(r, "echo running")).isEqualTo("running\n");
        // killed like any other: the pooled name's container and network are gone
        sandboxes.kill("warm1");
        assertThat(node.driver.running()).doesNotContain(r.name());
        assertThat(inInternetSet(ip)).isFalse();
    }

    @Test
    void noPooledSandboxIsHandedOutTwiceAndThePoolRefills() throws Exception {
        awaitReady(2);
        List<Future<SandboxRecord>> creates = new ArrayList<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 6; i++) {
                String id = "twice" + i;
                creates.add(pool.submit(() -> sandboxes.create(spec(id, false), null, TimeoutAction.KILL)));
            }
        }
        Set<String> names = new HashSet<>();
        int fromPool = 0;
        for (Future<SandboxRecord> f : creates) {
            SandboxRecord r = f.get();
            assertThat(names.add(r.name())).as("runtime name " + r.name() + " used once").isTrue();
            if (!r.name().equals(r.spec().id())) fromPool++;
            assertThat(inInternetSet(ip(r))).as("no internet for %s: its create said so", r.spec().id()).isFalse();
            assertThat(run(r, "hostname")).isEqualTo(r.spec().id() + "\n");
        }
        assertThat(fromPool).as("the two ready ones were taken").isEqualTo(2);
        assertThat(base().taken()).isEqualTo(2);
        awaitReady(2);
        assertThat(pool.names()).doesNotContainAnyElementsOf(names);
    }

    @Test
    void aChangedTemplateDrainsItsPoolAndADrainStopsThem() throws Exception {
        awaitReady(2);
        Set<String> before = pool.names();
        baseRoot.set(null); // the template is gone (deleted, or rebuilt under another root)
        await(() -> base().ready() == 0, Duration.ofSeconds(30), "the pool is drained");
        await(() -> {
            try {
                return node.driver.running().stream().noneMatch(before::contains);
            } catch (IOException e) {
                return false;
            }
        }, Duration.ofSeconds(30), "the drained sandboxes are stopped");
        baseRoot.set(node.rootfs);
        awaitReady(2);
        Set<String> again = pool.names();
        pool.drain("base");
        assertThat(node.driver.running()).doesNotContainAnyElementsOf(again);
    }

    @Test
    void afterANodeCrashPooledSandboxesAreRemovedAndTakenOnesReadopted() throws Exception {
        awaitReady(2);
        SandboxRecord taken = sandboxes.create(spec("crash1", false), Duration.ofMinutes(5), TimeoutAction.KILL);
        awaitReady(2);
        Set<String> pooled = pool.names();
        // the node dies: nothing is stopped, its memory is gone
        pool.detach();
        sandboxes.close();
        sandboxes = new Sandboxes(node.newDriver(), new SandboxStore(node.state), Clock.systemUTC());
        List<String> removed = sandboxes.recover();
        for (String name : pooled) assertThat(removed).anyMatch(s -> s.contains(name));
        assertThat(node.driver.running()).doesNotContainAnyElementsOf(pooled).contains(taken.name());
        SandboxRecord back = sandboxes.require("crash1");
        assertThat(back.name()).isEqualTo(taken.name());
        assertThat(run(back, "hostname")).isEqualTo("crash1\n");
        sandboxes.pause("crash1");
        sandboxes.resume("crash1", null);
        sandboxes.kill("crash1");
        assertThat(node.driver.running()).doesNotContain(taken.name());
        pool = new WarmPool(node.driver, sandboxes.starts(), id -> Optional.empty(), Set.of(), WarmPool.Settings.off(), Clock.systemUTC());
    }

    @Test
    void fiftyConcurrentCreatesAllSucceed() throws Exception {
        awaitReady(2);
        int n = Integer.getInteger("cella.concurrentCreates", 50);
        List<Future<SandboxRecord>> creates = new ArrayList<>();
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                String id = "many" + i;
                boolean internet = i % 2 == 0;
                creates.add(exec.submit(() -> sandboxes.create(spec(id, internet), null, TimeoutAction.KILL)));
            }
        }
        for (Future<SandboxRecord> f : creates) {
            SandboxRecord r = f.get();
            try {
                assertThat(run(r, "hostname")).isEqualTo(r.spec().id() + "\n");
            } catch (Exception | AssertionError e) {
                Path dir = node.state.resolve("sandboxes").resolve(r.name());
                throw new AssertionError(r.spec().id() + " (" + r.name() + ", " + r.envdUrl() + ") does not answer; its envd said: "
                        + (Files.exists(dir.resolve("envd.log")) ? Files.readString(dir.resolve("envd.log")) : "(no log)")
                        + "; crun: " + node.driver.running().contains(r.name())
                        + "; freezer: " + readQuietly(Path.of("/sys/fs/cgroup/freezer/cella", r.name(), "freezer.state"))
                        + "; netns: " + Command.result(List.of("ip", "netns", "list"), null).stdout().contains("cella-" + r.name())
                        + "; route: " + Command.result(List.of("ip", "route", "get", ip(r)), null).stdout().strip()
                        + "; root cause: " + rootCause(e), e);
            }
        }
        assertThat(sandboxes.list()).hasSize(n);
    }
}
