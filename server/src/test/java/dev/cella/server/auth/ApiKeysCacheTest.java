package dev.cella.server.auth;

import dev.cella.server.db.Database;
import dev.cella.server.db.Jdbc;
import dev.cella.server.team.Teams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Authenticated keys are remembered for {@link ApiKeys#CACHE_FOR}: revoked here they stop
 * at once, revoked behind the cache's back they stop when it expires. The clock is the
 * test's, so nothing here waits or depends on timing.
 */
@Tag("unit")
class ApiKeysCacheTest {
    Database db;
    Jdbc jdbc;
    Teams teams;
    final AtomicLong clock = new AtomicLong(1_000_000_000L);
    ApiKeys keys;

    @BeforeEach
    void open() throws Exception {
        db = Database.sqlite(Files.createTempDirectory("cella-keys").resolve("cella.db"));
        jdbc = new Jdbc(db.dataSource());
        teams = new Teams(jdbc);
        keys = new ApiKeys(jdbc, clock::get);
    }

    @AfterEach
    void close() {
        db.close();
    }

    Team team(String name) {
        return Teams.team(teams.create(name, null));
    }

    void pass(Duration d) {
        clock.addAndGet(d.toNanos());
    }

    @Test
    void aKeyDeletedHereIsRefusedAtOnce() {
        Team a = team("a");
        var made = keys.create(a.id(), "k", null);
        String other = keys.createKey(a, "other");
        assertThat(keys.authenticate(made.key())).contains(a);
        assertThat(keys.authenticate(other)).contains(a);
        assertThat(keys.delete(a.id(), made.info().id())).isTrue();
        assertThat(keys.authenticate(made.key())).isEmpty();
        assertThat(keys.authenticate(other)).as("the team's other keys still work").contains(a);
    }

    @Test
    void aDeletedTeamsKeysAreRefusedAtOnceWhenForgotten() {
        Team a = team("a"), b = team("b");
        String keyA = keys.createKey(a, "k"), keyB = keys.createKey(b, "k");
        assertThat(keys.authenticate(keyA)).contains(a);
        assertThat(keys.authenticate(keyB)).contains(b);
        teams.delete(a.id());
        keys.forgetTeam(a.id());
        assertThat(keys.authenticate(keyA)).isEmpty();
        assertThat(keys.authenticate(keyB)).contains(b);
    }

    @Test
    void aKeyRevokedBehindTheCachesBackStopsWhenTheCacheExpires() {
        Team a = team("a");
        String key = keys.createKey(a, "k");
        assertThat(keys.authenticate(key)).contains(a);
        jdbc.update("DELETE FROM api_keys WHERE key_hash = ?", ApiKeys.hash(key)); // another server, say
        assertThat(keys.authenticate(key)).as("remembered within the cache's time").contains(a);
        pass(ApiKeys.CACHE_FOR);
        assertThat(keys.authenticate(key)).isEmpty();
        assertThat(keys.authenticate(key)).isEmpty();
    }

    @Test
    void aTeamDeletedBehindTheCachesBackStopsWhenTheCacheExpires() {
        Team a = team("a");
        String key = keys.createKey(a, "k");
        assertThat(keys.authenticate(key)).contains(a);
        teams.delete(a.id());
        pass(ApiKeys.CACHE_FOR.minusMillis(1));
        assertThat(keys.authenticate(key)).contains(a);
        pass(Duration.ofMillis(1));
        assertThat(keys.authenticate(key)).isEmpty();
    }

    @Test
    void onlyKeysThatAuthenticatedAreRemembered() {
        Team a = team("a");
        assertThat(keys.authenticate("e2b_" + "0".repeat(40))).isEmpty();
        assertThat(keys.authenticate("not a key")).isEmpty();
        assertThat(keys.authenticate(null)).isEmpty();
        String key = keys.createKey(a, "new");
        assertThat(keys.authenticate(key)).as("a key just made works at once").contains(a);
        pass(ApiKeys.CACHE_FOR.multipliedBy(5));
        assertThat(keys.authenticate(key)).as("looked up again after expiry, still valid").contains(a);
    }
}
