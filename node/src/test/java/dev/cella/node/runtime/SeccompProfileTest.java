package dev.cella.node.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The seccomp profile as data: what each architecture's policy allows, refuses and how it is built. No root needed. */
@Tag("unit")
class SeccompProfileTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** What no architecture's list may allow whatever its arguments (SeccompProfile's class comment says why). */
    static final List<String> NEVER = List.of("mount", "umount2", "unshare", "setns", "pivot_root", "keyctl", "add_key",
            "request_key", "bpf", "perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module",
            "delete_module", "open_by_handle_at", "name_to_handle_at", "userfaultfd", "reboot", "swapon", "swapoff", "acct",
            "settimeofday", "clock_settime", "iopl", "ioperm", "lookup_dcookie", "quotactl", "io_uring_setup",
            "io_uring_enter", "io_uring_register", "fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "move_mount",
            "mount_setattr", "clone", "clone3", "personality", "socket", "kcmp", "pidfd_getfd", "syslog", "mbind",
            "set_mempolicy", "vhangup", "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl");

    static List<String> unconditional(JsonNode profile) {
        List<String> names = new ArrayList<>();
        for (JsonNode rule : profile.path("syscalls")) {
            if (rule.path("action").asText().equals("SCMP_ACT_ALLOW") && !rule.has("args")) rule.path("names").forEach(n -> names.add(n.asText()));
        }
        return names;
    }

    static List<String> texts(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }

    @Test
    void theProfileAllowsByNameAndRefusesTheRestWithEperm() {
        JsonNode p = SeccompProfile.build(JSON, "amd64", "6.1.0-18-amd64");
        assertThat(p.path("defaultAction").asText()).isEqualTo("SCMP_ACT_ERRNO");
        assertThat(p.path("defaultErrnoRet").asInt()).isEqualTo(1);
        assertThat(texts(p.path("architectures"))).containsExactly("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");

        Map<String, List<JsonNode>> conditional = new HashMap<>();
        for (JsonNode rule : p.path("syscalls")) {
            for (JsonNode n : rule.path("names")) {
                if (rule.path("action").asText().equals("SCMP_ACT_ALLOW") && rule.has("args")) {
                    conditional.computeIfAbsent(n.asText(), k -> new ArrayList<>()).add(rule.path("args"));
                }
            }
        }
        assertThat(unconditional(p)).doesNotHaveDuplicates()
                .contains("read", "openat", "execve", "futex", "epoll_pwait", "rseq", "statx", "faccessat2", "close_range",
                        "setresuid", "chroot", "socketpair", "arch_prctl", "ptrace")
                .doesNotContainAnyElementsOf(NEVER);
        assertThat(conditional.keySet()).containsExactlyInAnyOrder("clone", "personality", "socket");
        JsonNode clone = conditional.get("clone").getFirst().get(0);
        assertThat(clone.path("op").asText()).isEqualTo("SCMP_CMP_MASKED_EQ");
        assertThat(clone.path("index").asInt()).isZero();
        assertThat(clone.path("value").asLong()).isEqualTo(0x7E020000L);
        assertThat(clone.path("valueTwo").asLong()).isZero();
        JsonNode clone3 = StreamSupport.stream(p.path("syscalls").spliterator(), false)
                .filter(r -> r.path("names").get(0).asText().equals("clone3")).findFirst().orElseThrow();
        assertThat(clone3.path("action").asText()).isEqualTo("SCMP_ACT_ERRNO");
        assertThat(clone3.path("errnoRet").asInt()).isEqualTo(38);
    }

    @Test
    void eachArchitectureHasItsOwnAbisAndCallsAndTheCommonOnes() {
        JsonNode x86 = SeccompProfile.build(JSON, "amd64", "6.1.0"), arm = SeccompProfile.build(JSON, "aarch64", "6.1.0");
        assertThat(texts(arm.path("architectures"))).containsExactly("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
        assertThat(unconditional(arm)).contains("read", "openat", "set_tls", "sync_file_range2")
                .doesNotContain("arch_prctl", "modify_ldt").doesNotContainAnyElementsOf(NEVER).doesNotHaveDuplicates();
        assertThat(unconditional(x86)).doesNotContain("set_tls", "cacheflush");
        // the same names on both but for each architecture's own group
        Set<String> common = new HashSet<>(unconditional(x86));
        common.removeAll(SeccompProfile.policy("amd64").groups().stream().filter(g -> g.group().equals("x86")).findFirst().orElseThrow().allow());
        assertThat(unconditional(arm)).containsAll(common);
        assertThat(SeccompProfile.build(JSON, "x86_64", "6.1.0")).isEqualTo(x86);
        assertThat(SeccompProfile.build(JSON, "arm64", "6.1.0")).isEqualTo(arm);
    }

    @Test
    void debuggingNeedsAKernelThatChecksSeccompAfterATracer() {
        assertThat(unconditional(SeccompProfile.build(JSON, "amd64", "4.8.0"))).contains("ptrace", "process_vm_readv");
        assertThat(unconditional(SeccompProfile.build(JSON, "amd64", "4.4.0-210-generic"))).doesNotContain("ptrace", "process_vm_readv", "process_vm_writev");
        assertThat(unconditional(SeccompProfile.build(JSON, "amd64", "unreadable"))).doesNotContain("ptrace");
    }

    @Test
    void anArchitectureWithoutAPolicyIsRefusedNotGivenAnothers() {
        for (String arch : List.of("riscv64", "s390x", "ppc64le", "arm", "")) {
            assertThatThrownBy(() -> SeccompProfile.build(JSON, arch, "6.1.0"))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("no seccomp profile for the architecture");
        }
    }

    @Test
    void aMalformedGroupIsRefusedWithAMessage() {
        assertThatThrownBy(() -> new SeccompProfile.Group("g", "p", "5", List.of("read"), null)).hasMessageContaining("major.minor");
        assertThatThrownBy(() -> new SeccompProfile.Group("g", "p", null, null, null)).hasMessageContaining("non-empty allow list");
        assertThat(SeccompProfile.policy("amd64")).isSameAs(SeccompProfile.policy("amd64")); // read once
    }

    @Test
    void everyGroupSaysWhatItIsForAndNoNameIsInTwo() {
        for (String arch : List.of("amd64", "aarch64")) {
            Set<String> seen = new HashSet<>();
            for (SeccompProfile.Group g : SeccompProfile.policy(arch).groups()) {
                assertThat(g.purpose()).as(g.group()).isNotBlank();
                assertThat(g.allow()).as(g.group()).isNotEmpty().allMatch(n -> n.matches("[a-z_][a-z0-9_]*"));
                for (String n : g.allow()) assertThat(seen.add(n)).as("%s is in two groups (%s)", n, g.group()).isTrue();
                assertThat(g.allow()).as("notes name syscalls of their group").containsAll(g.notes().keySet());
            }
        }
    }
}
