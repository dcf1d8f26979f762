package dev.cella.node.metrics;

import java.util.LinkedHashMap;
import java.util.Map;

/** One sample (or average of samples) of a sandbox, as the Wrenn API's MetricPoint: CPU % of its vCPUs, bytes. */
public record MetricPoint(long timestampUnix, double cpuPct, long memBytes, long diskBytes) {
    /** Seed 004's MetricPoint as JSON: {timestamp_unix, cpu_pct, mem_bytes, disk_bytes}. */
    public Map<String, Object> wire() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("timestamp_unix", timestampUnix);
        m.put("cpu_pct", cpuPct);
        m.put("mem_bytes", memBytes);
        m.put("disk_bytes", diskBytes);
        return m;
    }
}
