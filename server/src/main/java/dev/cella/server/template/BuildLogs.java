package dev.cella.server.template;

import dev.cella.server.db.Jdbc;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** A build's log lines, numbered, in the database (so any server of a fleet can stream them). */
public final class BuildLogs {
    private final Jdbc db;
    private final Map<String, AtomicInteger> next = new ConcurrentHashMap<>();

    public BuildLogs(Jdbc db) {
        this.db = db;
    }

    public record Line(int seq, long at, String level, String text) {}

    public void append(String buildId, String level, String text) {
        int seq = next.computeIfAbsent(buildId, id -> new AtomicInteger(
                db.one("SELECT COALESCE(MAX(seq), -1) FROM build_logs WHERE build_id = ?", rs -> rs.getInt(1), id).orElse(-1) + 1))
                .getAndIncrement();
        db.update("INSERT INTO build_logs (build_id, seq, at, level, line) VALUES (?, ?, ?, ?, ?)", buildId, seq, System.currentTimeMillis(),
                level, text.length() > 8000 ? text.substring(0, 8000) + "…" : text);
    }

    /** The lines from {@code fromSeq} on, at most {@code limit}. */
    public List<Line> read(String buildId, int fromSeq, int limit) {
        return db.query("SELECT seq, at, level, line FROM build_logs WHERE build_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
                rs -> new Line(rs.getInt(1), rs.getLong(2), rs.getString(3), rs.getString(4)), buildId, fromSeq, limit);
    }

    void done(String buildId) {
        next.remove(buildId);
    }
}
