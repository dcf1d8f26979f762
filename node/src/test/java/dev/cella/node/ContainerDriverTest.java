package dev.cella.node;

import dev.cella.node.net.SandboxNetwork;
import dev.cella.node.runtime.RunningSandbox;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Real sandboxes: crun, namespaces, overlay, veth, nftables, envd inside. Needs root (CI is root). */
class ContainerDriverTest {
    static NodeFixture node;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(NodeFixture.isRoot(), "sandboxes need root: namespaces, mounts, cgroups (CI is root)");
        node = new NodeFixture();
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) node.close();
    }

    @Test
    void aSandboxRunsCommandsAsItsUserInItsOwnWorld() throws Exception {
        RunningSandbox s = node.driver.create(node.spec("life1", 512, false));
        try {
            var r = node.run(s.envdUrl(), "id -un; hostname; echo $SANDBOX_VAR; ps -e --no-headers | wc -l; cat /proc/1/cmdline | tr '\\0' ' '", null);
            String[] lines = r.stdout().split("\n");
            assertThat(lines[0]).isEqualTo("user");
            assertThat(lines[1]).isEqualTo("life1");
            assertThat(lines[2]).isEqualTo("from-init");
            assertThat(Integer.parseInt(lines[3].trim())).as("only the sandbox's own processes are visible").isLessThan(10);
            assertThat(lines[4]).contains("dev.cella.envd.Envd");
            // envd logs through its own SLF4J backend (named in envd.args): lost to SLF4J's no-op logger if it did not load
            assertThat(Files.readString(node.state.resolve("sandboxes/life1/envd.log")))
                    .containsPattern("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\[main\\] INFO dev\\.cella\\.envd\\.Envd -- envd \\S+ listening on 0\\.0\\.0\\.0:49983")
                    .doesNotContain("SLF4J");
            assertThat(node.run(s.envdUrl(), "id -u", "root").stdout()).isEqualTo("0\n");
            assertThat(node.driver.running()).contains("life1");
        } finally {
            node.driver.stop("life1");
        }
    }

    @Test
    void pauseFreezesEverythingAndResumeContinues() throws Exception {
        RunningSandbox s = node.driver.create(node.spec("pause1", 512, false));
        try {
            node.run(s.envdUrl(), "nohup bash -c 'i=0; while true; do i=$((i+1)); echo $i > /tmp/counter; sleep 0.05; done' >/dev/null 2>&1 &", null);
            Thread.sleep(300);
            long t0 = System.nanoTime();
            node.driver.freeze("pause1");
            long pauseMs = (System.nanoTime() - t0) / 1_000_000;
            Path counter = node.state.resolve("sandboxes/pause1/layer/upper/tmp/counter");
            String before = Files.readString(counter).trim();
            Thread.sleep(500);
            assertThat(Files.readString(counter).trim()).as("no process runs while paused").isEqualTo(before);
            HttpRequest health = HttpRequest.newBuilder(URI.create(s.envdUrl() + "/health")).timeout(Duration.ofMillis(300)).build();
            assertThatThrownBy(() -> node.http.send(health, HttpResponse.BodyHandlers.discarding())).isInstanceOf(IOException.class);
            node.driver.thaw("pause1");
            Thread.sleep(300);
            assertThat(Integer.parseInt(Files.readString(counter).trim())).as("it goes on where it stopped").isGreaterThan(Integer.parseInt(before));
            System.out.println("pause took " + pauseMs + " ms");
        } finally {
            node.driver.stop("pause1");
        }
    }

    @Test
    void stoppingLeavesNoKernelObjectBehind() throws Exception {
        node.driver.create(node.spec("gone1", 256, false));
        node.driver.stop("gone1");
        assertThat(Files.exists(Path.of("/run/netns/cella-gone1"))).isFalse();
        assertThat(SandboxNetwork.hostInterfaces()).isEmpty();
        assertThat(Files.readString(Path.of("/proc/self/mounts"))).doesNotContain("gone1");
        assertThat(node.driver.running()).doesNotContain("gone1");
        assertThat(node.state.resolve("sandboxes/gone1")).doesNotExist();
        for (String controller : new String[] {"memory", "pids", "cpu"}) {
            assertThat(Path.of("/sys/fs/cgroup", controller, "cella", "gone1")).doesNotExist();
        }
    }
}
