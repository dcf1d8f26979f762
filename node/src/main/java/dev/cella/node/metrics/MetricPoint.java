package dev.cella.node.metrics;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One sample (or average of samples) of a sandbox, as the Wrenn API's MetricPoint: CPU % of
 * its vCPUs, bytes. In JSON as that API names it: {timestamp_unix, cpu_pct, mem_bytes, disk_bytes}.
 */
public record MetricPoint(@JsonProperty("timestamp_unix") long timestampUnix, @JsonProperty("cpu_pct") double cpuPct,
                          @JsonProperty("mem_bytes") long memBytes, @JsonProperty("disk_bytes") long diskBytes) {}
