package dev.cella.node.api;

import dev.cella.node.sandbox.SandboxRecord;
import dev.cella.node.sandbox.SandboxState;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What this node has and what its sandboxes have been promised, for the scheduler:
 * CPUs, memory and disk (total, free, committed to running sandboxes) and counts.
 */
public final class NodeCapacity {
    private final String nodeId;
    private final String driverKind;
    private final Path stateDir;
    private final int proxyPort;

    /** @param proxyPort the port of this node's sandbox proxy, where a server sends the traffic of its sandboxes */
    public NodeCapacity(String nodeId, String driverKind, Path stateDir, int proxyPort) {
        this.nodeId = nodeId;
        this.driverKind = driverKind;
        this.stateDir = stateDir;
        this.proxyPort = proxyPort;
    }

    public Map<String, Object> report(List<SandboxRecord> sandboxes) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nodeId", nodeId);
        m.put("driver", driverKind);
        m.put("proxyPort", proxyPort);
        m.put("cpus", Runtime.getRuntime().availableProcessors());
        long[] mem = memInfo();
        m.put("memoryMb", mem[0] / 1024);
        m.put("memoryAvailableMb", mem[1] / 1024);
        FileStore fs = Files.getFileStore(stateDir);
        m.put("diskMb", fs.getTotalSpace() >> 20);
        m.put("diskFreeMb", fs.getUsableSpace() >> 20);
        List<SandboxRecord> active = sandboxes.stream().filter(r -> r.state() != SandboxState.HIBERNATED).toList();
        m.put("sandboxes", Map.of(
                "running", sandboxes.stream().filter(r -> r.state() == SandboxState.RUNNING).count(),
                "paused", sandboxes.stream().filter(r -> r.state() == SandboxState.PAUSED).count(),
                "hibernated", sandboxes.stream().filter(r -> r.state() == SandboxState.HIBERNATED).count()));
        m.put("committed", Map.of(
                "vcpus", active.stream().mapToInt(r -> r.spec().vcpus()).sum(),
                "memoryMb", active.stream().mapToLong(r -> r.spec().memoryMb()).sum(),
                "diskMb", sandboxes.stream().mapToLong(r -> r.spec().diskMb()).sum()));
        return m;
    }

    /** {MemTotal, MemAvailable} in KiB. */
    private static long[] memInfo() throws IOException {
        long total = 0, available = 0;
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) total = Long.parseLong(line.replaceAll("\\D", ""));
            if (line.startsWith("MemAvailable:")) available = Long.parseLong(line.replaceAll("\\D", ""));
        }
        return new long[] {total, available};
    }
}
