package dev.cella.envd.process;

import dev.cella.envd.EnvdFixture;
import dev.cella.protocol.envd.EnvdClient.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static dev.cella.envd.EnvdFixture.startRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** envd never falls over: floods, clients that vanish, processes that will not die. */
class ResourceBoundsTest {
    static EnvdFixture envd;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(EnvdFixture.isRoot(), "envd runs as root in every sandbox; these tests need root (CI is root)");
        envd = new EnvdFixture();
    }

    @AfterAll
    static void stop() throws Exception {
        if (envd != null) envd.close();
    }

    /**
     * The descriptors a leak would leave: sockets and pipes. Not all of them: the JDK makes
     * its virtual-thread pollers (epoll descriptors) lazily, one per carrier, the first time a
     * virtual thread waits on a socket; when this test runs first they appear during it.
     */
    static long openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    String target = Files.readSymbolicLink(p).toString();
                    return target.startsWith("socket:") || target.startsWith("pipe:");
                } catch (IOException e) {
                    return false; // closed while we looked
                }
            }).count();
        }
    }

    /** What each open descriptor is, for the message of a failure. */
    static String describeFds() {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.map(p -> {
                try {
                    return p.getFileName() + "->" + Files.readSymbolicLink(p);
                } catch (IOException e) {
                    return p.getFileName() + "->?";
                }
            }).sorted().toList().toString();
        } catch (IOException e) {
            return e.toString();
        }
    }

    static long pumpThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("pump-")).count();
    }

    static long usedHeapAfterGc() {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "; open descriptors: " + describeFds());
            }
            Thread.sleep(50);
        }
    }

    @Test
    void aFloodThatNobodyReadsDoesNotGrowMemory() throws Exception {
        long before = usedHeapAfterGc();
        try (Stream s = envd.stream("process.Process/Start", startRequest("exec cat /dev/zero"))) {
            int pid = s.next().body().path("event").path("start").path("pid").asInt();
            Thread.sleep(2000); // the client reads nothing: the process must be held back, not buffered
            long during = usedHeapAfterGc();
            assertThat(during - before).as("heap growth while a flood is unread").isLessThan(64L << 20);
            envd.unary("process.Process/SendSignal", "{\"process\":{\"pid\":" + pid + "},\"signal\":\"SIGNAL_SIGKILL\"}");
        }
    }

    @Test
    void clientsThatDisconnectMidStreamLeaveNoThreadOrDescriptorBehind() throws Exception {
        long fdsBefore = openFds();
        String fdsBeforeList = describeFds();
        for (int i = 0; i < 20; i++) {
            int pid;
            try (Stream s = envd.stream("process.Process/Start", startRequest("while true; do echo tick; sleep 0.01; done"))) {
                pid = s.next().body().path("event").path("start").path("pid").asInt();
                s.next();
            } // the client goes away with the process still running
            envd.unary("process.Process/SendSignal", "{\"process\":{\"pid\":" + pid + "},\"signal\":\"SIGNAL_SIGKILL\"}");
        }
        awaitTrue(() -> pumpThreads() == 0, "output pumps to end");
        awaitTrue(() -> {
            try {
                return openFds() <= fdsBefore + 4; // the HTTP client's own pooled connections may stay
            } catch (IOException e) {
                return false;
            }
        }, "descriptors to be closed (before: " + fdsBefore + " " + fdsBeforeList + ")");
    }

    @Test
    void aBackgroundChildHoldingStdoutDoesNotHoldTheCommandOpen() throws Exception {
        long t0 = System.nanoTime();
        var r = envd.run(startRequest("sleep 20 & echo $!; echo done"));
        long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
        String[] lines = r.stdout().split("\n");
        // That very child, by its pid: a pattern (pkill -f) would kill whatever else on this
        // machine has the same words in its command line, a CI runner's own processes too.
        ProcessHandle.of(Long.parseLong(lines[0])).ifPresent(ProcessHandle::destroyForcibly);
        assertThat(lines).hasSize(2).endsWith("done");
        assertThat(elapsedMs).isLessThan(5_000);
    }
}
