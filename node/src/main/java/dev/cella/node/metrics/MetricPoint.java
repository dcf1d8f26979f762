package dev.cella.node.metrics;

/** One sample (or average of samples) of a sandbox, as seed 004's MetricPoint: CPU % of its vCPUs, bytes. */
public record MetricPoint(long timestampUnix, double cpuPct, long memBytes, long diskBytes) {}
