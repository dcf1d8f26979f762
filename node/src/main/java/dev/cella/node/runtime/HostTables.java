package dev.cella.node.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The host's kernel-wide tables that sandboxes share, sized so that no sandbox fills one
 * for everybody. The open-file table: a sandbox's files are charged to its memory cgroup
 * (~470 bytes each), so one sandbox of 512 MiB could hold a million and three could fill a
 * default {@code fs.file-max}; raised as systemd does, each sandbox's memory limit is what
 * bounds its files. The pseudo-terminal count: each sandbox's devpts is bounded
 * ({@link OciConfig#PTYS_PER_SANDBOX}), and the host's limit raised to the kernel's most.
 * Only ever raised, never lowered.
 */
public final class HostTables {
    private static final Logger log = LoggerFactory.getLogger(HostTables.class);
    /** The sysctls, under /proc/sys, and the least each must be. */
    static final Map<String, Long> AT_LEAST = Map.of(
            "fs/file-max", Long.MAX_VALUE,
            "kernel/pty/max", 1L << 20); // NR_UNIX98_PTY_MAX

    private final Path procSys;

    public HostTables(Path procSys) {
        this.procSys = procSys;
    }

    /**
     * Raises each table below its least; returns what it changed ("fs/file-max 2466116 -> ...").
     * Not the file table when the kernel was booted without kernel-memory accounting
     * ({@code cgroup.memory=nokmem} on {@code kernelCommandLine}): then no cgroup bounds a
     * sandbox's files, and the table's own limit is the only one.
     */
    public List<String> raise(String kernelCommandLine) {
        List<String> changed = new ArrayList<>();
        boolean kmemAccounted = !kernelCommandLine.contains("cgroup.memory=nokmem");
        AT_LEAST.forEach((name, least) -> {
            if (name.equals("fs/file-max") && !kmemAccounted) return;
            Path file = procSys.resolve(name);
            try {
                long now = Long.parseLong(Files.readString(file).strip());
                if (now >= least) return;
                Files.writeString(file, Long.toString(least));
                changed.add(name + " " + now + " -> " + least);
            } catch (IOException | NumberFormatException e) {
                log.warn("could not raise {}: {} (sandboxes share that table with the host)", name, e.toString());
            }
        });
        changed.forEach(c -> log.info("host table raised: {}", c));
        return changed;
    }
}
