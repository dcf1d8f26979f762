package dev.cella.node.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The cgroup of one container, written directly. crun made it (its OCI config names
 * {@code /cella/<name>}); freezing, thawing and changing limits are single writes to its
 * files, where {@code crun pause|resume|update} cost three process spawns each (the hybrid
 * workaround's unshare and shell, then crun): ~10 ms against ~0.1 ms. v1 has one directory
 * per controller, v2 one directory.
 */
final class SandboxCgroup {
    private static final Path ROOT = Path.of("/sys/fs/cgroup");
    private static final long FREEZE_LIMIT_NANOS = 5_000_000_000L;

    private final CgroupLayout layout;
    private final String name;

    SandboxCgroup(CgroupLayout layout, String name) {
        this.layout = layout;
        this.name = name;
    }

    private Path v1(String controller) {
        Path p = ROOT.resolve(controller).resolve("cella").resolve(name);
        if (!Files.isDirectory(p) && controller.equals("cpu")) p = ROOT.resolve("cpu,cpuacct").resolve("cella").resolve(name);
        return p;
    }

    private Path v2() {
        return ROOT.resolve("cella").resolve(name);
    }

    void freeze() throws IOException {
        if (layout == CgroupLayout.V2) {
            Files.writeString(v2().resolve("cgroup.freeze"), "1");
            awaitState(v2().resolve("cgroup.events"), "frozen 1");
        } else {
            Files.writeString(v1("freezer").resolve("freezer.state"), "FROZEN");
            awaitState(v1("freezer").resolve("freezer.state"), "FROZEN");
        }
    }

    void thaw() throws IOException {
        if (layout == CgroupLayout.V2) {
            Files.writeString(v2().resolve("cgroup.freeze"), "0");
        } else {
            Files.writeString(v1("freezer").resolve("freezer.state"), "THAWED");
        }
    }

    /** Freezing is not instantaneous: the kernel stops each task at its next chance (v1 reads FREEZING meanwhile). */
    private static void awaitState(Path file, String wanted) throws IOException {
        long deadline = System.nanoTime() + FREEZE_LIMIT_NANOS;
        while (true) {
            String s = Files.readString(file);
            if (s.contains(wanted)) return;
            if (System.nanoTime() > deadline) throw new IOException("cgroup " + file + " did not reach " + wanted + " (" + s.strip() + ")");
            Thread.onSpinWait();
            try {
                Thread.sleep(0, 200_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while freezing", e);
            }
        }
    }

    /** Sets the limits a sandbox was given (the same values its OCI config would hold). */
    void limit(int vcpus, long memoryBytes, int maxProcesses) throws IOException {
        if (layout == CgroupLayout.V2) {
            Path d = v2();
            Files.writeString(d.resolve("cpu.max"), (vcpus * 100_000L) + " 100000");
            Files.writeString(d.resolve("cpu.weight"), "100"); // a pooled sandbox was started with the least weight
            Files.writeString(d.resolve("memory.max"), Long.toString(memoryBytes));
            Files.writeString(d.resolve("memory.swap.max"), "0");
            Files.writeString(d.resolve("pids.max"), Integer.toString(maxProcesses));
        } else {
            Files.writeString(v1("cpu").resolve("cpu.cfs_quota_us"), Long.toString(vcpus * 100_000L));
            Files.writeString(v1("cpu").resolve("cpu.shares"), Long.toString(OciConfig.CPU_SHARES)); // a pooled one had the least
            Path mem = v1("memory");
            // memory+swap may never be below memory: raise in the order that keeps that true
            long current = Long.parseLong(Files.readString(mem.resolve("memory.limit_in_bytes")).strip());
            Path memsw = mem.resolve("memory.memsw.limit_in_bytes");
            boolean swapAccounting = Files.exists(memsw);
            if (memoryBytes > current) {
                if (swapAccounting) Files.writeString(memsw, Long.toString(memoryBytes));
                Files.writeString(mem.resolve("memory.limit_in_bytes"), Long.toString(memoryBytes));
            } else {
                Files.writeString(mem.resolve("memory.limit_in_bytes"), Long.toString(memoryBytes));
                if (swapAccounting) Files.writeString(memsw, Long.toString(memoryBytes));
            }
            Files.writeString(v1("pids").resolve("pids.max"), Integer.toString(maxProcesses));
        }
    }
}
