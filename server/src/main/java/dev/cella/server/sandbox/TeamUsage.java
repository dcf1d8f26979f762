package dev.cella.server.sandbox;

import dev.cella.node.problem.Problem;
import dev.cella.server.db.Jdbc;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What each team runs, sampled every 10 s from the server's table (running count, vCPUs
 * and memory of running capsules), kept 31 days, for {@code /v1/capsules/stats}: the
 * current figures, the peaks of 30 days, and a series per range of the highest value in
 * each bucket (buckets without samples are left out).
 */
public final class TeamUsage {
    public static final Duration INTERVAL = Duration.ofSeconds(10);
    private static final long KEEP_MS = Duration.ofDays(31).toMillis();
    /** Range -> {window seconds, bucket seconds}. */
    private static final Map<String, long[]> RANGES = Map.of("5m", new long[] {300, 10}, "1h", new long[] {3600, 30},
            "6h", new long[] {21600, 180}, "24h", new long[] {86400, 720}, "30d", new long[] {30L * 86400, 21600});

    private final Jdbc db;
    private final SandboxRepository sandboxes;

    public TeamUsage(Jdbc db, SandboxRepository sandboxes) {
        this.db = db;
        this.sandboxes = sandboxes;
    }

    record Figures(int running, int vcpus, int memoryMb) {}

    private Map<String, Figures> current() {
        Map<String, int[]> sums = new HashMap<>();
        for (SandboxRow r : sandboxes.all()) {
            if (r.state() == RowState.PAUSED) continue;
            int[] s = sums.computeIfAbsent(r.teamId(), k -> new int[3]);
            s[0]++;
            s[1] += r.vcpus();
            s[2] += r.memoryMb();
        }
        Map<String, Figures> out = new HashMap<>();
        sums.forEach((team, s) -> out.put(team, new Figures(s[0], s[1], s[2])));
        return out;
    }

    /** One round of samples, for every team that runs something; old samples go. */
    public void sample(long nowMillis) {
        current().forEach((team, f) -> db.update("INSERT INTO team_usage (team_id, sampled_at, running, vcpus, memory_mb) VALUES (?, ?, ?, ?, ?)",
                team, nowMillis, f.running(), f.vcpus(), f.memoryMb()));
        db.update("DELETE FROM team_usage WHERE sampled_at < ?", nowMillis - KEEP_MS);
    }

    /** The Wrenn API's CapsuleStats. */
    public Map<String, Object> stats(String teamId, String range) {
        long[] r = RANGES.get(range);
        if (r == null) throw new Problem.Invalid("range must be one of: 5m, 1h, 6h, 24h, 30d");
        long now = System.currentTimeMillis();
        Figures cur = current().getOrDefault(teamId, new Figures(0, 0, 0));
        Map<String, Object> current = new LinkedHashMap<>();
        current.put("running_count", cur.running());
        current.put("vcpus_reserved", cur.vcpus());
        current.put("memory_mb_reserved", cur.memoryMb());
        current.put("sampled_at", Instant.ofEpochMilli(now).toString());
        int[] peak = db.one("SELECT MAX(running), MAX(vcpus), MAX(memory_mb) FROM team_usage WHERE team_id = ? AND sampled_at >= ?",
                rs -> new int[] {rs.getInt(1), rs.getInt(2), rs.getInt(3)}, teamId, now - Duration.ofDays(30).toMillis()).orElse(new int[3]);
        Map<String, Object> peaks = new LinkedHashMap<>();
        peaks.put("running_count", Math.max(peak[0], cur.running()));
        peaks.put("vcpus", Math.max(peak[1], cur.vcpus()));
        peaks.put("memory_mb", Math.max(peak[2], cur.memoryMb()));
        long bucketMs = r[1] * 1000;
        List<String> labels = new ArrayList<>();
        List<Integer> running = new ArrayList<>(), vcpus = new ArrayList<>(), memory = new ArrayList<>();
        db.query("SELECT (sampled_at / ?) * ? AS bucket, MAX(running), MAX(vcpus), MAX(memory_mb) FROM team_usage"
                        + " WHERE team_id = ? AND sampled_at >= ? GROUP BY 1 ORDER BY 1",
                rs -> {
                    labels.add(Instant.ofEpochMilli(rs.getLong(1)).toString());
                    running.add(rs.getInt(2));
                    vcpus.add(rs.getInt(3));
                    memory.add(rs.getInt(4));
                    return null;
                }, bucketMs, bucketMs, teamId, now - r[0] * 1000);
        Map<String, Object> series = new LinkedHashMap<>();
        series.put("labels", labels);
        series.put("running", running);
        series.put("vcpus", vcpus);
        series.put("memory_mb", memory);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("range", range);
        out.put("current", current);
        out.put("peaks", peaks);
        out.put("series", series);
        return out;
    }
}
