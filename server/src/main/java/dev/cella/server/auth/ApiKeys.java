package dev.cella.server.auth;

import dev.cella.server.Digests;
import dev.cella.server.Ids;
import dev.cella.server.db.Jdbc;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * Teams and their API keys. A key is {@code e2b_} + 40 hex digits (the form the E2B SDK
 * accepts), shown once when made; the database keeps only its SHA-256.
 *
 * <p>A key that authenticated is remembered (by its hash) for {@link #CACHE_FOR}, so a
 * busy client costs no SQL per request. A key deleted here, or a team deleted through
 * {@link #forgetTeam}, is forgotten at once; one revoked any other way (another server
 * on the same database, a hand-made UPDATE) stops working within {@link #CACHE_FOR}.
 * Only keys that authenticated are remembered: a key just made works at once.
 */
public final class ApiKeys {
    /** How long an authenticated key is believed without asking the database again. */
    public static final Duration CACHE_FOR = Duration.ofSeconds(1);
    private static final Pattern FORM = Pattern.compile("e2b_[0-9a-f]{40}");

    private final Jdbc db;
    private final LongSupplier nanoClock;
    private final long cacheForNanos;
    /** Key hash to its team, until a time of {@link #nanoClock}. */
    private final Map<String, Known> known = new ConcurrentHashMap<>();

    /** Moved on by every {@link #forgetTeam}: a lookup that raced with one does not keep what it found. */
    private final AtomicLong forgets = new AtomicLong();

    private record Known(Team team, long until) {}

    public ApiKeys(Jdbc db) {
        this(db, System::nanoTime);
    }

    /** With the clock the cache's expiry is read from (tests move it). */
    public ApiKeys(Jdbc db, LongSupplier nanoClock) {
        this.db = db;
        this.nanoClock = nanoClock;
        this.cacheForNanos = CACHE_FOR.toNanos();
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
        String key = "e2b_" + Ids.hex(20);
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
        boolean deleted = db.update("DELETE FROM api_keys WHERE team_id = ? AND id = ?", teamId, keyId) > 0;
        forgetTeam(teamId); // the cache knows hashes, not key ids: the team's other keys are simply looked up again
        return deleted;
    }

    /** Forgets what the cache knows of a team's keys (the team was deleted, or one of its keys). */
    public void forgetTeam(String teamId) {
        forgets.incrementAndGet();
        known.values().removeIf(k -> k.team().id().equals(teamId));
    }

    /** The team of a presented key, if it is one of ours and its team was not deleted. */
    public Optional<Team> authenticate(String key) {
        if (key == null || !FORM.matcher(key).matches()) return Optional.empty();
        String h = hash(key);
        long now = nanoClock.getAsLong();
        Known k = known.get(h);
        if (k != null && now - k.until() < 0) {
            touch(h);
            return Optional.of(k.team());
        }
        long forgetsBefore = forgets.get();
        Optional<Team> team = db.one("SELECT t.id, t.name FROM api_keys k JOIN teams t ON t.id = k.team_id WHERE k.key_hash = ?"
                + " AND t.deleted_at IS NULL", rs -> new Team(rs.getString(1), rs.getString(2)), h);
        if (team.isPresent()) {
            known.put(h, new Known(team.get(), now + cacheForNanos));
            if (forgets.get() != forgetsBefore) known.remove(h); // read before a revocation: not to be remembered
            touch(h);
        } else {
            known.remove(h);
        }
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

    private final Map<String, Long> lastTouched = new ConcurrentHashMap<>();

    static String hash(String key) {
        return Digests.sha256Hex(key);
    }
}
