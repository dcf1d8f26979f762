package dev.cella.node;

import dev.cella.node.net.SandboxNetwork;
import dev.cella.node.problem.Problem;
import dev.cella.node.sandbox.SandboxRecord;
import dev.cella.node.sandbox.SandboxState;
import dev.cella.node.sandbox.SandboxStore;
import dev.cella.node.sandbox.Sandboxes;
import dev.cella.node.sandbox.TimeoutAction;
import dev.cella.node.sys.Command;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class SandboxesTest {
    static NodeFixture node;
    Sandboxes sandboxes;

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
        sandboxes = new Sandboxes(node.newDriver(), new SandboxStore(node.state), Clock.systemUTC());
        sandboxes.recover();
    }

    @AfterEach
    void stop() throws Exception {
        for (SandboxRecord r : sandboxes.list()) sandboxes.kill(r.spec().id());
        sandboxes.close();
    }

    static void await(BooleanSupplier condition, Duration limit, String what) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what);
            Thread.sleep(50);
        }
    }

    @Test
    void theReaperKillsOrPausesAtTheTimeout() throws Exception {
        sandboxes.create(node.spec("tkill", 256, false), Duration.ofMillis(800), TimeoutAction.KILL);
        sandboxes.create(node.spec("tpause", 256, false), Duration.ofMillis(800), TimeoutAction.PAUSE);
        await(() -> sandboxes.get("tkill").isEmpty(), Duration.ofSeconds(10), "tkill is killed");
        await(() -> sandboxes.get("tpause").map(r -> r.state() == SandboxState.PAUSED).orElse(false), Duration.ofSeconds(10), "tpause is paused");
        assertThat(Files.exists(Path.of("/run/netns/cella-tkill"))).isFalse();
        assertThat(sandboxes.events("tpause")).extracting(e -> e.type()).containsSubsequence("created", "paused", "timeout");
        sandboxes.resume("tpause", Duration.ofMinutes(5));
        assertThat(node.run(sandboxes.require("tpause").envdUrl(), "echo back", null).stdout()).isEqualTo("back\n");
    }

    /** A sandbox whose envd (pid 1) died is not shown running for the rest of its timeout: it is ended and released within seconds. */
    @Test
    void aSandboxWhoseEnvdDiedIsEndedAndReleased() throws Exception {
        sandboxes.create(node.spec("dead1", 256, false), Duration.ofMinutes(10), TimeoutAction.KILL);
        sandboxes.create(node.spec("alive1", 256, false), Duration.ofMinutes(10), TimeoutAction.KILL);
        sandboxes.pause("alive1"); // frozen is not dead
        long pid = Long.parseLong(Files.readString(node.state.resolve("sandboxes/dead1/pid")).strip());
        new ProcessBuilder("kill", "-KILL", Long.toString(pid)).inheritIO().start().waitFor();
        await(() -> sandboxes.get("dead1").isEmpty(), Duration.ofSeconds(15), "the sandbox whose envd died is ended");
        assertThat(Files.exists(Path.of("/run/netns/cella-dead1"))).as("its network namespace").isFalse();
        assertThat(Files.exists(node.state.resolve("sandboxes/dead1"))).as("its directory, disk and mounts").isFalse();
        Thread.sleep(Sandboxes.LIVENESS_EVERY.toMillis() * 2);
        assertThat(sandboxes.get("alive1")).as("a paused sandbox lives on").map(SandboxRecord::state).contains(SandboxState.PAUSED);
    }

    @Test
    void theWritableLayerHasAHardSize() throws Exception {
        SandboxRecord r = sandboxes.create(node.spec("disk1", 256, 128, false), null, TimeoutAction.KILL);
        var fill = node.run(r.envdUrl(), "head -c 200000000 /dev/zero > ~/big; echo rc=$?; df -m / | tail -1 | awk '{print $2}'", null);
        assertThat(fill.stderr()).contains("No space left on device");
        assertThat(fill.stdout()).startsWith("rc=1\n");
        assertThat(Integer.parseInt(fill.stdout().lines().toList().get(1).trim())).isBetween(100, 128);
        assertThat(node.run(r.envdUrl(), "rm ~/big && echo ok > ~/small && cat ~/small", null).stdout()).isEqualTo("ok\n");
    }

    @Test
    void hibernationKeepsFilesAndReleasesEverythingElse() throws Exception {
        int loopsBefore = NodeFixture.loopDevices();
        SandboxRecord r = sandboxes.create(node.spec("sleepy", 256, false), null, TimeoutAction.KILL);
        node.run(r.envdUrl(), "echo remembered > ~/note; nohup sleep 600 >/dev/null 2>&1 &", null);
        sandboxes.hibernate("sleepy");
        assertThat(sandboxes.require("sleepy").state()).isEqualTo(SandboxState.HIBERNATED);
        assertThat(node.driver.running()).doesNotContain("sleepy");
        assertThat(SandboxNetwork.namespaces()).doesNotContain("cella-sleepy");
        assertThat(Files.readString(Path.of("/proc/self/mounts"))).doesNotContain("sleepy");
        assertThat(NodeFixture.loopDevices()).isEqualTo(loopsBefore);
        // a restarted node still knows it
        sandboxes.close();
        sandboxes = new Sandboxes(node.newDriver(), new SandboxStore(node.state), Clock.systemUTC());
        sandboxes.recover();
        SandboxRecord back = sandboxes.resume("sleepy", Duration.ofMinutes(5));
        assertThat(back.state()).isEqualTo(SandboxState.RUNNING);
        assertThat(node.run(back.envdUrl(), "cat ~/note; pgrep -c sleep || true", null).stdout()).isEqualTo("remembered\n0\n");
    }

    @Test
    void requestsOnUnknownOrWrongStateSandboxesAreRefused() throws Exception {
        assertThatThrownBy(() -> sandboxes.kill("nosuch")).isInstanceOf(Problem.NotFound.class);
        sandboxes.create(node.spec("states", 256, false), null, TimeoutAction.KILL);
        assertThatThrownBy(() -> sandboxes.resume("states", null)).isInstanceOf(Problem.Conflict.class);
        sandboxes.pause("states");
        assertThatThrownBy(() -> sandboxes.pause("states")).isInstanceOf(Problem.Conflict.class);
        assertThatThrownBy(() -> sandboxes.create(node.spec("states", 256, false), null, TimeoutAction.KILL))
                .isInstanceOf(Problem.Conflict.class);
    }

    @Test
    void aRestartedNodeReadoptsRunningAndPausedSandboxesWithTheirState() throws Exception {
        SandboxRecord run = sandboxes.create(node.spec("keep1", 256, false), Duration.ofMinutes(10), TimeoutAction.KILL);
        sandboxes.create(node.spec("keep2", 256, false), Duration.ofMinutes(10), TimeoutAction.PAUSE);
        node.run(run.envdUrl(), "nohup bash -c 'while true; do date +%s%N > /tmp/beat; sleep 0.05; done' >/dev/null 2>&1 &", null);
        sandboxes.pause("keep2");
        // the node dies: nothing of it is stopped, its memory is gone
        sandboxes.close();
        sandboxes = new Sandboxes(node.newDriver(), new SandboxStore(node.state), Clock.systemUTC());
        List<String> removed = sandboxes.recover();
        assertThat(removed).isEmpty();
        SandboxRecord again = sandboxes.require("keep1");
        assertThat(again.state()).isEqualTo(SandboxState.RUNNING);
        assertThat(again.endAt()).isEqualTo(run.endAt());
        assertThat(sandboxes.require("keep2").state()).isEqualTo(SandboxState.PAUSED);
        String beat = node.run(again.envdUrl(), "cat /tmp/beat", null).stdout();
        Thread.sleep(200);
        assertThat(node.run(again.envdUrl(), "cat /tmp/beat", null).stdout()).as("its processes kept running").isNotEqualTo(beat);
        sandboxes.resume("keep2", null);
        // a new sandbox does not take a re-adopted sandbox's network slot
        SandboxRecord fresh = sandboxes.create(node.spec("keep3", 256, false), null, TimeoutAction.KILL);
        assertThat(node.run(fresh.envdUrl(), "hostname", null).stdout()).isEqualTo("keep3\n");
        assertThat(node.run(again.envdUrl(), "hostname", null).stdout()).isEqualTo("keep1\n");
    }

    @Test
    void theReconcilerRemovesWhatAHalfMadeSandboxLeftBehind() throws Exception {
        // what a node killed in the middle of a create could leave: a directory with a mount, a netns, a veth, a cgroup
        Path dir = Files.createDirectories(node.state.resolve("sandboxes/orphan1/rootfs"));
        Files.createDirectories(dir.resolveSibling("upper"));
        Files.createDirectories(dir.resolveSibling("work"));
        Command.run("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + node.rootfs + ",upperdir=" + dir.resolveSibling("upper")
                + ",workdir=" + dir.resolveSibling("work"), dir.toString());
        Command.run("ip", "netns", "add", "cella-orphan2");
        Command.run("ip", "link", "add", "cv16000", "type", "veth", "peer", "name", "eth0", "netns", "cella-orphan2");
        Path cgroup = Path.of("/sys/fs/cgroup/pids/cella/orphan3");
        Files.createDirectories(cgroup);
        // ...and a container whose node's state is gone: its process still runs in the cgroup, frozen
        Process orphan = new ProcessBuilder("sleep", "1000").start();
        Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(orphan.pid()));
        Path freezer = Path.of("/sys/fs/cgroup/freezer/cella/orphan3");
        if (Files.isDirectory(freezer.getParent())) {
            Files.createDirectories(freezer);
            Files.writeString(freezer.resolve("cgroup.procs"), Long.toString(orphan.pid()));
            Files.writeString(freezer.resolve("freezer.state"), "FROZEN");
        }
        sandboxes.close();
        sandboxes = new Sandboxes(node.newDriver(), new SandboxStore(node.state), Clock.systemUTC());
        List<String> removed = sandboxes.recover();
        // (the veth goes with its namespace's end, so it may not be named on its own)
        assertThat(removed).anyMatch(s -> s.contains("orphan1")).anyMatch(s -> s.contains("cella-orphan2"))
                .anyMatch(s -> s.contains("orphan3"));
        assertThat(Files.readString(Path.of("/proc/self/mounts"))).doesNotContain("orphan1");
        assertThat(SandboxNetwork.namespaces()).doesNotContain("cella-orphan2");
        assertThat(SandboxNetwork.hostInterfaces()).doesNotContain("cv16000");
        assertThat(orphan.waitFor(5, TimeUnit.SECONDS)).as("the orphan container's process ended").isTrue();
        assertThat(cgroup).doesNotExist();
        assertThat(freezer).doesNotExist();
    }

    @Test
    void manyCreateKillCyclesLeaveNoKernelObjectBehind() throws Exception {
        int cycles = Integer.getInteger("cella.leakCycles", 200);
        long mountsBefore = Files.readAllLines(Path.of("/proc/self/mounts")).size();
        long t0 = System.nanoTime();
        for (int i = 0; i < cycles; i++) {
            sandboxes.create(node.spec("leak" + i, 128, i % 2 == 0), null, TimeoutAction.KILL);
            sandboxes.kill("leak" + i);
        }
        System.out.printf("%d create/kill cycles in %d ms%n", cycles, (System.nanoTime() - t0) / 1_000_000);
        assertThat(Files.readAllLines(Path.of("/proc/self/mounts")).size()).as("mounts").isEqualTo(mountsBefore);
        assertThat(SandboxNetwork.namespaces()).as("network namespaces").isEmpty();
        assertThat(SandboxNetwork.hostInterfaces()).as("veth interfaces").isEmpty();
        assertThat(NodeFixture.loopDevices()).as("loop devices").isZero();
        assertThat(node.driver.running()).as("containers").isEmpty();
        try (var s = Files.list(node.state.resolve("sandboxes"))) {
            assertThat(s.toList()).as("sandbox directories").isEmpty();
        }
        String nft = Command.run("nft", "list", "set", "inet", "cella", "internet");
        assertThat(nft).as("internet set").doesNotContain("10.231.");
        for (String controller : new String[] {"memory", "pids", "cpu", "freezer"}) {
            Path parent = Path.of("/sys/fs/cgroup", controller, "cella");
            if (Files.isDirectory(parent)) {
                try (var s = Files.list(parent)) {
                    assertThat(s.filter(Files::isDirectory).toList()).as(controller + " cgroups").isEmpty();
                }
            }
        }
    }
}
