package dev.cella.server.sandbox;

import dev.cella.server.auth.Team;
import dev.cella.server.db.Database;
import dev.cella.server.db.Jdbc;
import dev.cella.server.nodes.FakeNode;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.team.Teams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The server's view of sandboxes against a node in a map (no root, no crun). */
@Tag("unit")
class SandboxServiceTest {
    Database db;
    SandboxRepository repo;
    FakeNode node;
    Fleet fleet;
    SandboxService service;
    Team team;

    @BeforeEach
    void open() throws Exception {
        db = Database.sqlite(Files.createTempDirectory("cella-service").resolve("cella.db"));
        Jdbc jdbc = new Jdbc(db.dataSource());
        repo = new SandboxRepository(jdbc);
        node = new FakeNode();
        fleet = new Fleet(List.of(node));
        service = new SandboxService(repo, fleet);
        team = Teams.team(new Teams(jdbc).create("service", null));
    }

    @AfterEach
    void close() {
        db.close();
    }

    String create() throws Exception {
        return service.create(team, new SandboxService.NewSandbox("base", Duration.ofMinutes(5), Map.of(), Map.of(), false, false,
                true, true, true, 1, 512, 0, null)).row().id();
    }

    @Test
    void aSandboxThatEndedOnItsNodeIsGoneForReadsAndItsRowIsTheReconcilersToRemove() throws Exception {
        String ended = create();
        String running = create();
        node.sandboxes.remove(ended); // its time ran out on its node

        assertThat(service.get(team, ended)).isEmpty();
        assertThat(service.list(team)).extracting(v -> v.row().id()).containsExactly(running);
        assertThat(service.listAll(team)).extracting(v -> v.row().id()).containsExactly(running);
        assertThat(repo.findAnyTeam(ended)).as("a read does not write").isPresent();

        assertThat(new Reconciler(repo, fleet, id -> false).run()).isEmpty();
        assertThat(repo.findAnyTeam(ended)).as("the reconciler removes it").isEmpty();
        assertThat(repo.findAnyTeam(running)).isPresent();
    }
}
