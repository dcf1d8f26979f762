package dev.cella.node.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cella.node.envd.EnvdRuntime;
import dev.cella.node.net.SandboxAddress;
import dev.cella.node.sandbox.SandboxSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The OCI runtime configuration of one sandbox: envd as pid 1 from the read-only
 * runtime mount, every namespace of its own (the network one prepared by the node),
 * cgroup limits, a minimal capability set, no new privileges, masked /proc paths.
 */
public final class OciConfig {
    /**
     * Docker's default set less CAP_NET_RAW: what a root process in a sandbox may still do.
     * Raw sockets let root forge packets (another sandbox's source address: the node's nft
     * rules refuse those too); ping needs none of it, it uses ICMP datagram sockets, which
     * {@link #SYSCTLS} opens to every user.
     */
    static final List<String> CAPABILITIES = List.of(
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
            "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
            "CAP_KILL", "CAP_AUDIT_WRITE");
    /** Terminals one sandbox may hold at once: the host's count is shared (see {@link HostTables}). */
    public static final int PTYS_PER_SANDBOX = 256;
    /** Set in the sandbox's own network namespace: ping (ICMP datagram sockets) for every user, without CAP_NET_RAW. */
    static final Map<String, String> SYSCTLS = Map.of("net.ipv4.ping_group_range", "0 2147483647");
    static final List<String> MASKED = List.of(
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
            "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap");
    static final List<String> READ_ONLY = List.of(
            "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");

    private OciConfig() {}

    /** The kernel's default CPU weight (cgroup v1 shares; crun maps it to v2's weight 100). */
    public static final long CPU_SHARES = 1024;
    /**
     * A sandbox started ahead of demand (the warm pool) gets the least CPU weight: its JVM
     * start yields to every sandbox in use and to the node's own work, and takes the CPU
     * no one else wants. A create that takes it sets {@link #CPU_SHARES} again.
     */
    public static final long BACKGROUND_CPU_SHARES = 2;

    public static ObjectNode build(ObjectMapper json, SandboxSpec spec, SandboxAddress address, Path rootfs,
                                   EnvdRuntime envd, String cgroupsPath, boolean pooled) {
        long cpuShares = pooled ? BACKGROUND_CPU_SHARES : CPU_SHARES;
        ObjectNode c = json.createObjectNode();
        c.put("ociVersion", "1.0.2");
        ObjectNode process = c.putObject("process");
        process.put("terminal", false);
        process.putObject("user").put("uid", 0).put("gid", 0);
        ArrayNode args = process.putArray("args");
        envd.command(List.of("--port", Integer.toString(EnvdRuntime.PORT)), pooled).forEach(args::add);
        // envd's own environment (the commands it starts get one it builds): a UTF-8 locale from its runtime, or
        // the JDK would encode file names as ASCII and refuse any other path; most images carry no locale.
        process.putArray("env").add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
                .add("LOCPATH=" + EnvdRuntime.MOUNT_PATH + "/locale").add("LC_CTYPE=C.UTF-8");
        process.put("cwd", "/");
        ObjectNode caps = process.putObject("capabilities");
        for (String set : List.of("bounding", "effective", "permitted")) {
            ArrayNode a = caps.putArray(set);
            CAPABILITIES.forEach(a::add);
        }
        long files = Math.min(1 << 20, hostOpenFilesHardLimit());
        process.putArray("rlimits").addObject().put("type", "RLIMIT_NOFILE").put("hard", files).put("soft", files);
        process.put("noNewPrivileges", true);
        // envd keeps the node's OOM score (lowering it needs a privilege the node may lack);
        // envd raises the score of every process it starts, so a memory bomb dies, not envd.

        c.putObject("root").put("path", rootfs.toString()).put("readonly", false);
        c.put("hostname", spec.id());

        ArrayNode mounts = c.putArray("mounts");
        mount(mounts, "/proc", "proc", "proc");
        mount(mounts, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k");
        mount(mounts, "/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
                "max=" + PTYS_PER_SANDBOX);
        mount(mounts, "/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k");
        mount(mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev");
        mount(mounts, "/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro");
        mount(mounts, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime", "ro");
        mount(mounts, EnvdRuntime.MOUNT_PATH, "bind", envd.dir().toString(), "rbind", "ro", "nosuid", "nodev");

        ObjectNode linux = c.putObject("linux");
        ArrayNode ns = linux.putArray("namespaces");
        for (String type : List.of("pid", "ipc", "uts", "mount", "cgroup")) ns.addObject().put("type", type);
        ns.addObject().put("type", "network").put("path", "/run/netns/" + address.netns());
        linux.put("cgroupsPath", cgroupsPath);
        ObjectNode sysctl = linux.putObject("sysctl");
        SYSCTLS.forEach(sysctl::put);
        ObjectNode res = linux.putObject("resources");
        long memory = spec.memoryMb() * 1024L * 1024L;
        res.putObject("memory").put("limit", memory).put("swap", memory);
        res.putObject("cpu").put("quota", spec.vcpus() * 100_000L).put("period", 100_000L).put("shares", cpuShares);
        res.putObject("pids").put("limit", spec.maxProcesses());
        res.putArray("devices").addObject().put("allow", false).put("access", "rwm");
        ArrayNode masked = linux.putArray("maskedPaths");
        MASKED.forEach(masked::add);
        ArrayNode ro = linux.putArray("readonlyPaths");
        READ_ONLY.forEach(ro::add);
        linux.set("seccomp", SeccompProfile.build(json));
        return c;
    }

    /** A sandbox may not be given more open files than the node itself may have. */
    static long hostOpenFilesHardLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String hard = line.substring(26).trim().split("\\s+")[1];
                    return hard.equals("unlimited") ? 1 << 20 : Long.parseLong(hard);
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // fall through
        }
        return 4096;
    }

    private static void mount(ArrayNode mounts, String destination, String type, String source, String... options) {
        ObjectNode m = mounts.addObject().put("destination", destination).put("type", type).put("source", source);
        if (options.length > 0) {
            ArrayNode o = m.putArray("options");
            for (String opt : options) o.add(opt);
        }
    }
}
