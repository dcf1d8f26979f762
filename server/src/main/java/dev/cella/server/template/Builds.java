package dev.cella.server.template;

import dev.cella.server.db.Jdbc;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/** The template_builds table: one row per build of a template, with its progress. */
public final class Builds {
    private final Jdbc db;

    public Builds(Jdbc db) {
        this.db = db;
    }

    public record Build(String id, String templateId, BuildStatus status, int stepIndex, int stepTotal, String layer, String error,
                        long createdAt, Long startedAt, Long finishedAt) {
        public boolean finished() {
            return status.finished();
        }
    }

    public void insert(String id, String templateId, long now) {
        db.update("INSERT INTO template_builds (id, template_id, status, created_at) VALUES (?, ?, 'waiting', ?)", id, templateId, now);
    }

    public void started(String id, int total) {
        db.update("UPDATE template_builds SET status = 'building', step_total = ?, started_at = ? WHERE id = ?", total, System.currentTimeMillis(), id);
    }

    public void step(String id, int index, String layer) {
        db.update("UPDATE template_builds SET step_index = ?, layer = ? WHERE id = ?", index, layer, id);
    }

    public void finished(String id, BuildStatus status, String error) {
        db.update("UPDATE template_builds SET status = ?, error = ?, finished_at = ? WHERE id = ?", status.db(), error, System.currentTimeMillis(), id);
    }

    public Optional<Build> get(String id) {
        return db.one("SELECT * FROM template_builds WHERE id = ?", Builds::row, id);
    }

    public List<Build> ofTemplate(String templateId) {
        return db.query("SELECT * FROM template_builds WHERE template_id = ? ORDER BY created_at, id", Builds::row, templateId);
    }

    /** Builds a crashed server left waiting or building: they failed. */
    public int failUnfinished() {
        return db.update("UPDATE template_builds SET status = 'failed', error = 'the server stopped during the build', finished_at = ?"
                + " WHERE status IN ('waiting', 'building')", System.currentTimeMillis());
    }

    private static Build row(ResultSet rs) throws SQLException {
        long s = rs.getLong("started_at");
        Long started = rs.wasNull() ? null : s;
        long f = rs.getLong("finished_at");
        Long finished = rs.wasNull() ? null : f;
        return new Build(rs.getString("id"), rs.getString("template_id"), BuildStatus.of(rs.getString("status")), rs.getInt("step_index"),
                rs.getInt("step_total"), rs.getString("layer"), rs.getString("error"), rs.getLong("created_at"), started, finished);
    }
}
