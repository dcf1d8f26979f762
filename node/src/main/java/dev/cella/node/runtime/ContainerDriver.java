package dev.cella.node.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.envd.EnvdRuntime;
import dev.cella.node.envd.EnvdSetup;
import dev.cella.node.net.SandboxAddress;
import dev.cella.node.net.SandboxNetwork;
import dev.cella.node.sandbox.SandboxSpec;
import dev.cella.node.sys.Command;
import dev.cella.node.sys.Paths;
import dev.cella.node.template.NodeTemplates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The {@code container} driver: each sandbox is a crun container with an overlay root
 * (a writable layer over the template's read-only tree), its own network namespace,
 * cgroup limits, and envd as pid 1. Containers run detached, so they outlive the node.
 *
 * <p>Layout per sandbox under {@code <state>/sandboxes/<id>/}: {@code disk.img} (the
 * writable layer, an ext4 image of the sandbox's disk size) mounted on {@code layer/}
 * (holding the overlay's {@code upper/} and {@code work/}), {@code rootfs/} (the overlay
 * mount point), {@code config.json} (the OCI bundle), {@code address.json},
 * {@code envd.log}, and {@code hibernated} while the sandbox sleeps on disk.
 */
public final class ContainerDriver implements RuntimeDriver {
    private static final Logger log = LoggerFactory.getLogger(ContainerDriver.class);
    static final String PREFIX = "cella-";
    static final String DISK_IMAGE = "disk.img";
    static final String HIBERNATED = "hibernated";

    private final Path sandboxes;
    private final Crun crun;
    private final SandboxNetwork network;
    private final EnvdRuntime envd;
    private final EnvdSetup envdSetup;
    private final ObjectMapper json;
    private final Map<String, SandboxAddress> addresses = new ConcurrentHashMap<>();
    private final DiskStock disks;
    /** Starts hold it shared, a reconcile alone: see {@link #start}. */
    private final ReadWriteLock starting = new ReentrantReadWriteLock();

    /** A driver that formats each new sandbox's disk when it starts (no stock of ready disks). */
    public ContainerDriver(Path stateDir, Crun crun, SandboxNetwork network, EnvdRuntime envd, EnvdSetup envdSetup, ObjectMapper json)
            throws IOException {
        this(stateDir, crun, network, envd, envdSetup, json, new DiskStock(stateDir.resolve("disks"), 0));
    }

    public ContainerDriver(Path stateDir, Crun crun, SandboxNetwork network, EnvdRuntime envd, EnvdSetup envdSetup, ObjectMapper json,
                           DiskStock disks) throws IOException {
        this.disks = disks;
        // root's alone: below are the sandboxes' files, which their root may have made setuid or device nodes
        this.sandboxes = Paths.ownerOnly(Files.createDirectories(stateDir.resolve("sandboxes")));
        this.crun = crun;
        this.network = network;
        this.envd = envd;
        this.envdSetup = envdSetup;
        this.json = json;
    }

    @Override
    public String kind() {
        return "container";
    }

    static String containerName(String id) {
        return PREFIX + id;
    }

    Path dir(String id) {
        return sandboxes.resolve(id);
    }

    @Override
    public RunningSandbox create(SandboxSpec spec) throws IOException {
        return create(spec, false);
    }

    @Override
    public RunningSandbox create(SandboxSpec spec, boolean background) throws IOException {
        Path dir = dir(spec.id());
        if (Files.exists(dir)) throw new IllegalStateException("sandbox " + spec.id() + " already exists on this node");
        return start(spec.id(), spec, true, background);
    }

    /**
     * Gives a pooled sandbox (made by {@link #create} with a pool spec, then frozen) what a
     * create asked for: its limits, hostname and internet access, then thaws it and tells
     * envd its variables, token, user and directory. Everything else it had already: the
     * container, its disk, mounts and network, envd up. Its disk size is the pool's.
     */
    @Override
    public RunningSandbox assign(String name, SandboxSpec spec) throws IOException {
        long t0 = System.nanoTime();
        SandboxAddress address = addresses.get(name);
        if (address == null) throw new IOException("pooled sandbox " + name + " is not on this node");
        SandboxCgroup cgroup = new SandboxCgroup(crun.layout(), name);
        cgroup.limit(spec.vcpus(), spec.memoryMb() * 1024L * 1024L, spec.maxProcesses());
        UtsNamespace.setHostname(Long.parseLong(Files.readString(dir(name).resolve("pid")).strip()), spec.id());
        // pooled sandboxes are made with internet access, what most creates ask for
        if (!spec.internet()) network.denyInternet(address);
        cgroup.thaw();
        long thawed = System.nanoTime();
        envdSetup.init(address.sandboxIp(), spec.envVars(), spec.envdAccessToken(), spec.defaultUser(), spec.defaultWorkdir(), null);
        log.debug("sandbox {} from pooled {}: limits, hostname, network and thaw {} ms, init {} ms", spec.id(), name,
                (thawed - t0) / 1_000_000, (System.nanoTime() - thawed) / 1_000_000);
        return new RunningSandbox(spec.id(), address, EnvdSetup.base(address.sandboxIp()), (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * Starts a sandbox from its directory. A new sandbox gets a fresh writable layer: an
     * ext4 image of the sandbox's disk size on a loop device, so filling it gives ENOSPC
     * inside the sandbox and never fills the host's disk. A sandbox restored from
     * hibernation mounts the layer it had.
     */
    private RunningSandbox start(String name, SandboxSpec spec, boolean fresh, boolean background) throws IOException {
        // a reconcile never runs while a start makes kernel objects it could take for orphans
        starting.readLock().lock();
        try {
            return startLocked(name, spec, fresh, background);
        } finally {
            starting.readLock().unlock();
        }
    }

    private RunningSandbox startLocked(String name, SandboxSpec spec, boolean fresh, boolean background) throws IOException {
        long t0 = System.nanoTime();
        Path dir = dir(name);
        if (!Files.isDirectory(spec.templateRootfs())) throw new IOException("template root filesystem " + spec.templateRootfs() + " is missing");
        Files.createDirectories(dir);
        Path image = dir.resolve(DISK_IMAGE);
        Path layer = Files.createDirectories(dir.resolve("layer"));
        Path rootfs = Files.createDirectories(dir.resolve("rootfs"));
        SandboxAddress address = network.allocate(name);
        addresses.put(name, address);
        try {
            if (fresh) disks.take(spec.diskMb(), image);
            Command.run("mount", "-o", "loop,nodev,nosuid", image.toString(), layer.toString());
            Files.createDirectories(layer.resolve("upper"));
            Files.createDirectories(layer.resolve("work"));
            // nosuid, nodev: what the sandbox's root plants in its files is no setuid program or device for the host
            Command.run("mount", "-t", "overlay", "overlay", "-o",
                    "nosuid,nodev,lowerdir=" + lowerdir(spec.templateRootfs()) + ",upperdir=" + layer.resolve("upper") + ",workdir=" + layer.resolve("work"),
                    rootfs.toString());
            network.create(address, spec.internet());
            json.writeValue(dir.resolve("address.json").toFile(), address);
            json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(),
                    OciConfig.build(json, spec, address, rootfs, envd, "/cella/" + name, background));
            Files.deleteIfExists(dir.resolve(HIBERNATED));
            long prepared = System.nanoTime();
            crun.runDetached(containerName(name), dir, dir.resolve("envd.log"));
            long launched = System.nanoTime();
            envdSetup.awaitHealthy(address.sandboxIp(), Duration.ofSeconds(20));
            long healthy = System.nanoTime();
            envdSetup.init(address.sandboxIp(), spec.envVars(), spec.envdAccessToken(), spec.defaultUser(), spec.defaultWorkdir(), null);
            log.debug("sandbox {}: disk, mounts and network {} ms, crun {} ms, envd up {} ms, init {} ms", name,
                    (prepared - t0) / 1_000_000, (launched - prepared) / 1_000_000, (healthy - launched) / 1_000_000,
                    (System.nanoTime() - healthy) / 1_000_000);
        } catch (IOException | RuntimeException e) {
            String envdLog = readQuietly(dir.resolve("envd.log"));
            if (fresh) stop(name); else release(name);
            throw new IOException("cannot start sandbox " + spec.id() + ": " + e.getMessage()
                    + (envdLog.isBlank() ? "" : "\nenvd said: " + envdLog.strip()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (fresh) stop(name); else release(name);
            throw new IOException("interrupted while starting " + spec.id(), e);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        return new RunningSandbox(spec.id(), address, EnvdSetup.base(address.sandboxIp()), ms);
    }

    /** The overlay's lower directories: the template's root, or its top layer and the layers under it. */
    static String lowerdir(Path templateRootfs) {
        return String.join(":", NodeTemplates.lowerDirs(templateRootfs).stream().map(Path::toString).toList());
    }

    /** The upper directory as it is (whiteouts and opaque-directory attributes kept by cp -a as root). */
    @Override
    public void snapshot(String id, Path target) throws IOException {
        Path upper = dir(id).resolve("layer").resolve("upper");
        if (!Files.isDirectory(upper)) throw new IOException("sandbox " + id + " has no mounted writable layer (hibernated?)");
        Files.createDirectories(target);
        // a sandbox may have written gigabytes: a copy gets far longer than a tool of a start
        Command.run(List.of("cp", "-a", upper + "/.", target.toString()), null, Duration.ofMinutes(30));
    }

    /** Ends the processes and frees every resource, keeping only the writable layer's image on disk. */
    @Override
    public void persist(String id) throws IOException {
        if (!Files.exists(dir(id).resolve(DISK_IMAGE))) throw new IOException("sandbox " + id + " has no writable layer on this node");
        release(id);
        Files.writeString(dir(id).resolve(HIBERNATED), "");
    }

    @Override
    public boolean persisted(String id) {
        return Files.exists(dir(id).resolve(HIBERNATED)) && Files.exists(dir(id).resolve(DISK_IMAGE));
    }

    /** Starts a hibernated sandbox again: its files as they were, new processes. */
    @Override
    public RunningSandbox restore(String name, SandboxSpec spec) throws IOException {
        if (!Files.exists(dir(name).resolve(HIBERNATED))) throw new IOException("sandbox " + spec.id() + " is not hibernated on this node");
        return start(name, spec, false, false);
    }

    private static String readQuietly(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** Best effort at every step: a half-made sandbox is taken apart as far as it got. */
    @Override
    public void stop(String id) throws IOException {
        release(id);
        Paths.deleteTree(dir(id));
    }

    /** Kills the container and undoes mounts and network, leaving the sandbox's files. */
    private void release(String id) throws IOException {
        Path dir = dir(id);
        try {
            new SandboxCgroup(crun.layout(), id).thaw(); // a frozen container takes its SIGKILL only once thawed
        } catch (IOException | RuntimeException notThere) {
            // never started, or gone already
        }
        try {
            crun.delete(containerName(id));
        } catch (IOException e) {
            log.warn("crun delete {}: {}", id, e.getMessage());
        }
        for (Path mount : List.of(dir.resolve("rootfs"), dir.resolve("layer"))) { // the overlay first, then its layer
            if (isMountPoint(mount)) {
                Command.Result r = Command.result(List.of("umount", mount.toString()), null);
                if (!r.ok()) Command.result(List.of("umount", "--lazy", mount.toString()), null);
            }
        }
        SandboxAddress address = addresses.remove(id);
        if (address != null) network.destroy(address);
    }

    static boolean isMountPoint(Path p) throws IOException {
        String target = p.toAbsolutePath().toString();
        return Files.readString(Path.of("/proc/self/mounts")).lines()
                .anyMatch(l -> l.split(" ").length > 1 && l.split(" ")[1].equals(target));
    }

    @Override
    public void freeze(String id) throws IOException {
        new SandboxCgroup(crun.layout(), id).freeze();
    }

    @Override
    public void thaw(String id) throws IOException {
        new SandboxCgroup(crun.layout(), id).thaw();
    }

    /**
     * CPU time and memory from the sandbox's cgroup (v1 controllers or the v2 unified
     * tree), memory without the page cache it could give back; disk is what the
     * writable layer's filesystem has allocated.
     */
    @Override
    public Optional<SandboxUsage> usage(String id) {
        try {
            Path cg = Path.of("/sys/fs/cgroup");
            long cpu, memory;
            Path v2 = cg.resolve("cella").resolve(id);
            if (Files.exists(v2.resolve("cpu.stat"))) {
                cpu = statField(v2.resolve("cpu.stat"), "usage_usec") * 1000;
                memory = Long.parseLong(Files.readString(v2.resolve("memory.current")).trim())
                        - statField(v2.resolve("memory.stat"), "inactive_file");
            } else {
                Path cpuacct = cg.resolve("cpuacct/cella").resolve(id).resolve("cpuacct.usage");
                if (!Files.exists(cpuacct)) cpuacct = cg.resolve("cpu,cpuacct/cella").resolve(id).resolve("cpuacct.usage");
                cpu = Long.parseLong(Files.readString(cpuacct).trim());
                Path mem = cg.resolve("memory/cella").resolve(id);
                memory = Long.parseLong(Files.readString(mem.resolve("memory.usage_in_bytes")).trim())
                        - statField(mem.resolve("memory.stat"), "total_inactive_file");
            }
            FileStore layer = Files.getFileStore(dir(id).resolve("layer"));
            long disk = layer.getTotalSpace() - layer.getUnallocatedSpace();
            return Optional.of(new SandboxUsage(cpu, Math.max(0, memory), disk));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static long statField(Path file, String field) throws IOException {
        for (String line : Files.readAllLines(file)) {
            String[] f = line.split(" ");
            if (f.length == 2 && f[0].equals(field)) return Long.parseLong(f[1]);
        }
        return 0;
    }

    /**
     * Whether the container's first process, envd, is gone or a zombie (it cannot come back:
     * it is pid 1 of its namespace, whose end ends the container). Read from {@code /proc},
     * so a check of every sandbox costs a few file reads.
     */
    @Override
    public Optional<String> exited(String name) {
        Path pidFile = dir(name).resolve("pid");
        long pid;
        try {
            pid = Long.parseLong(Files.readString(pidFile).strip());
        } catch (IOException | NumberFormatException e) {
            return Optional.empty(); // not (yet) started by crun, or stopped: nothing to tell
        }
        String stat;
        try {
            stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        } catch (IOException e) {
            return Optional.of("its envd (pid " + pid + " on the host) is gone" + lastLog(name));
        }
        // the state is the first field after the command name, which is in parentheses and may hold anything
        int close = stat.lastIndexOf(')');
        char state = close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
        return state == 'Z' || state == 'X' ? Optional.of("its envd (pid " + pid + " on the host) exited" + lastLog(name)) : Optional.empty();
    }

    /** The end of envd's log, for the reason a sandbox ended: what envd said last. */
    private String lastLog(String name) {
        try {
            List<String> lines = Files.readAllLines(dir(name).resolve("envd.log"), StandardCharsets.UTF_8);
            if (lines.isEmpty()) return "";
            return "; its log ends: " + String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "";
        }
    }

    /** The addresses recorded by the sandboxes on disk (running or not: binding a stale one is harmless). */
    public List<SandboxAddress> recordedAddresses() throws IOException {
        List<SandboxAddress> out = new ArrayList<>();
        try (var dirs = Files.list(sandboxes)) {
            for (Path d : dirs.toList()) {
                Path f = d.resolve("address.json");
                if (!Files.exists(f)) continue;
                try {
                    out.add(json.readValue(f.toFile(), SandboxAddress.class));
                } catch (IOException e) {
                    log.warn("unreadable {}: {}", f, e.toString()); // its sandbox is not re-adopted either
                }
            }
        }
        return out;
    }

    @Override
    public List<String> running() throws IOException {
        return crun.list().stream().filter(n -> n.startsWith(PREFIX)).map(n -> n.substring(PREFIX.length())).toList();
    }

    @Override
    public Optional<RunningSandbox> reattach(String id, SandboxSpec spec) throws IOException {
        Path addressFile = dir(id).resolve("address.json");
        if (!Files.exists(addressFile)) return Optional.empty();
        Optional<String> status = crun.state(containerName(id)).map(s -> s.path("status").asText());
        if (status.isEmpty() || !(status.get().equals("running") || status.get().equals("paused"))) return Optional.empty();
        SandboxAddress address = json.readValue(addressFile.toFile(), SandboxAddress.class);
        network.claim(address.slot());
        network.bind(address); // the node's rules were made anew at its start
        if (spec.internet()) network.allowInternet(address);
        addresses.put(id, address);
        return Optional.of(new RunningSandbox(id, address, EnvdSetup.base(address.sandboxIp()), 0));
    }

    @Override
    public List<String> reconcile(Set<String> owned) throws IOException {
        starting.writeLock().lock();
        try {
            return reconcileLocked(owned);
        } finally {
            starting.writeLock().unlock();
        }
    }

    private List<String> reconcileLocked(Set<String> owned) throws IOException {
        List<String> removed = new ArrayList<>();
        for (String id : running()) {
            if (!owned.contains(id)) {
                crun.delete(containerName(id));
                removed.add("container " + containerName(id));
            }
        }
        try (var dirs = Files.list(sandboxes)) {
            for (Path d : dirs.toList()) {
                String id = d.getFileName().toString();
                if (owned.contains(id)) continue;
                SandboxAddress a = Files.exists(d.resolve("address.json"))
                        ? json.readValue(d.resolve("address.json").toFile(), SandboxAddress.class) : null;
                if (a != null) addresses.put(id, a);
                stop(id);
                removed.add("sandbox directory " + d + (a != null ? " and its network" : ""));
            }
        }
        Set<String> ownedNetns = new HashSet<>(), ownedInterfaces = new HashSet<>();
        for (String id : owned) {
            SandboxAddress a = addresses.get(id);
            if (a != null) {
                ownedNetns.add(a.netns());
                ownedInterfaces.add(a.hostInterface());
            }
        }
        for (String ns : SandboxNetwork.namespaces()) {
            if (!ownedNetns.contains(ns)) {
                Command.result(List.of("ip", "netns", "del", ns), null);
                removed.add("netns " + ns);
            }
        }
        for (String iface : SandboxNetwork.hostInterfaces()) {
            if (!ownedInterfaces.contains(iface)) {
                Command.result(List.of("ip", "link", "del", iface), null);
                removed.add("interface " + iface);
            }
        }
        List<Path> orphans = cgroupDirs().stream().filter(cg -> !owned.contains(cg.getFileName().toString())).toList();
        // a container nobody owns (its node's state is gone, or another node's was deleted
        // under it) still has its processes, holding its disk and mounts: they end first
        killProcesses(orphans);
        for (Path cg : orphans) {
            removeCgroup(cg);
            removed.add(Files.exists(cg) ? "nothing of cgroup " + cg + " (processes still in it)" : "cgroup " + cg);
        }
        return removed;
    }

    /**
     * Ends every process in these cgroups: thawed first (a frozen task takes its SIGKILL
     * only when thawed), then killed, then waited for a little.
     */
    static void killProcesses(List<Path> cgroups) throws IOException {
        Set<Long> pids = new LinkedHashSet<>(); // on cgroup v1 each process is in every hierarchy's directory
        for (Path cg : cgroups) {
            if (Files.exists(cg.resolve("freezer.state"))) writeQuietly(cg.resolve("freezer.state"), "THAWED");
            if (Files.exists(cg.resolve("cgroup.freeze"))) writeQuietly(cg.resolve("cgroup.freeze"), "0");
        }
        for (Path cg : cgroups) pids.addAll(processes(cg));
        if (pids.isEmpty()) return;
        log.info("ending {} processes of containers nobody owns", pids.size());
        for (long pid : pids) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (System.nanoTime() < deadline && pids.stream().anyMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The processes in a cgroup and the cgroups below it. */
    static List<Long> processes(Path cg) throws IOException {
        List<Long> out = new ArrayList<>();
        try (var walk = Files.walk(cg)) {
            for (Path procs : walk.filter(p -> p.getFileName().toString().equals("cgroup.procs")).toList()) {
                for (String line : Files.readAllLines(procs)) {
                    if (!line.isBlank()) out.add(Long.parseLong(line.strip()));
                }
            }
        } catch (UncheckedIOException | NoSuchFileException e) {
            // gone while we looked
        }
        return out;
    }

    private static void writeQuietly(Path file, String value) {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            log.debug("cannot write {} to {}: {}", value, file, e.toString());
        }
    }

    /** The per-sandbox cgroup directories crun made under {@code cella/} (v1: one per controller; v2: one). */
    static List<Path> cgroupDirs() throws IOException {
        List<Path> out = new ArrayList<>();
        Path root = Path.of("/sys/fs/cgroup");
        List<Path> parents = new ArrayList<>(List.of(root.resolve("cella")));
        if (Files.isDirectory(root)) {
            try (var s = Files.list(root)) {
                s.filter(Files::isDirectory).forEach(c -> parents.add(c.resolve("cella")));
            }
        }
        for (Path parent : parents) {
            if (!Files.isDirectory(parent)) continue;
            try (var s = Files.list(parent)) {
                s.filter(Files::isDirectory).forEach(out::add);
            }
        }
        return out;
    }

    /** A cgroup directory is removed with rmdir, innermost first, once it holds no process. */
    static void removeCgroup(Path cg) throws IOException {
        try (var walk = Files.walk(cg)) {
            for (Path p : walk.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                Command.result(List.of("rmdir", p.toString()), null);
            }
        }
    }
}
