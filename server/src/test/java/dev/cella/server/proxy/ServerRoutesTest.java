package dev.cella.server.proxy;

import dev.cella.node.proxy.SandboxRoutes;
import dev.cella.node.sandbox.SandboxState;
import dev.cella.protocol.envd.FileSignature;
import dev.cella.server.auth.Team;
import dev.cella.server.db.Database;
import dev.cella.server.db.Jdbc;
import dev.cella.server.nodes.FakeNode;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.sandbox.SandboxRepository;
import dev.cella.server.sandbox.SandboxService;
import dev.cella.server.team.Teams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The proxy's routes remember rows, never whether a sandbox runs: killed, paused, ended
 * or forgotten sandboxes get the answers they got when every call read the table. The
 * node is a fake that keeps sandboxes in a map and routes as a node does (a paused
 * sandbox with autoResume is woken); the clock is the test's.
 */
@Tag("unit")
class ServerRoutesTest {
    Database db;
    Jdbc jdbc;
    SandboxRepository repo;
    FakeNode node;
    SandboxService service;
    ServerRoutes routes;
    Team team;
    final AtomicLong clock = new AtomicLong(1_000_000_000L);

    @BeforeEach
    void open() throws Exception {
        db = Database.sqlite(Files.createTempDirectory("cella-routes").resolve("cella.db"));
        jdbc = new Jdbc(db.dataSource());
        repo = new SandboxRepository(jdbc);
        node = new FakeNode();
        Fleet fleet = new Fleet(List.of(node));
        service = new SandboxService(repo, fleet);
        routes = new ServerRoutes(repo, fleet, clock::get);
        team = Teams.team(new Teams(jdbc).create("routes", null));
    }

    @AfterEach
    void close() {
        db.close();
    }

    String create(boolean autoPause, boolean autoResume) throws Exception {
        return service.create(team, new SandboxService.NewSandbox("base", Duration.ofMinutes(5), Map.of(), Map.of(), autoPause, autoResume,
                true, true, false, 1, 512, 0, null)).row().id();
    }

    @Test
    void aSandboxJustMadeIsRoutedWithItsTrafficToken() throws Exception {
        assertThat(routes.route("nosuchsandbox", 8080)).isEmpty();
        String id = create(false, false);
        Optional<SandboxRoutes.Route> r = routes.route(id, 8080);
        assertThat(r).isPresent();
        assertThat(r.get().base()).isEqualTo(URI.create("http://10.0.0.1:8080"));
        assertThat(r.get().trafficAccessToken()).isEqualTo(repo.findAnyTeam(id).orElseThrow().trafficAccessToken()).isNotNull();
        assertThat(routes.route(id, 8080)).as("from the cache, the same").isEqualTo(r);
    }

    @Test
    void aKilledSandboxIsNotRoutedAtOnce() throws Exception {
        String id = create(false, false);
        assertThat(routes.route(id, 49983)).isPresent();
        assertThat(service.kill(team, id)).isTrue();
        assertThat(routes.route(id, 49983)).isEmpty();
    }

    @Test
    void aForgottenRowIsNotRoutedEvenIfItsNodeStillHasTheSandbox() throws Exception {
        // as when a team is deleted while its node is away: the row goes, the sandbox is the reconciler's
        String id = create(false, false);
        assertThat(routes.route(id, 8080)).isPresent();
        repo.delete(id);
        assertThat(node.sandboxes).containsKey(id);
        assertThat(routes.route(id, 8080)).isEmpty();
    }

    @Test
    void aSandboxThatEndedOnItsNodeIsNotRouted() throws Exception {
        String id = create(false, false);
        assertThat(routes.route(id, 8080)).isPresent();
        node.sandboxes.remove(id); // its time ran out: the row is still there until someone looks
        assertThat(routes.route(id, 8080)).isEmpty();
    }

    @Test
    void aPausedSandboxIsNotRoutedUnlessItResumesOnTraffic() throws Exception {
        String plain = create(false, false), waking = create(true, true);
        assertThat(routes.route(plain, 8080)).isPresent();
        assertThat(routes.route(waking, 8080)).isPresent();
        service.pause(team, plain);
        service.pause(team, waking);
        assertThat(routes.route(plain, 8080)).isEmpty();
        assertThat(routes.route(waking, 8080)).as("autoResume: traffic wakes it").isPresent();
        assertThat(node.sandboxes.get(waking).state()).isEqualTo(SandboxState.RUNNING);
        service.connect(service.require(team, plain), null);
        assertThat(routes.route(plain, 8080)).isPresent();
    }

    @Test
    void aRowDeletedBehindTheCachesBackIsNotRoutedOnceTheCacheExpires() throws Exception {
        String id = create(false, false);
        assertThat(routes.route(id, 8080)).isPresent();
        jdbc.update("DELETE FROM sandboxes WHERE id = ?", id); // not through the repository: nobody is told
        assertThat(routes.route(id, 8080)).as("remembered within the cache's time").isPresent();
        clock.addAndGet(ServerRoutes.CACHE_FOR.toNanos());
        assertThat(routes.route(id, 8080)).isEmpty();
    }

    @Test
    void signedFileUrlsFindTheirSandboxIncludingOneMadeSince() throws Exception {
        String first = create(false, false);
        String token = repo.findAnyTeam(first).orElseThrow().envdAccessToken();
        String sig = FileSignature.sign("/home/user/a.txt", "read", "user", token, null);
        assertThat(routes.signedBy("/home/user/a.txt", "read", "user", sig, null)).contains(first);
        assertThat(routes.signedBy("/home/user/a.txt", "write", "user", sig, null)).isEmpty();

        String second = create(false, false);
        String sig2 = FileSignature.sign("/b", "write", "user", repo.findAnyTeam(second).orElseThrow().envdAccessToken(), null);
        assertThat(routes.signedBy("/b", "write", "user", sig2, null)).as("made after the tokens were read").contains(second);

        service.kill(team, first);
        assertThat(routes.signedBy("/home/user/a.txt", "read", "user", sig, null)).isEmpty();
        assertThat(routes.signedBy("/b", "write", "user", sig2, null)).contains(second);
    }

}
