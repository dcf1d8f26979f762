package dev.cella.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.Node;
import dev.cella.node.NodeConfig;
import dev.cella.node.proxy.SandboxProxy;
import dev.cella.node.sandbox.SandboxSpec;
import dev.cella.node.sandbox.TimeoutAction;
import dev.cella.server.api.E2bApi;
import dev.cella.server.api.template.TemplateRoutes;
import dev.cella.server.auth.ApiKeys;
import dev.cella.server.db.Database;
import dev.cella.server.db.Jdbc;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.nodes.LocalNode;
import dev.cella.server.proxy.ServerRoutes;
import dev.cella.server.sandbox.Reconciler;
import dev.cella.server.sandbox.RowState;
import dev.cella.server.sandbox.SandboxRepository;
import dev.cella.server.sandbox.SandboxRow;
import dev.cella.server.sandbox.SandboxService;
import dev.cella.server.team.Teams;
import dev.cella.server.template.BuildLogs;
import dev.cella.server.template.Builder;
import dev.cella.server.template.Builds;
import dev.cella.server.template.TemplateFiles;
import dev.cella.server.template.Templates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The E2B dialect over HTTP with a real node: errors, team isolation, rate limits. */
class E2bApiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static Path data;
    static Database db;
    static Node node;
    static E2bApi api;
    static SandboxService service;
    static Reconciler reconciler;
    static String base, keyA, keyB, proxyBase;
    static SandboxProxy proxy;
    static Path rootfs;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "a node runs sandboxes in namespaces; this needs root (CI is root)");
        Path baseRootfs = TestRepo.baseRootfs();
        data = Files.createTempDirectory("cella-server-test");
        db = Database.sqlite(data.resolve("cella.db"));
        Jdbc jdbc = new Jdbc(db.dataSource());
        ApiKeys keys = new ApiKeys(jdbc);
        keyA = keys.createKey(Teams.team(new Teams(jdbc).create("a", null)), "a");
        keyB = keys.createKey(Teams.team(new Teams(jdbc).create("b", null)), "b");
        E2bApiTest.rootfs = baseRootfs;
        Map<String, Path> templates = Map.of("base", baseRootfs);
        node = new Node(new NodeConfig("local", data.resolve("node"), "127.0.0.1", 0, "127.0.0.1", 0, "x".repeat(32),
                TestRepo.envdRuntime(), templates, 233));
        var fleet = new Fleet(List.of(new LocalNode("local", node)));
        SandboxRepository repo = new SandboxRepository(jdbc);
        service = new SandboxService(repo, fleet);
        reconciler = new Reconciler(repo, fleet, id -> false);
        proxy = new SandboxProxy(new ServerRoutes(repo, fleet)).start("127.0.0.1", 0);
        proxyBase = "http://127.0.0.1:" + proxy.port();
        var teamTemplates = new Templates(jdbc, fleet);
        var builds = new Builds(jdbc);
        var logs = new BuildLogs(jdbc);
        var files = new TemplateFiles(data.resolve("template-files"));
        var builder = new Builder(teamTemplates, builds, logs, fleet, files, 1, Duration.ofSeconds(30));
        api = new E2bApi(keys, service, teamTemplates, new TemplateRoutes(teamTemplates, builder, builds, logs, files,
                "test-upload-key".getBytes()), 200, null).start("127.0.0.1", 0);
        base = "http://127.0.0.1:" + api.port();
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) {
            for (var r : node.sandboxes().list()) node.sandboxes().kill(r.spec().id());
            node.close();
        }
        if (api != null) api.stop();
        if (proxy != null) proxy.stop();
        if (db != null) db.close();
    }

    record Res(int status, JsonNode body, HttpResponse<String> raw) {}

    static Res call(String method, String path, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (key != null) b.header("X-API-KEY", key);
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Res(r.statusCode(), r.body().isBlank() ? null : JSON.readTree(r.body()), r);
    }

    /**
     * Fifty creates at once on a 2-core machine all end in a sandbox: the node's start queue
     * admits them in turn (its warm pool serves the first), and a create it cannot admit in
     * time is answered 429 with Retry-After — which this client, like the E2B SDK, honours —
     * never a 5xx.
     */
    @Test
    void fiftyConcurrentCreatesAllSucceedAndNoneAnswers5xx() throws Exception {
        int n = Integer.getInteger("cella.concurrentCreates", 50);
        List<Future<String>> creates = new ArrayList<>();
        AtomicInteger refused = new AtomicInteger();
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                creates.add(exec.submit(() -> {
                    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
                    while (true) {
                        Res r = call("POST", "/v2/sandboxes", "{\"templateID\":\"base\",\"timeout\":300}", keyA);
                        if (r.status() == 201) return r.body().path("sandboxID").asText();
                        assertThat(r.status()).as("create answered %s", r.raw().body()).isEqualTo(429);
                        long wait = Long.parseLong(r.raw().headers().firstValue("Retry-After").orElseThrow());
                        assertThat(wait).isBetween(1L, 60L);
                        refused.incrementAndGet();
                        if (System.nanoTime() > deadline) throw new AssertionError("still refused after 5 minutes");
                        Thread.sleep(wait * 1000);
                    }
                }));
            }
        }
        Set<String> ids = new HashSet<>();
        for (var f : creates) ids.add(f.get());
        System.out.printf("%d concurrent creates: all made, %d answers were 429 first%n", n, refused.get());
        assertThat(ids).hasSize(n);
        for (String id : ids) assertThat(call("DELETE", "/sandboxes/" + id, null, keyA).status()).isEqualTo(204);
    }

    /** Every duration is bounded: a negative or overflowing one is a 400, and the sandbox lives on. */
    @Test
    void refreshesAndTimeoutsOutOfRangeAreRefusedAndKillNothing() throws Exception {
        Res created = call("POST", "/sandboxes", "{\"templateID\":\"base\"}", keyA);
        assertThat(created.status()).isEqualTo(201);
        String id = created.body().path("sandboxID").asText();
        for (String bad : new String[] {"{\"duration\":-100}", "{\"duration\":9e18}", "{\"duration\":-9e18}", "{\"duration\":3601}",
                "{\"duration\":\"soon\"}"}) {
            Res r = call("POST", "/sandboxes/" + id + "/refreshes", bad, keyA);
            assertThat(r.status()).as(bad).isEqualTo(400);
            assertThat(r.body().path("message").asText()).as(bad).isEqualTo("duration must be seconds from 0 to 3600");
        }
        for (String bad : new String[] {"{\"timeout\":-1}", "{\"timeout\":9e18}", "{\"timeout\":-9e18}"}) {
            assertThat(call("POST", "/sandboxes/" + id + "/timeout", bad, keyA).status()).as(bad).isEqualTo(400);
        }
        assertThat(call("GET", "/sandboxes/" + id, null, keyA).body().path("state").asText()).isEqualTo("running");
        assertThat(call("POST", "/sandboxes/" + id + "/refreshes", "{\"duration\":30}", keyA).status()).isEqualTo(204);
        assertThat(call("POST", "/sandboxes/" + id + "/refreshes", "{}", keyA).status()).as("E2B's default, 60 s").isEqualTo(204);
        assertThat(call("DELETE", "/sandboxes/" + id, null, keyA).status()).isEqualTo(204);
    }

    @Test
    void oneTeamCannotSeeOrTouchAnothersSandboxes() throws Exception {
        Res created = call("POST", "/v2/sandboxes", "{\"templateID\":\"base\",\"metadata\":{\"owner\":\"a\"},\"someFutureField\":1}", keyA);
        assertThat(created.status()).isEqualTo(201);
        String id = created.body().path("sandboxID").asText();
        assertThat(call("GET", "/sandboxes/" + id, null, keyA).status()).isEqualTo(200);
        for (Res r : new Res[] {
                call("GET", "/sandboxes/" + id, null, keyB),
                call("DELETE", "/sandboxes/" + id, null, keyB),
                call("POST", "/sandboxes/" + id + "/timeout", "{\"timeout\":10}", keyB),
                call("POST", "/sandboxes/" + id + "/pause", null, keyB),
                call("POST", "/sandboxes/" + id + "/connect", "{\"timeout\":10}", keyB)}) {
            assertThat(r.status()).isEqualTo(404);
            assertThat(r.body().path("code").asInt()).isEqualTo(404);
        }
        assertThat(call("GET", "/v2/sandboxes", null, keyB).body()).isEmpty();
        assertThat(call("GET", "/v2/sandboxes", null, keyA).body()).hasSize(1);
        assertThat(call("DELETE", "/sandboxes/" + id, null, keyA).status()).isEqualTo(204);
    }

    @Test
    void theTemplatesItWasStartedWithAreListed() throws Exception {
        Res list = call("GET", "/templates", null, keyA);
        assertThat(list.status()).isEqualTo(200);
        assertThat(list.body().get(0).path("templateID").asText()).isEqualTo("base");
        assertThat(call("GET", "/templates/base", null, keyA).body().path("aliases").get(0).asText()).isEqualTo("base");
        assertThat(call("GET", "/templates/nope", null, keyA).status()).isEqualTo(404);
        assertThat(call("DELETE", "/templates/base", null, keyA).status()).isEqualTo(400);
    }

    @Test
    void theServerIsTheSourceOfTruth() throws Exception {
        // a sandbox on the node that no team owns (as if the server had died between a kill and its record)
        node.sandboxes().create(new SandboxSpec("strayone", "base", rootfs, 1, 256, 512, 256, false,
                Map.of(), Map.of(), null, "user", null, null), null, TimeoutAction.KILL);
        Res owned = call("POST", "/sandboxes", "{\"templateID\":\"base\"}", keyA);
        String ownedId = owned.body().path("sandboxID").asText();
        // and, the other way round, a record whose sandbox ended behind the server's back, and one paused so
        String ended = call("POST", "/sandboxes", "{\"templateID\":\"base\"}", keyA).body().path("sandboxID").asText();
        node.sandboxes().kill(ended);
        node.sandboxes().pause(ownedId);
        assertThat(reconciler.run()).containsExactly("strayone");
        assertThat(node.sandboxes().get("strayone")).isEmpty();
        var repo = new SandboxRepository(new Jdbc(db.dataSource()));
        assertThat(repo.findAnyTeam(ended)).as("the record of a sandbox its node no longer has").isEmpty();
        assertThat(repo.findAnyTeam(ownedId)).get().extracting(SandboxRow::state).isEqualTo(RowState.PAUSED);
        assertThat(call("GET", "/sandboxes/" + ownedId, null, keyA).body().path("state").asText()).isEqualTo("paused");
        call("DELETE", "/sandboxes/" + ownedId, null, keyA);
    }

    @Test
    void aSandboxPausedByItsTimeoutStaysUpAfterAConnect() throws Exception {
        Res created = call("POST", "/sandboxes", "{\"templateID\":\"base\",\"timeout\":1,\"autoPause\":true}", keyA);
        String id = created.body().path("sandboxID").asText();
        long deadline = System.currentTimeMillis() + 10_000;
        while (!call("GET", "/sandboxes/" + id, null, keyA).body().path("state").asText().equals("paused")) {
            assertThat(System.currentTimeMillis()).as("paused at its timeout").isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(call("POST", "/sandboxes/" + id + "/connect", "{}", keyA).status()).isEqualTo(201);
        Thread.sleep(1500); // longer than its first timeout: a connect gives it a new lifetime
        assertThat(call("GET", "/sandboxes/" + id, null, keyA).body().path("state").asText()).isEqualTo("running");
        assertThat(call("DELETE", "/sandboxes/" + id, null, keyA).status()).isEqualTo(204);
    }

    /** A call through the server's traffic proxy to envd's health check of a sandbox. */
    static HttpResponse<String> health(String id) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(proxyBase + "/health")).header("E2b-Sandbox-Id", id)
                .header("E2b-Sandbox-Port", "49983").build(), HttpResponse.BodyHandlers.ofString());
    }

    static void assertNotRouted(String id) throws Exception {
        HttpResponse<String> r = health(id);
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(JSON.readTree(r.body()).path("message").asText()).isEqualTo("The sandbox was not found");
        assertThat(JSON.readTree(r.body()).path("sandboxId").asText()).isEqualTo(id);
    }

    @Test
    void theProxyRoutesOnlySandboxesThatRunOrWakeOnTraffic() throws Exception {
        // the proxy remembers rows: each change below must be seen by the very next call
        String id = call("POST", "/sandboxes", "{\"templateID\":\"base\"}", keyA).body().path("sandboxID").asText();
        assertThat(health(id).statusCode()).isEqualTo(204);
        assertThat(call("POST", "/sandboxes/" + id + "/pause", null, keyA).status()).isEqualTo(204);
        assertNotRouted(id);
        assertThat(call("POST", "/sandboxes/" + id + "/connect", "{}", keyA).status()).isEqualTo(201);
        assertThat(health(id).statusCode()).isEqualTo(204);
        assertThat(call("DELETE", "/sandboxes/" + id, null, keyA).status()).isEqualTo(204);
        assertNotRouted(id);

        String waking = call("POST", "/sandboxes", "{\"templateID\":\"base\",\"autoPause\":true,\"autoResume\":{\"enabled\":true}}", keyA)
                .body().path("sandboxID").asText();
        assertThat(health(waking).statusCode()).isEqualTo(204);
        assertThat(call("POST", "/sandboxes/" + waking + "/pause", null, keyA).status()).isEqualTo(204);
        assertThat(health(waking).statusCode()).as("autoResume: traffic wakes it").isEqualTo(204);
        assertThat(call("GET", "/sandboxes/" + waking, null, keyA).body().path("state").asText()).isEqualTo("running");
        assertThat(call("DELETE", "/sandboxes/" + waking, null, keyA).status()).isEqualTo(204);
        assertNotRouted(waking);

        // a sandbox whose time ran out on its node: its row is still there until someone looks
        String ending = call("POST", "/sandboxes", "{\"templateID\":\"base\",\"timeout\":1}", keyA).body().path("sandboxID").asText();
        assertThat(health(ending).statusCode()).isEqualTo(204);
        long deadline = System.currentTimeMillis() + 15_000;
        while (node.sandboxes().get(ending).isPresent()) {
            assertThat(System.currentTimeMillis()).as("killed at its timeout").isLessThan(deadline);
            Thread.sleep(100);
        }
        assertNotRouted(ending);
        assertThat(call("GET", "/sandboxes/" + ending, null, keyA).status()).isEqualTo(404);
        assertNotRouted(ending);
    }

    @Test
    void badInputGetsClearErrorsInE2bsFormat() throws Exception {
        assertThat(call("POST", "/sandboxes", "{not json", keyA).status()).isEqualTo(400);
        assertThat(call("POST", "/sandboxes", "{}", keyA).body().path("message").asText()).contains("templateID");
        assertThat(call("POST", "/sandboxes", "{\"templateID\":\"base\",\"timeout\":-1}", keyA).status()).isEqualTo(400);
        Res unknown = call("POST", "/sandboxes", "{\"templateID\":\"no-such-template\"}", keyA);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.body().path("code").asInt()).isEqualTo(404);
        assertThat(call("GET", "/sandboxes/doesnotexist", null, keyA).body().path("code").asInt()).isEqualTo(404);
        assertThat(call("GET", "/v2/sandboxes?limit=0", null, keyA).status()).isEqualTo(400);
    }

    @Test
    void authenticationIsRequiredAndItsFailuresAreRateLimited() throws Exception {
        Res none = call("GET", "/v2/sandboxes", null, null);
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.body().path("code").asInt()).isEqualTo(401);
        int limited = 0, refused = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            Res r = call("GET", "/v2/sandboxes", null, "e2b_" + "1".repeat(40));
            if (r.status() == 429) {
                limited++;
                assertThat(r.raw().headers().firstValue("Retry-After")).isPresent();
            } else {
                assertThat(r.status()).isEqualTo(401);
                refused++;
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(limited).isPositive();
        assertThat(refused).as("3 failed authentications per second (%.2f s)", seconds).isLessThanOrEqualTo((int) (3 + 3 * seconds) + 1);
    }

    @Test
    void aTeamIsLimitedTo200RequestsPerSecond() throws Exception {
        // 16 clients at once, so the team asks faster than its limit whatever this machine's speed
        AtomicInteger ok = new AtomicInteger(), limited = new AtomicInteger();
        AtomicBoolean retryAfterSeen = new AtomicBoolean();
        long t0 = System.nanoTime();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < 16; c++) {
                pool.submit(() -> {
                    for (int i = 0; i < 80; i++) {
                        Res r = call("GET", "/v2/sandboxes", null, keyB);
                        if (r.status() == 429) {
                            limited.incrementAndGet();
                            if (r.raw().headers().firstValue("Retry-After").isPresent()) retryAfterSeen.set(true);
                        } else {
                            ok.incrementAndGet();
                        }
                    }
                    return null;
                });
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(limited.get()).as("%d allowed in %.2f s", ok.get(), seconds).isPositive();
        assertThat(retryAfterSeen).isTrue();
        assertThat(ok.get()).as("allowed in %.2f s", seconds).isLessThanOrEqualTo((int) (200 + 200 * seconds) + 1);
    }
}
