package dev.cella.envd.metrics;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code GET /metrics} reports about the sandbox: CPU use since the previous call,
 * memory (the sandbox's cgroup when envd can see it, else the whole machine's view)
 * and the root filesystem's disk use.
 */
public final class SandboxMetrics {
    private long lastTotal = -1;
    private long lastIdle = -1;

    public synchronized Map<String, Object> sample() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ts", System.currentTimeMillis() / 1000);
        m.put("cpu_count", Runtime.getRuntime().availableProcessors());
        m.put("cpu_used_pct", cpuPercent());
        long[] mem = memory();
        m.put("mem_total", mem[0]);
        m.put("mem_used", mem[1]);
        m.put("mem_total_mib", mem[0] / (1024 * 1024));
        m.put("mem_used_mib", mem[1] / (1024 * 1024));
        try {
            FileStore root = Files.getFileStore(Path.of("/"));
            m.put("disk_total", root.getTotalSpace());
            m.put("disk_used", root.getTotalSpace() - root.getUnallocatedSpace());
        } catch (IOException e) {
            m.put("disk_total", 0L);
            m.put("disk_used", 0L);
        }
        return m;
    }

    /** Percentage of all CPUs busy since the previous sample (the first sample measures 100 ms). */
    private double cpuPercent() {
        long[] a = cpuTimes();
        if (a == null) return 0;
        if (lastTotal < 0) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            lastTotal = a[0];
            lastIdle = a[1];
            a = cpuTimes();
            if (a == null) return 0;
        }
        long total = a[0] - lastTotal, idle = a[1] - lastIdle;
        lastTotal = a[0];
        lastIdle = a[1];
        if (total <= 0) return 0;
        return Math.round(10000.0 * (total - idle) / total) / 100.0;
    }

    private static long[] cpuTimes() {
        try {
            String line = Files.readAllLines(Path.of("/proc/stat")).getFirst();
            String[] f = line.trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length; i++) total += Long.parseLong(f[i]);
            long idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
            return new long[] {total, idle};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** {total, used} in bytes: the cgroup's limit and usage when limited, else /proc/meminfo. */
    private static long[] memory() {
        long total = 0, available = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) total = kib(line);
                else if (line.startsWith("MemAvailable:")) available = kib(line);
            }
        } catch (IOException ignored) {
            // no /proc/meminfo: zeros
        }
        long used = total - available;
        for (List<String> pair : List.of(
                List.of("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                List.of("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"))) {
            try {
                String max = Files.readString(Path.of(pair.get(0))).trim();
                long usage = Long.parseLong(Files.readString(Path.of(pair.get(1))).trim());
                if (!max.equals("max")) {
                    long limit = Long.parseLong(max);
                    if (limit > 0 && limit < total) total = limit;
                }
                used = Math.min(usage, total);
                break;
            } catch (IOException | RuntimeException ignored) {
                // not this cgroup layout
            }
        }
        return new long[] {total, Math.max(0, used)};
    }

    private static long kib(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
    }
}
