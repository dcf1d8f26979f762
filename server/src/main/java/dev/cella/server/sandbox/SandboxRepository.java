package dev.cella.server.sandbox;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.cella.server.db.Jdbc;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The sandboxes table. Every read a team's request makes is scoped to that team; the
 * unscoped reads serve the server itself (the proxy, which is reached without an API
 * key, and the reconciler).
 */
public final class SandboxRepository {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Every read of a row parses its metadata: one reader for them all. */
    private static final ObjectReader METADATA = JSON.readerFor(new TypeReference<Map<String, String>>() {});
    private final Jdbc db;
    /** Told the id of every row deleted or whose state changed (the proxy's route cache). */
    private final List<Consumer<String>> changed = new CopyOnWriteArrayList<>();

    public SandboxRepository(Jdbc db) {
        this.db = db;
    }

    /** Calls {@code listener} with the id of every row deleted (killed, ended, forgotten) or paused or resumed, after the write. */
    public void onChange(Consumer<String> listener) {
        changed.add(listener);
    }

    private void changed(String id) {
        for (var l : changed) l.accept(id);
    }

    public void insert(SandboxRow r) {
        db.update("INSERT INTO sandboxes (id, team_id, template_id, node_id, state, metadata, envd_access_token, vcpus, memory_mb, disk_mb,"
                        + " auto_pause, started_at, end_at, traffic_access_token, timeout_sec, last_active_at, created_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                r.id(), r.teamId(), r.templateId(), r.nodeId(), r.state().column, json(r.metadata()), r.envdAccessToken(), r.vcpus(),
                r.memoryMb(), r.diskMb(), r.autoPause(), r.startedAt(), r.endAt(), r.trafficAccessToken(), r.inactivityTimeoutSec(),
                r.lastActiveAt(), r.startedAt());
    }

    public void updateState(String id, RowState state, Long endAt) {
        db.update("UPDATE sandboxes SET state = ?, end_at = ? WHERE id = ?", state.column, endAt, id);
        changed(id);
    }

    /** The sandbox of a row inserted before it now runs, since then and until then. */
    public void created(String id, long startedAt, Long endAt) {
        db.update("UPDATE sandboxes SET state = 'running', started_at = ?, end_at = ?, last_active_at = ? WHERE id = ?",
                startedAt, endAt, startedAt, id);
    }

    public void delete(String id) {
        db.update("DELETE FROM sandboxes WHERE id = ?", id);
        changed(id);
    }

    public Optional<SandboxRow> find(String teamId, String id) {
        return db.one("SELECT * FROM sandboxes WHERE id = ? AND team_id = ?", SandboxRepository::row, id, teamId);
    }

    /** For the proxy: traffic names a sandbox, not a team. */
    public Optional<SandboxRow> findAnyTeam(String id) {
        return db.one("SELECT * FROM sandboxes WHERE id = ?", SandboxRepository::row, id);
    }

    /** For the proxy: sandboxes whose envd token may have signed a file URL. */
    public List<SandboxRow> withEnvdToken() {
        return db.query("SELECT * FROM sandboxes WHERE envd_access_token IS NOT NULL", SandboxRepository::row);
    }

    public List<SandboxRow> onNode(String nodeId) {
        return db.query("SELECT * FROM sandboxes WHERE node_id = ?", SandboxRepository::row, nodeId);
    }

    /** How many sandboxes each node has: what placement balances. */
    public Map<String, Integer> countByNode() {
        Map<String, Integer> m = new HashMap<>();
        db.query("SELECT node_id, COUNT(*) FROM sandboxes GROUP BY node_id", rs -> m.put(rs.getString(1), rs.getInt(2)));
        return m;
    }

    /** What the team holds, summed by the database (a create asks it: no rows read). */
    public TeamQuota.Held held(String teamId) {
        return db.one("SELECT COUNT(*), COALESCE(SUM(vcpus), 0), COALESCE(SUM(memory_mb), 0) FROM sandboxes WHERE team_id = ?",
                rs -> new TeamQuota.Held(rs.getInt(1), rs.getLong(2), rs.getLong(3)), teamId).orElse(new TeamQuota.Held(0, 0, 0));
    }

    public List<SandboxRow> list(String teamId) {
        return db.query("SELECT * FROM sandboxes WHERE team_id = ? ORDER BY started_at, id", SandboxRepository::row, teamId);
    }

    private static SandboxRow row(ResultSet rs) throws SQLException {
        long end = rs.getLong("end_at");
        Long endAt = rs.wasNull() ? null : end;
        return new SandboxRow(rs.getString("id"), rs.getString("team_id"), rs.getString("template_id"), rs.getString("node_id"),
                RowState.of(rs.getString("state")), metadata(rs.getString("metadata")), rs.getString("envd_access_token"), rs.getInt("vcpus"),
                rs.getInt("memory_mb"), rs.getInt("disk_mb"), rs.getBoolean("auto_pause"), rs.getLong("started_at"), endAt,
                rs.getString("traffic_access_token"), rs.getInt("timeout_sec"), nullableLong(rs, "last_active_at"));
    }

    private static Long nullableLong(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }

    public void touch(String id, long at) {
        db.update("UPDATE sandboxes SET last_active_at = ? WHERE id = ?", at, id);
    }

    /** The team's running and paused sandboxes, as the usage sampler counts them. */
    public List<SandboxRow> all() {
        return db.query("SELECT * FROM sandboxes", SandboxRepository::row);
    }

    private static String json(Map<String, String> m) {
        try {
            return JSON.writeValueAsString(m);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> metadata(String s) {
        try {
            return s == null || s.equals("{}") ? Map.of() : METADATA.readValue(s);
        } catch (Exception e) {
            return Map.of();
        }
    }
}
