package dev.cella.server;

import dev.cella.server.auth.ApiKeys;
import dev.cella.server.auth.Team;
import dev.cella.server.db.Database;
import dev.cella.server.db.Jdbc;
import dev.cella.server.sandbox.RowState;
import dev.cella.server.sandbox.SandboxRepository;
import dev.cella.server.sandbox.SandboxRow;
import dev.cella.server.team.Teams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server's state on both databases it supports: SQLite (the embedded default) and
 * PostgreSQL (fleets). PostgreSQL comes from {@code CELLA_TEST_POSTGRES_URL}, which
 * {@code ./cella test} sets after starting the machine's PostgreSQL; in CI a missing
 * PostgreSQL fails the run instead of skipping it.
 */
@Tag("unit")
class DatabasesTest {
    static final List<Database> opened = new ArrayList<>();

    static Stream<Arguments> databases() throws Exception {
        List<Arguments> out = new ArrayList<>();
        Path dir = Files.createTempDirectory("cella-db");
        Database sqlite = Database.sqlite(dir.resolve("cella.db"));
        opened.add(sqlite);
        out.add(Arguments.of("sqlite", sqlite));
        String url = System.getenv("CELLA_TEST_POSTGRES_URL");
        if (url == null || url.isBlank()) {
            if (System.getenv("CI") != null) throw new IllegalStateException("CI must test PostgreSQL: CELLA_TEST_POSTGRES_URL is not set");
            System.err.println("*** DatabasesTest: CELLA_TEST_POSTGRES_URL not set: PostgreSQL NOT tested (./cella test sets it) ***");
        } else {
            Database pg = Database.postgres(url, System.getenv("CELLA_TEST_POSTGRES_USER"), System.getenv("CELLA_TEST_POSTGRES_PASSWORD"));
            opened.add(pg);
            out.add(Arguments.of("postgresql", pg));
        }
        return out.stream();
    }

    @AfterAll
    static void close() {
        opened.forEach(Database::close);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("databases")
    void keysAreHashedAndTeamScoped(String name, Database db) {
        Jdbc jdbc = new Jdbc(db.dataSource());
        ApiKeys keys = new ApiKeys(jdbc);
        var teams = new Teams(jdbc);
        Team a = Teams.team(teams.create("team a " + name.replace("-", " "), null)), b = Teams.team(teams.create("team b " + name.replace("-", " "), null));
        String keyA = keys.createKey(a, "first"), keyB = keys.createKey(b, "first");
        assertThat(keyA).matches("e2b_[0-9a-f]{40}");
        assertThat(keys.authenticate(keyA)).contains(a);
        assertThat(keys.authenticate(keyB)).contains(b);
        assertThat(keys.authenticate("e2b_" + "0".repeat(40))).isEmpty();
        assertThat(keys.authenticate("not a key")).isEmpty();
        // nothing stored in plain text
        assertThat(jdbc.query("SELECT key_hash FROM api_keys", rs -> rs.getString(1))).doesNotContain(keyA, keyB)
                .allMatch(h -> h.matches("[0-9a-f]{64}"));

        SandboxRepository repo = new SandboxRepository(jdbc);
        String id = "sbx" + name.length() + System.nanoTime();
        repo.insert(new SandboxRow(id, a.id(), "base", "local", RowState.RUNNING, Map.of("k", "v"), "tok", 2, 512, 2048, false,
                System.currentTimeMillis(), null, "traffic", 0, null));
        assertThat(repo.findAnyTeam(id)).get().extracting(SandboxRow::teamId, SandboxRow::trafficAccessToken)
                .containsExactly(a.id(), "traffic");
        assertThat(repo.countByNode().get("local")).isGreaterThanOrEqualTo(1);
        assertThat(repo.onNode("local")).extracting(SandboxRow::id).contains(id);
        assertThat(repo.find(a.id(), id)).get().extracting(SandboxRow::metadata).isEqualTo(Map.of("k", "v"));
        assertThat(repo.find(b.id(), id)).as("another team's sandbox does not exist for it").isEmpty();
        assertThat(repo.list(b.id())).isEmpty();
        repo.updateState(id, RowState.PAUSED, 123L);
        assertThat(repo.find(a.id(), id)).get().extracting(SandboxRow::state, SandboxRow::endAt).containsExactly(RowState.PAUSED, 123L);
        repo.delete(id);
        assertThat(repo.find(a.id(), id)).isEmpty();
    }
}
