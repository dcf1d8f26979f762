package dev.cella.node.api;

import dev.cella.node.sandbox.SandboxRecord;
import dev.cella.node.sandbox.SandboxState;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** The report of {@code GET /v1/node}, with the pool's totals and the start queue as the caller has them. */
    public NodeReport report(List<SandboxRecord> sandboxes, Map<String, Integer> pool, NodeReport.StartQueue starts) throws IOException {
        long[] mem = memInfo();
        FileStore fs = Files.getFileStore(stateDir);
        List<SandboxRecord> active = sandboxes.stream().filter(r -> r.state() != SandboxState.HIBERNATED).toList();
        var counts = new NodeReport.Counts(
                sandboxes.stream().filter(r -> r.state() == SandboxState.RUNNING).count(),
                sandboxes.stream().filter(r -> r.state() == SandboxState.PAUSED).count(),
                sandboxes.stream().filter(r -> r.state() == SandboxState.HIBERNATED).count());
        var committed = new NodeReport.Committed(
                active.stream().mapToInt(r -> r.spec().vcpus()).sum(),
                active.stream().mapToLong(r -> r.spec().memoryMb()).sum(),
                sandboxes.stream().mapToLong(r -> r.spec().diskMb()).sum());
        return new NodeReport(nodeId, driverKind, proxyPort, Runtime.getRuntime().availableProcessors(), mem[0] / 1024, mem[1] / 1024,
                fs.getTotalSpace() >> 20, fs.getUsableSpace() >> 20, counts, committed, pool, starts);
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
