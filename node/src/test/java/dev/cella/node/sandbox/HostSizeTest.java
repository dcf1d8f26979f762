package dev.cella.node.sandbox;

import dev.cella.node.problem.Problem;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** No sandbox asks more of a host than it has: 16 vCPUs or 64 GiB on a 2-CPU, 23.5 GiB host were started before. */
@Tag("unit")
class HostSizeTest {
    static SandboxSpec spec(int vcpus, int memoryMb) {
        return new SandboxSpec("s1", "base", Path.of("/r"), vcpus, memoryMb, 1024, 1024, true, Map.of(), Map.of(), null, "user", null, null);
    }

    @Test
    void whatTheHostHasIsTakenAndMoreIsRefusedWithWhy() {
        HostSize host = new HostSize(2, 24_000);
        assertThatNoException().isThrownBy(() -> host.admit(spec(2, 24_000)));
        assertThatThrownBy(() -> host.admit(spec(16, 512))).isInstanceOf(Problem.Invalid.class).hasMessage("vcpus 16 is more than this host has: 2 CPUs");
        assertThatThrownBy(() -> host.admit(spec(1, 65_536))).isInstanceOf(Problem.Invalid.class)
                .hasMessage("memory 65536 MiB is more than this host has: 24000 MiB");
    }

    @Test
    void thisHostIsReadFromTheKernel() {
        HostSize here = HostSize.local();
        assertThat(here.cpus()).isGreaterThanOrEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(HostSize.onlineCpus("0-1\n")).isEqualTo(2);
        assertThat(HostSize.onlineCpus("0,2-5")).isEqualTo(5);
        assertThat(here.memoryMb()).isGreaterThan(256);
    }
}
