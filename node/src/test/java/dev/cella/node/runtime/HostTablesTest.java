package dev.cella.node.runtime;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The host's shared tables are raised, never lowered. A stand-in /proc/sys: no root, no host change. */
@Tag("unit")
class HostTablesTest {
    @Test
    void aLowTableIsRaisedAndAHighOneLeftAsItIs() throws Exception {
        Path sys = Files.createTempDirectory("cella-proc-sys");
        Files.createDirectories(sys.resolve("fs"));
        Files.createDirectories(sys.resolve("kernel/pty"));
        Files.writeString(sys.resolve("fs/file-max"), "2466116\n");
        Files.writeString(sys.resolve("kernel/pty/max"), "2000000\n");
        assertThat(new HostTables(sys).raise("root=/dev/vda cgroup.memory=nokmem")).as("no kernel-memory accounting: files bounded by the table alone")
                .isEmpty();
        assertThat(new HostTables(sys).raise("root=/dev/vda")).containsExactly("fs/file-max 2466116 -> 9223372036854775807");
        assertThat(Files.readString(sys.resolve("fs/file-max"))).isEqualTo("9223372036854775807");
        assertThat(Files.readString(sys.resolve("kernel/pty/max")).strip()).isEqualTo("2000000");
        assertThat(new HostTables(sys).raise("root=/dev/vda")).as("a second start changes nothing").isEmpty();
    }
}
