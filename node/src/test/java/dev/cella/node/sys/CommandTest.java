package dev.cella.node.sys;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Host tools run to their end, or to their limit: never longer. Needs no root. */
@Tag("unit")
class CommandTest {

    @Test
    void returnsWhatTheToolPrintedAndItsExitCode() throws Exception {
        Command.Result r = Command.result(List.of("sh", "-c", "cat; echo err >&2; exit 3"), "from stdin\n");
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("from stdin\n");
        assertThat(r.stderr()).isEqualTo("err\n");
    }

    @Test
    void aFailureCarriesWhatTheToolSaid() {
        assertThatThrownBy(() -> Command.run("sh", "-c", "echo no such thing >&2; exit 1"))
                .isInstanceOf(Command.Failed.class).hasMessageContaining("exited 1: no such thing");
    }

    @Test
    void aToolThatNeverEndsIsKilledAtItsLimit() {
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> Command.result(List.of("sleep", "1000"), null, Duration.ofMillis(300)))
                .isInstanceOf(IOException.class).hasMessageContaining("did not finish in");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void aToolWhoseChildHoldsItsOutputOpenIsKilledWithTheChild() throws Exception {
        // the shell waits for a child that shares its stdout: reading stdout to its end first never returned
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> Command.result(List.of("sh", "-c", "echo $$; sleep 1000; true"), null, Duration.ofMillis(500)))
                .isInstanceOf(IOException.class).hasMessageContaining("killed");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        // no sleep 1000 of ours is left behind
        Thread.sleep(200);
        boolean left = ProcessHandle.current().descendants()
                .anyMatch(h -> h.info().commandLine().orElse("").contains("sleep 1000"));
        assertThat(left).as("the tool's child still runs").isFalse();
    }

    @Test
    void aToolThatReadsNoStdinDoesNotStallOnALargeOne() throws Exception {
        String big = "x".repeat(4 << 20); // far beyond a pipe's buffer
        Command.Result r = Command.result(List.of("true"), big, Duration.ofSeconds(20));
        assertThat(r.ok()).isTrue();
    }
}
