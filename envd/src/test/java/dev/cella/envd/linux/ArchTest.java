package dev.cella.envd.linux;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each architecture's own syscall numbers; any other architecture is refused by name. Needs no root. */
@Tag("unit")
class ArchTest {

    @Test
    void x86_64KeepsItsHistoricNumbers() {
        Arch a = Arch.of("amd64");
        assertThat(a).isSameAs(Arch.of("x86_64")).isSameAs(Arch.X86_64);
        assertThat(new long[] {a.sysSetgroups, a.sysSetresuid, a.sysSetresgid}).containsExactly(116, 117, 119);
    }

    @Test
    void aarch64UsesTheGenericTable() {
        Arch a = Arch.of("aarch64");
        assertThat(a).isSameAs(Arch.of("arm64")).isSameAs(Arch.AARCH64);
        assertThat(new long[] {a.sysSetgroups, a.sysSetresuid, a.sysSetresgid}).containsExactly(159, 147, 149);
    }

    @Test
    void anotherArchitectureIsRefusedWithItsName() {
        assertThatThrownBy(() -> Arch.of("riscv64")).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("riscv64").hasMessageContaining("x86_64 and aarch64");
        assertThatThrownBy(() -> Arch.of(null)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void thisMachineIsOneOfThem() {
        assertThat(Arch.current()).isIn(Arch.X86_64, Arch.AARCH64);
    }
}
