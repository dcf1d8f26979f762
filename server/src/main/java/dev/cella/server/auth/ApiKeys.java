package dev.cella.server.auth;

import dev.cella.server.db.Jdbc;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;

/**
 * Teams and their API keys. A key is {@code e2b_} + 40 hex digits (the form the E2B SDK
 * accepts), shown once when made; the database keeps only its SHA-256.
 */
public final class ApiKeys {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Jdbc db;

    public ApiKeys(Jdbc db) {
        this.db = db;
    }

    public Team createTeam(String name) {
        Team t = new Team("team_" + UUID.randomUUID().toString().replace("-", ""), name);
        db.update("INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)", t.id(), t.name(), System.currentTimeMillis());
        return t;
    }

    public boolean anyTeam() {
        return db.one("SELECT id FROM teams LIMIT 1", rs -> rs.getString(1)).isPresent();
    }

    /** Makes a key for the team and returns it: the only time it exists in plain text. */
    public String createKey(Team team, String name) {
        byte[] b = new byte[20];
        RANDOM.nextBytes(b);
        String key = "e2b_" + HexFormat.of().formatHex(b);
        db.update("INSERT INTO api_keys (id, team_id, name, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                "key_" + UUID.randomUUID().toString().replace("-", ""), team.id(), name, hash(key), key.substring(0, 10),
                System.currentTimeMillis());
        return key;
    }

    /** The team of a presented key, if it is one of ours. */
    public Optional<Team> authenticate(String key) {
        if (key == null || !key.matches("e2b_[0-9a-f]{40}")) return Optional.empty();
        return db.one("SELECT t.id, t.name FROM api_keys k JOIN teams t ON t.id = k.team_id WHERE k.key_hash = ?",
                rs -> new Team(rs.getString(1), rs.getString(2)), hash(key));
    }

    static String hash(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
