package dev.cella.node;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cella.node.runtime.RunningSandbox;
import dev.cella.node.runtime.SeccompProfile;
import dev.cella.protocol.envd.EnvdClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The sandbox's seccomp profile on real crun: what it refuses even to root in the
 * sandbox (namespaces, mounts, the keyring, bpf, perf...), and that ordinary work goes on
 * under it (envd itself, a JVM, starts under it for every test of the node).
 */
class SeccompTest {
    static NodeFixture node;
    static RunningSandbox s;

    /**
     * Calls raw x86_64 syscalls through ctypes and prints "name result" per line, the
     * result being "ok" or the errno's name. Arguments are ints or byte strings.
     */
    static final String PROBE = """
            import ctypes, errno, os
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            def arg(a):
                return ctypes.c_char_p(a) if isinstance(a, bytes) else ctypes.c_long(a)
            def sc(name, nr, *args):
                ctypes.set_errno(0)
                r = libc.syscall(ctypes.c_long(nr), *[arg(a) for a in args])
                if r == 0 and nr == 56:  # a clone that went through: the child leaves at once
                    os._exit(0)
                if r > 0 and nr == 56:
                    os.waitpid(r, 0)
                e = ctypes.get_errno()
                print(name, "ok" if r >= 0 else errno.errorcode.get(e, str(e)), flush=True)
            """;

    @BeforeAll
    static void start() throws Exception {
        if (!NodeFixture.isRoot()) return; // the profile's own tests need no sandbox
        node = new NodeFixture();
        s = node.driver.create(node.spec("seccomp1", 512, false));
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) node.close();
    }

    static void needsSandbox() {
        assumeTrue(node != null, "sandboxes need root: namespaces, mounts, cgroups (CI is root)");
    }

    static void needsSandboxOnX86() {
        needsSandbox();
        assumeTrue(System.getProperty("os.arch").equals("amd64"), "the probes use x86_64 syscall numbers");
    }

    /** Runs the probe followed by {@code calls} as {@code user}; answers name → result. */
    Map<String, String> probe(String user, String calls) throws Exception {
        var r = node.run(s.envdUrl(), "python3 -c \"$PY\" 2>&1", user, Map.of("PY", PROBE + calls));
        Map<String, String> out = new HashMap<>();
        for (String line : r.stdout().split("\n")) {
            String[] kv = line.trim().split(" ");
            if (kv.length == 2) out.put(kv[0], kv[1]);
        }
        assertThat(out).as("probe output: " + r.stdout()).isNotEmpty();
        return out;
    }

    /** Runs {@code bash -c script} on a pseudo-terminal of envd's, as the default user; answers the terminal's output. */
    String runOnPty(String script) throws Exception {
        EnvdClient.Run r = node.envd(s.envdUrl()).run(EnvdClient.Start.bash(script).pty(80, 24), Duration.ofSeconds(30));
        if (r.trailer() != null && r.trailer().has("error")) throw new AssertionError("envd: " + r.trailer());
        return r.pty();
    }

    @Test
    void everySandboxGetsTheProfile() throws Exception {
        needsSandbox();
        JsonNode config = NodeFixture.JSON.readTree(node.state.resolve("sandboxes/seccomp1/config.json").toFile());
        assertThat(config.path("linux").path("seccomp").toString()).isEqualTo(SeccompProfile.build(NodeFixture.JSON).toString());
    }

    // ---- in a sandbox --------------------------------------------------------------

    @Test
    void theFilterIsInPlace() throws Exception {
        needsSandbox();
        var r = node.run(s.envdUrl(), "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status", null);
        assertThat(r.stdout()).contains("Seccomp:\t2").contains("NoNewPrivs:\t1");
    }

    @Test
    void namespacesAndMountsAreRefusedEvenToRoot() throws Exception {
        needsSandboxOnX86();
        for (String user : new String[] {"root", "user"}) {
            var r = node.run(s.envdUrl(), "unshare -n true 2>&1; echo exit=$?; unshare -Ur true 2>&1; echo exit=$?", user);
            assertThat(r.stdout()).as(user).contains("Operation not permitted").doesNotContain("exit=0");
        }
        var m = node.run(s.envdUrl(), "mount -t tmpfs x /mnt 2>&1; echo exit=$?; grep -c ' /mnt ' /proc/mounts", "root");
        assertThat(m.stdout()).doesNotContain("exit=0").endsWith("0\n");

        Map<String, String> r = probe("root", """
                sc("clone_newuser", 56, 0x10000000 | 17, 0, 0, 0, 0)  # needs no capability without the filter
                sc("unshare", 272, 0x40000000)                  # CLONE_NEWNET
                sc("unshare_user", 272, 0x10000000)             # CLONE_NEWUSER, likewise
                sc("clone_newns", 56, 0x00020000 | 17, 0, 0, 0, 0)
                sc("clone_plain", 56, 17, 0, 0, 0, 0)            # a fork
                sc("clone3", 435, 0, 0)                          # ENOSYS: glibc falls back to clone
                sc("setns", 308, 0, 0)
                sc("mount", 165, b"x", b"/mnt", b"tmpfs", 0, 0)
                sc("umount2", 166, b"/proc", 0)
                sc("pivot_root", 155, b"/", b"/")
                sc("fsopen", 430, b"tmpfs", 0)
                sc("open_tree", 428, -100, b"/", 0)
                """);
        assertThat(r).containsEntry("unshare", "EPERM").containsEntry("unshare_user", "EPERM")
                .containsEntry("clone_newuser", "EPERM").containsEntry("clone_newns", "EPERM")
                .containsEntry("clone_plain", "ok").containsEntry("clone3", "ENOSYS")
                .containsEntry("setns", "EPERM").containsEntry("mount", "EPERM").containsEntry("umount2", "EPERM")
                .containsEntry("pivot_root", "EPERM").containsEntry("fsopen", "EPERM").containsEntry("open_tree", "EPERM");
    }

    @Test
    void theKernelsPrivilegedInterfacesAreRefusedEvenToRoot() throws Exception {
        needsSandboxOnX86();
        // without the filter keyctl, add_key, userfaultfd, personality and the vsock sockets go
        // through, bpf, perf_event_open, io_uring_setup, name_to_handle_at and AF_ALG fail otherwise
        // (EINVAL, EFAULT, EAFNOSUPPORT); the rest also lack a capability
        Map<String, String> r = probe("root", """
                sc("keyctl", 250, 0, -3, 0)                      # KEYCTL_GET_KEYRING_ID of the session keyring
                sc("add_key", 248, b"user", b"k", b"v", 1, -3)
                sc("request_key", 249, b"user", b"k", 0, 0)
                sc("bpf", 321, 9999, 0, 0)                       # an unknown command: EINVAL unfiltered
                sc("perf_event_open", 298, 0, 0, -1, -1, 0)      # no attr: EFAULT unfiltered
                sc("userfaultfd", 323, 1)                        # UFFD_USER_MODE_ONLY
                sc("io_uring_setup", 425, 1, 0)
                sc("name_to_handle_at", 303, -100, b"/", 0, 0, 0)
                sc("open_by_handle_at", 304, -100, 0, 0)
                sc("init_module", 175, 0, 0, b"")
                sc("finit_module", 313, 0, b"", 0)
                sc("kexec_load", 246, 0, 0, 0, 0)
                sc("reboot", 169, 0, 0, 0, 0)
                sc("swapon", 167, b"/nonexistent", 0)
                sc("acct", 163, 0)
                sc("settimeofday", 164, 0, 0)
                sc("clock_settime", 227, 0, 0)
                sc("iopl", 172, 3)
                sc("ioperm", 173, 0, 1, 1)
                sc("quotactl", 179, 0, 0, 0, 0)
                sc("lookup_dcookie", 212, 0, 0, 0)
                sc("syslog", 103, 10, 0, 0)                      # SYSLOG_ACTION_SIZE_BUFFER
                sc("personality_no_aslr", 135, 0x0040000)        # ADDR_NO_RANDOMIZE
                sc("personality_query", 135, 0xffffffff)
                sc("personality_linux", 135, 0)
                sc("socket_vsock", 41, 40, 1, 0)
                sc("socket_vsock_high_bits", 41, 0x100000028, 1, 0)  # the kernel reads the int 40
                sc("socket_alg", 41, 38, 5, 0)
                sc("socket_inet", 41, 2, 1, 0)
                sc("socket_unix", 41, 1, 1, 0)
                sc("socket_netlink", 41, 16, 3, 0)
                timex = ctypes.create_string_buffer(512)         # modes 0: only reads
                sc("adjtimex_read", 159, ctypes.addressof(timex))
                """);
        for (String refused : List.of("keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
                "io_uring_setup", "name_to_handle_at", "open_by_handle_at", "init_module", "finit_module", "kexec_load",
                "reboot", "swapon", "acct", "settimeofday", "clock_settime", "iopl", "ioperm", "quotactl",
                "lookup_dcookie", "syslog", "personality_no_aslr", "socket_vsock", "socket_vsock_high_bits", "socket_alg")) {
            assertThat(r).as(refused).containsEntry(refused, "EPERM");
        }
        for (String allowed : List.of("personality_query", "personality_linux", "socket_inet", "socket_unix",
                "socket_netlink", "adjtimex_read")) {
            assertThat(r).as(allowed).containsEntry(allowed, "ok");
        }
        // the clock stays put: adjtimex may read, changing the time needs CAP_SYS_TIME
        var date = node.run(s.envdUrl(), "date -s '2001-01-01' 2>&1; echo exit=$?", "root");
        assertThat(date.stdout()).contains("Operation not permitted").contains("exit=1");
    }

    @Test
    void debuggersMayTraceTheSandboxsOwnProcesses() throws Exception {
        needsSandboxOnX86();
        String traceme = """
                import ctypes, os
                libc = ctypes.CDLL(None, use_errno=True)
                pid = os.fork()
                if pid == 0:
                    os._exit(0 if libc.ptrace(0, 0, None, None) == 0 else ctypes.get_errno())  # PTRACE_TRACEME
                print("traceme", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
                """;
        var r = node.run(s.envdUrl(), "python3 -c \"$PY\" 2>&1", null, Map.of("PY", traceme));
        assertThat(r.stdout()).isEqualTo("traceme 0\n");
    }

    @Test
    void ordinaryWorkGoesOn() throws Exception {
        needsSandbox();
        String threads = "import concurrent.futures as f, hashlib\n"
                + "with f.ThreadPoolExecutor(8) as ex:\n"
                + "    r = list(ex.map(lambda i: sum(hashlib.sha256(bytes([i])).digest()), range(64)))\n"
                + "print(len(r), sum(x*x for x in range(1000)))\n";
        var py = node.run(s.envdUrl(), "python3 -c \"$PY\" 2>&1", null, Map.of("PY", threads));
        assertThat(py.stdout()).isEqualTo("64 332833500\n");
        var mp = node.run(s.envdUrl(), "python3 -c 'import multiprocessing as m; print(m.Pool(2).map(abs, [-1, -2]))' 2>&1", null);
        assertThat(mp.stdout()).isEqualTo("[1, 2]\n");

        var git = node.run(s.envdUrl(), "set -e; d=$(mktemp -d); cd $d; git init -q; echo hi > a; git add a;"
                + " git -c user.email=u@example.com -c user.name=u commit -qm first; git log --oneline | wc -l", null);
        assertThat(git.stdout()).as(git.stderr()).isEqualTo("1\n");
        assertThat(git.exitCode()).isZero();

        assertThat(node.run(s.envdUrl(), "curl --version | head -1", null).stdout()).startsWith("curl ");
        assertThat(node.run(s.envdUrl(), "bash -c 'cat /etc/os-release | head -1'", null).stdout()).startsWith("PRETTY_NAME=");
        assertThat(node.run(s.envdUrl(), "top -b -n1 | head -1", null).stdout()).startsWith("top - ");
        var ps = node.run(s.envdUrl(), "ps aux", null);
        assertThat(ps.stdout()).startsWith("USER");
        assertThat(ps.stdout().lines().count()).isGreaterThan(2);
        // pseudo-terminals: one opened in the sandbox, and envd's own for a process started with one
        assertThat(node.run(s.envdUrl(), "script -qc 'tty' /dev/null", null).stdout()).contains("/dev/pts/");
        assertThat(runOnPty("tty; stty size")).contains("/dev/pts/").contains("24 80");
        // root's everyday tools: switching users, chroot, apt and dpkg reading their state
        var root = node.run(s.envdUrl(), "su user -c 'id -un'; chroot / true && echo chroot-ok; "
                + "apt-get -qq check && echo apt-ok; dpkg -s bash | grep -c '^Status: install ok'", "root");
        assertThat(root.stdout()).as(root.stderr()).isEqualTo("user\nchroot-ok\napt-ok\n1\n");
        // many short processes at once
        assertThat(node.run(s.envdUrl(), "for i in $(seq 50); do echo $i; done | xargs -n1 -P4 echo | wc -l", null).stdout())
                .isEqualTo("50\n");
    }
}
