package dev.cella.server.auth;

import dev.cella.server.db.Jdbc;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Teams and their API keys. A key is {@code e2b_} + 40 hex digits (the form the E2B SDK
 * accepts), shown once when made; the database keeps only its SHA-256.
 */
public final class ApiKeys {
    private final Jdbc db;

    public ApiKeys(Jdbc db) {
        this.db = db;
    }

    public boolean anyTeam() {
        return db.one("SELECT id FROM teams LIMIT 1", rs -> rs.getString(1)).isPresent();
    }

    /** A key as listed: never the key itself, only its first characters to tell it apart. */
    public record KeyInfo(String id, String teamId, String name, String prefix, long createdAt, Long lastUsedAt) {}

    /** A key just made: the only time it exists in plain text. */
    public record NewKey(KeyInfo info, String key) {}

    public String createKey(Team team, String name) {
        return create(team.id(), name, null).key();
    }

    public NewKey create(String teamId, String name, String createdBy) {
        String key = "e2b_" + dev.cella.server.Ids.hex(20);
        KeyInfo info = new KeyInfo("key_" + UUID.randomUUID().toString().replace("-", ""), teamId, name, key.substring(0, 12),
                System.currentTimeMillis(), null);
        db.update("INSERT INTO api_keys (id, team_id, name, key_hash, key_prefix, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                info.id(), teamId, name, hash(key), info.prefix(), info.createdAt(), createdBy);
        return new NewKey(info, key);
    }

    public List<KeyInfo> list(String teamId) {
        return db.query("SELECT * FROM api_keys WHERE team_id = ? ORDER BY created_at, id", rs -> {
            long used = rs.getLong("last_used_at");
            return new KeyInfo(rs.getString("id"), rs.getString("team_id"), rs.getString("name"), rs.getString("key_prefix"),
                    rs.getLong("created_at"), rs.wasNull() ? null : used);
        }, teamId);
    }

    /** Deletes one of the team's keys; false when the team has no such key. */
    public boolean delete(String teamId, String keyId) {
        return db.update("DELETE FROM api_keys WHERE team_id = ? AND id = ?", teamId, keyId) > 0;
    }

    /** The team of a presented key, if it is one of ours and its team was not deleted. */
    public Optional<Team> authenticate(String key) {
        if (key == null || !key.matches("e2b_[0-9a-f]{40}")) return Optional.empty();
        String h = hash(key);
        Optional<Team> team = db.one("SELECT t.id, t.name FROM api_keys k JOIN teams t ON t.id = k.team_id WHERE k.key_hash = ?"
                + " AND t.deleted_at IS NULL", rs -> new Team(rs.getString(1), rs.getString(2)), h);
        if (team.isPresent()) touch(h);
        return team;
    }

    /** Last use is written at most once a minute per key: a write per request would cost more than the request. */
    private void touch(String keyHash) {
        long now = System.currentTimeMillis();
        Long before = lastTouched.get(keyHash);
        if (before != null && now - before < 60_000) return;
        lastTouched.put(keyHash, now);
        db.update("UPDATE api_keys SET last_used_at = ? WHERE key_hash = ?", now, keyHash);
    }

    private final java.util.Map<String, Long> lastTouched = new java.util.concurrent.ConcurrentHashMap<>();

    static String hash(String key) {
        return dev.cella.server.Digests.sha256Hex(key);
    }
}
