package dev.cella.node.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sandbox's seccomp filter, the OCI {@code linux.seccomp} object: an allow-list as
 * strict as Docker's default profile for a container with the sandbox's capabilities
 * ({@link OciConfig#CAPABILITIES}: no SYS_ADMIN, SYS_PTRACE, SYS_MODULE, SYS_TIME,
 * SYS_NICE, SYS_BOOT, SYS_RAWIO...). Every syscall not named here fails with EPERM.
 *
 * <p>What stays out, and why: the kernel's large, privileged or host-global interfaces
 * a sandbox never needs, most of which the missing capabilities already refuse (seccomp
 * is the second wall, and it also shuts what needs no capability at all). The allow-list is
 * data, kept as Firecracker keeps its profiles: {@code seccomp/common.json} by purpose, and
 * one file per architecture ({@code x86_64.json}, {@code aarch64.json}) with the ABIs it
 * filters and its own calls; the rules that look at arguments are below, in code, with why.
 * Out of every list:
 * <ul>
 * <li>mounts and namespaces: mount, umount2, the new mount API (fsopen, fsmount,
 *     open_tree, move_mount, mount_setattr...), pivot_root, unshare, setns, and clone
 *     with a namespace flag. Unprivileged user namespaces need no capability, and are
 *     the usual door to kernel bugs reachable only with (namespaced) CAP_SYS_ADMIN;</li>
 * <li>the kernel's keyring (add_key, request_key, keyctl): not namespaced;</li>
 * <li>bpf, perf_event_open, userfaultfd, io_uring: large attack surfaces;</li>
 * <li>modules and the machine: init_module, finit_module, delete_module, kexec_*,
 *     reboot, swapon/swapoff, acct, quotactl, iopl/ioperm, syslog, vhangup,
 *     lookup_dcookie, the NUMA memory policy calls;</li>
 * <li>setting the clock (settimeofday, clock_settime; adjtimex and clock_adjtime may
 *     only read, as the kernel refuses changes without CAP_SYS_TIME);</li>
 * <li>file handles (name_to_handle_at, open_by_handle_at): the way out of a chroot
 *     or bind mount by inode number;</li>
 * <li>AF_VSOCK sockets (vsock is not network-namespaced: it reaches the hypervisor
 *     host) and AF_ALG (the kernel crypto API, a source of bugs);</li>
 * <li>personality flags other than the harmless ones (no ADDR_NO_RANDOMIZE,
 *     READ_IMPLIES_EXEC, MMAP_PAGE_ZERO...);</li>
 * <li>obsolete calls (uselib, ustat, sysfs, _sysctl, vm86, nfsservctl...).</li>
 * </ul>
 *
 * <p>clone3 fails with ENOSYS, not EPERM: its flags live in memory, where seccomp cannot
 * look, and ENOSYS makes glibc (pthread_create, posix_spawn) fall back to clone, whose
 * flags the filter checks.
 *
 * <p>ptrace is allowed, as Docker does on kernels 4.8 and later: since 4.8 the kernel
 * checks seccomp again after a tracer changes a syscall, so a tracer cannot use ptrace to
 * slip a forbidden call past the filter; ptrace reaches only the sandbox's own processes
 * (its own pid namespace, with the usual uid and capability checks, so a user process
 * cannot trace root's); and debuggers and strace are ordinary tools in a code sandbox.
 * On an older kernel ptrace, process_vm_readv and process_vm_writev stay blocked.
 *
 * <p>Names the node's libseccomp does not know (syscalls newer than it, such as mseal or
 * statmount with Debian 12's 2.5.4) are skipped by crun, so such calls fail with EPERM;
 * they are listed so that they work once libseccomp knows them.
 */
public final class SeccompProfile {
    static final int EPERM = 1;
    static final int ENOSYS = 38;

    /** clone(2) flags that make a new namespace: clone is allowed only without any of them. */
    static final long CLONE_NEWNS = 0x00020000L, CLONE_NEWCGROUP = 0x02000000L, CLONE_NEWUTS = 0x04000000L,
            CLONE_NEWIPC = 0x08000000L, CLONE_NEWUSER = 0x10000000L, CLONE_NEWPID = 0x20000000L, CLONE_NEWNET = 0x40000000L;
    static final long NAMESPACE_FLAGS = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER
            | CLONE_NEWPID | CLONE_NEWNET;

    /** personality(2) values allowed: PER_LINUX, PER_LINUX32, UNAME26, both, and the query 0xffffffff. */
    static final List<Long> PERSONALITIES = List.of(0x0L, 0x0008L, 0x20000L, 0x20008L, 0xffffffffL);

    /** The address families socket(2) may not create. */
    static final int AF_ALG = 38, AF_VSOCK = 40;
    /** The highest address family the kernel defines (AF_MCTP); AF_MAX is one more. */
    static final int AF_LAST = 45;

    private SeccompProfile() {}

    /** The profile for this machine: its architecture and its kernel. */
    public static ObjectNode build(ObjectMapper json) {
        return build(json, System.getProperty("os.arch"), System.getProperty("os.version"));
    }

    static ObjectNode build(ObjectMapper json, String osArch, String kernelVersion) {
        Policy policy = policy(osArch);
        ObjectNode s = json.createObjectNode();
        s.put("defaultAction", "SCMP_ACT_ERRNO");
        s.put("defaultErrnoRet", EPERM);
        ArrayNode arches = s.putArray("architectures");
        policy.architectures().forEach(arches::add);
        ArrayNode syscalls = s.putArray("syscalls");
        allow(syscalls, policy.allowed(kernelVersion));

        // clone only without namespace flags: (flags & NAMESPACE_FLAGS) == 0. The flags are
        // clone's first argument on x86 and Arm (s390 alone differs).
        ObjectNode clone = allow(syscalls, List.of("clone"));
        clone.putArray("args").addObject()
                .put("index", 0).put("value", NAMESPACE_FLAGS).put("valueTwo", 0).put("op", "SCMP_CMP_MASKED_EQ");
        // clone3's flags are in memory, out of seccomp's sight: ENOSYS makes glibc fall back to clone
        syscalls.addObject().put("action", "SCMP_ACT_ERRNO").put("errnoRet", ENOSYS).putArray("names").add("clone3");

        // personality: only the harmless personas, and the query
        for (long persona : PERSONALITIES) {
            allow(syscalls, List.of("personality")).putArray("args").addObject()
                    .put("index", 0).put("value", persona).put("op", "SCMP_CMP_EQ");
        }

        // socket: every address family but AF_ALG and AF_VSOCK. The filter compares all 64
        // bits while the kernel reads an int, so only comparisons that pin the upper half to
        // zero are safe: "below AF_ALG", and each family above it by equality (a "greater
        // than AF_VSOCK" would also let 0x1_0000_0028 through, which the kernel reads as 40).
        allow(syscalls, List.of("socket")).putArray("args").addObject()
                .put("index", 0).put("value", AF_ALG).put("op", "SCMP_CMP_LT");
        for (int family = AF_ALG + 1; family <= AF_LAST; family++) {
            if (family == AF_VSOCK) continue;
            allow(syscalls, List.of("socket")).putArray("args").addObject()
                    .put("index", 0).put("value", family).put("op", "SCMP_CMP_EQ");
        }
        return s;
    }

    private static ObjectNode allow(ArrayNode syscalls, List<String> names) {
        ObjectNode rule = syscalls.addObject();
        ArrayNode n = rule.putArray("names");
        names.forEach(n::add);
        rule.put("action", "SCMP_ACT_ALLOW");
        return rule;
    }

    // ---- the allow-list: data, one file per architecture beside a common one ----------

    /** A group of syscalls allowed whatever their arguments, with what they are for. */
    public record Group(String group, String purpose, String sinceKernel, List<String> allow, Map<String, String> notes) {
        public Group {
            if (group == null || allow == null || allow.isEmpty()) {
                throw new IllegalArgumentException("a seccomp group needs a name and a non-empty allow list: " + group);
            }
            if (sinceKernel != null && !sinceKernel.matches("\\d+\\.\\d+")) {
                throw new IllegalArgumentException("group " + group + ": sinceKernel must be major.minor, not '" + sinceKernel + "'");
            }
            allow = List.copyOf(allow);
            notes = notes == null ? Map.of() : Map.copyOf(notes);
        }

        /** Whether a kernel release has what this group needs ({@code sinceKernel}, e.g. "4.8"). */
        boolean appliesTo(String kernelVersion) {
            if (sinceKernel == null) return true;
            String[] v = sinceKernel.split("\\.");
            return atLeast(kernelVersion, Integer.parseInt(v[0]), Integer.parseInt(v[1]));
        }
    }

    /** One file of {@code seccomp/}: {@code common.json} (no architectures) or an architecture's. */
    record PolicyFile(String about, List<String> architectures, List<Group> groups) {}

    /** An architecture's policy: the common groups and its own. */
    public record Policy(String arch, List<String> architectures, List<Group> groups) {
        /** The names allowed whatever their arguments, on a kernel of this release. */
        List<String> allowed(String kernelVersion) {
            return groups.stream().filter(g -> g.appliesTo(kernelVersion)).flatMap(g -> g.allow().stream()).toList();
        }
    }

    /** The architectures there is a policy for, by the name of their file. */
    static final List<String> ARCHITECTURES = List.of("x86_64", "aarch64");

    private static final Map<String, Policy> POLICIES = new ConcurrentHashMap<>();

    /**
     * The policy of a JVM's {@code os.arch}, read once; an architecture without one is refused, never given
     * another's. The node asks for its own at start, so it refuses there rather than at its first create.
     */
    public static Policy policy(String osArch) {
        return POLICIES.computeIfAbsent(osArch == null ? "" : osArch, SeccompProfile::load);
    }

    private static Policy load(String osArch) {
        String arch = switch (osArch == null ? "" : osArch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> throw new UnsupportedOperationException("no seccomp profile for the architecture '" + osArch
                    + "' (there are " + ARCHITECTURES + ": add seccomp/<arch>.json beside them)");
        };
        PolicyFile common = read("common"), own = read(arch);
        List<Group> groups = new ArrayList<>(common.groups());
        groups.addAll(own.groups());
        return new Policy(arch, List.copyOf(own.architectures()), List.copyOf(groups));
    }

    private static final ObjectMapper DATA = new ObjectMapper();

    private static PolicyFile read(String name) {
        String resource = "seccomp/" + name + ".json";
        try (InputStream in = SeccompProfile.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("the seccomp policy " + resource + " is missing from the node's jar");
            return DATA.readValue(in, PolicyFile.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the seccomp policy " + resource, e);
        }
    }

    /** Whether a kernel release such as {@code 6.1.0-18-amd64} is at least major.minor; false when unreadable. */
    static boolean atLeast(String kernelVersion, int major, int minor) {
        Matcher m = Pattern.compile("^(\\d+)\\.(\\d+)").matcher(kernelVersion == null ? "" : kernelVersion);
        if (!m.find()) return false;
        int ma = Integer.parseInt(m.group(1)), mi = Integer.parseInt(m.group(2));
        return ma > major || (ma == major && mi >= minor);
    }
}
