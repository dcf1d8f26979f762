package dev.cella.node.api;

import dev.cella.node.pool.WarmPool;

import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/node}: what a node has and what its sandboxes have been promised, for an
 * operator and a scheduler. The server binds the same record (today it reads the node's id
 * and proxy port of it).
 *
 * @param proxyPort the port of the node's sandbox proxy, where a server sends its sandboxes' traffic
 * @param pool      ready pooled sandboxes by template
 */
public record NodeReport(String nodeId, String driver, int proxyPort, int cpus, long memoryMb, long memoryAvailableMb,
                         long diskMb, long diskFreeMb, Counts sandboxes, Committed committed, Map<String, Integer> pool,
                         StartQueue starts) {
    /** Sandboxes by state. */
    public record Counts(long running, long paused, long hibernated) {}

    /** What the node's sandboxes were promised: vCPUs and memory of those not hibernated, disk of all. */
    public record Committed(long vcpus, long memoryMb, long diskMb) {}

    /** The start queue now: starts running, creates waiting, and how many may run at once. */
    public record StartQueue(int running, int waiting, int concurrent) {}

    /** {@code GET /v1/pool}: each template's pool and the start queue. */
    public record Pool(List<WarmPool.TemplatePool> templates, StartQueue starts) {}
}
