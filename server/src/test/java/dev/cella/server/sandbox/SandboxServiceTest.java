package dev.cella.server.sandbox;

import dev.cella.node.problem.Problem;
import dev.cella.node.sandbox.SandboxState;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    /** A team's quota: creates past it are refused with 429 and the limit; a paused sandbox holds its place (traffic may wake it). */
    @Test
    void aTeamsQuotaBoundsWhatItRunsAtOnce() throws Exception {
        service = new SandboxService(repo, fleet, new TeamQuota(2, 3, 1024));
        String first = create();
        create();
        assertThatThrownBy(this::create).isInstanceOf(Problem.Busy.class)
                .hasMessageContaining("at most 2 sandboxes at once, paused ones included (--team-max-sandboxes)");
        assertThat(repo.list(team.id())).as("nothing half made is kept").hasSize(2);
        service.pause(team, first);
        assertThatThrownBy(this::create).as("a paused sandbox holds its place").isInstanceOf(Problem.Busy.class);
        assertThat(service.resume(team, first).live().state()).isEqualTo(SandboxState.RUNNING);
        service.kill(team, first);
        create(); // a killed one frees its place

        service = new SandboxService(repo, fleet, new TeamQuota(10, 3, 100_000));
        assertThatThrownBy(() -> service.create(team, new SandboxService.NewSandbox("base", Duration.ofMinutes(5), Map.of(), Map.of(), false,
                false, true, true, true, 2, 512, 0, null))).isInstanceOf(Problem.Busy.class).hasMessageContaining("at most 3 vCPUs at once, 2 in use");
        service = new SandboxService(repo, fleet, new TeamQuota(10, 100, 1500));
        assertThatThrownBy(this::create).isInstanceOf(Problem.Busy.class).hasMessageContaining("at most 1500 MiB of memory at once, 1024 in use");
        // another team is not held by this one's use
        Team other = Teams.team(new Teams(new Jdbc(db.dataSource())).create("other", null));
        assertThat(service.create(other, new SandboxService.NewSandbox("base", Duration.ofMinutes(5), Map.of(), Map.of(), false, false,
                true, true, true, 1, 512, 0, null)).row().teamId()).isEqualTo(other.id());
    }
}
