package dev.cella.node.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
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
 * is the second wall, and it also shuts what needs no capability at all):
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

    // ---- the allow-list, by purpose -------------------------------------------------

    /** Reading, writing and managing open files. */
    static final List<String> FILE_IO = List.of(
            "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
            "lseek", "_llseek", "open", "openat", "openat2", "creat", "close", "close_range",
            "dup", "dup2", "dup3", "fcntl", "fcntl64", "ioctl", "flock",
            "fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
            "truncate", "ftruncate", "truncate64", "ftruncate64", "fallocate", "fadvise64", "fadvise64_64", "readahead",
            "sendfile", "sendfile64", "splice", "tee", "vmsplice", "copy_file_range", "cachestat");

    /** File metadata, directories and links. */
    static final List<String> FILE_METADATA = List.of(
            "stat", "lstat", "fstat", "newfstatat", "stat64", "lstat64", "fstat64", "fstatat64", "statx",
            "statfs", "fstatfs", "statfs64", "fstatfs64", "access", "faccessat", "faccessat2",
            "getdents", "getdents64", "getcwd", "chdir", "fchdir",
            "mkdir", "mkdirat", "rmdir", "rename", "renameat", "renameat2",
            "link", "linkat", "unlink", "unlinkat", "symlink", "symlinkat", "readlink", "readlinkat",
            "chmod", "fchmod", "fchmodat", "fchmodat2", "umask",
            "chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32",
            "utime", "utimes", "futimesat", "utimensat", "utimensat_time64",
            // device nodes need CAP_MKNOD, and the device cgroup refuses to open any of them
            "mknod", "mknodat",
            "setxattr", "lsetxattr", "fsetxattr", "getxattr", "lgetxattr", "fgetxattr",
            "listxattr", "llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr",
            "setxattrat", "getxattrat", "listxattrat", "removexattrat",
            "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
            "fanotify_mark", // useless without fanotify_init, which needs CAP_SYS_ADMIN
            // mount information of the sandbox's own mount namespace
            "statmount", "listmount");

    /** chroot: the sandbox keeps CAP_SYS_CHROOT (build tools and package scripts chroot). */
    static final List<String> CHROOT = List.of("chroot");

    /** Memory: mappings, protection, locking, memfds. */
    static final List<String> MEMORY = List.of(
            "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "remap_file_pages",
            "mlock", "mlock2", "munlock", "mlockall", "munlockall",
            "pkey_alloc", "pkey_free", "pkey_mprotect", "membarrier", "memfd_create", "memfd_secret",
            "map_shadow_stack", "mseal");

    /** Processes and threads (clone and clone3 have rules of their own). */
    static final List<String> PROCESSES = List.of(
            "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid",
            "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
            "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "restart_syscall",
            "prctl", "futex", "futex_time64", "futex_waitv", "futex_wake", "futex_wait", "futex_requeue",
            "pidfd_open", "pidfd_send_signal", "process_mrelease",
            "capget", "capset", "getrandom", "uretprobe");

    /** Scheduling and resource limits (real-time priorities still need CAP_SYS_NICE). */
    static final List<String> SCHEDULING = List.of(
            "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_setparam",
            "sched_getscheduler", "sched_setscheduler", "sched_getattr", "sched_setattr",
            "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval", "sched_rr_get_interval_time64",
            "getpriority", "setpriority", "ioprio_get", "ioprio_set", "getcpu",
            "getrlimit", "setrlimit", "ugetrlimit", "prlimit64", "getrusage", "times", "sysinfo", "uname");

    /** User and group identities (changing them needs CAP_SETUID/CAP_SETGID, which root here has). */
    static final List<String> CREDENTIALS = List.of(
            "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
            "getuid32", "geteuid32", "getgid32", "getegid32", "getresuid32", "getresgid32", "getgroups32",
            "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid", "setgroups",
            "setuid32", "setgid32", "setreuid32", "setregid32", "setresuid32", "setresgid32", "setfsuid32", "setfsgid32",
            "setgroups32");

    /** Signals. */
    static final List<String> SIGNALS = List.of(
            "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
            "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
            "sigaltstack", "sigprocmask", "sigreturn", "kill", "tkill", "tgkill",
            "signalfd", "signalfd4", "pause", "alarm");

    /** Clocks and timers: reading the clock, sleeping, timers. Setting the clock is not here. */
    static final List<String> TIME = List.of(
            "time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
            "clock_nanosleep", "clock_nanosleep_time64", "nanosleep",
            "getitimer", "setitimer", "timer_create", "timer_delete", "timer_getoverrun",
            "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
            "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
            // reading the kernel's clock discipline (ntp_gettime); changes need CAP_SYS_TIME
            "adjtimex", "clock_adjtime", "clock_adjtime64");

    /** Waiting on many descriptors; pipes and event counters. */
    static final List<String> POLLING = List.of(
            "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64",
            "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
            "eventfd", "eventfd2", "pipe", "pipe2");

    /** Sockets, except socket(2) itself, which has rules of its own. socketcall is 32-bit x86's multiplexer. */
    static final List<String> NETWORK = List.of(
            "socketpair", "bind", "connect", "listen", "accept", "accept4", "getsockname", "getpeername",
            "send", "recv", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "recvmmsg_time64",
            "shutdown", "setsockopt", "getsockopt", "socketcall");

    /** System V and POSIX IPC, confined to the sandbox's IPC namespace. */
    static final List<String> IPC = List.of(
            "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semctl", "semtimedop", "semtimedop_time64",
            "msgget", "msgsnd", "msgrcv", "msgctl", "ipc",
            "mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive",
            "mq_timedreceive_time64", "mq_notify", "mq_getsetattr");

    /** Linux native AIO (libaio; databases use it). io_uring is not here. */
    static final List<String> AIO = List.of(
            "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents", "io_pgetevents_time64");

    /** A process restricting itself further: its own seccomp filters and Landlock rules. */
    static final List<String> SELF_RESTRICTION = List.of(
            "seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self");

    /** x86: thread-local storage and segment descriptors (TLS on 32-bit, Wine, old runtimes). */
    static final List<String> X86 = List.of("arch_prctl", "set_thread_area", "get_thread_area", "modify_ldt");

    /** 64- and 32-bit Arm. */
    static final List<String> ARM = List.of(
            "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls");

    /** Debugging the sandbox's own processes (see the class comment), on kernels 4.8 and later. */
    static final List<String> DEBUGGING = List.of("ptrace", "process_vm_readv", "process_vm_writev");

    private SeccompProfile() {}

    /** The profile for this machine: its architecture and its kernel. */
    public static ObjectNode build(ObjectMapper json) {
        return build(json, System.getProperty("os.arch"), System.getProperty("os.version"));
    }

    static ObjectNode build(ObjectMapper json, String osArch, String kernelVersion) {
        boolean arm = isArm(osArch);
        ObjectNode s = json.createObjectNode();
        s.put("defaultAction", "SCMP_ACT_ERRNO");
        s.put("defaultErrnoRet", EPERM);
        ArrayNode arches = s.putArray("architectures");
        if (arm) {
            arches.add("SCMP_ARCH_AARCH64").add("SCMP_ARCH_ARM");
        } else {
            arches.add("SCMP_ARCH_X86_64").add("SCMP_ARCH_X86").add("SCMP_ARCH_X32");
        }
        ArrayNode syscalls = s.putArray("syscalls");
        allow(syscalls, allowed(osArch, kernelVersion));

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

    /** The syscalls allowed whatever their arguments. */
    static List<String> allowed(String osArch, String kernelVersion) {
        List<String> names = new ArrayList<>();
        for (List<String> group : List.of(FILE_IO, FILE_METADATA, CHROOT, MEMORY, PROCESSES, SCHEDULING, CREDENTIALS,
                SIGNALS, TIME, POLLING, NETWORK, IPC, AIO, SELF_RESTRICTION)) {
            names.addAll(group);
        }
        names.addAll(isArm(osArch) ? ARM : X86);
        if (atLeast(kernelVersion, 4, 8)) names.addAll(DEBUGGING);
        return names;
    }

    private static ObjectNode allow(ArrayNode syscalls, List<String> names) {
        ObjectNode rule = syscalls.addObject();
        ArrayNode n = rule.putArray("names");
        names.forEach(n::add);
        rule.put("action", "SCMP_ACT_ALLOW");
        return rule;
    }

    static boolean isArm(String osArch) {
        return osArch != null && (osArch.equals("aarch64") || osArch.equals("arm64") || osArch.startsWith("arm"));
    }

    /** Whether a kernel release such as {@code 6.1.0-18-amd64} is at least major.minor; false when unreadable. */
    static boolean atLeast(String kernelVersion, int major, int minor) {
        Matcher m = Pattern.compile("^(\\d+)\\.(\\d+)").matcher(kernelVersion == null ? "" : kernelVersion);
        if (!m.find()) return false;
        int ma = Integer.parseInt(m.group(1)), mi = Integer.parseInt(m.group(2));
        return ma > major || (ma == major && mi >= minor);
    }
}
