package dev.cella.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.Node;
import dev.cella.node.NodeConfig;
import dev.cella.node.cli.Options;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.nodes.LocalNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Template builds with a real node: the Superserve build_spec and the Lelantos Dockerfile
 * front ends on the one engine, sandboxes of the results (files, variables, working
 * directory, user, a start command that is ready), layer cache hits on a rebuild, a failing
 * step, cancel, queueing, and that one team's templates are not another's (images from a registry:
 * e2e's CellaUpTest, through the E2B SDK).
 */
class TemplateBuildTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static Node node;
    static Server server;
    static Path data;
    static String base, key, otherKey;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "builds run in sandboxes: namespaces need root (CI is root)");
        data = Files.createTempDirectory("cella-build-test");
        Map<String, Path> templates = Map.of("base", TestRepo.baseRootfs());
        node = new Node(new NodeConfig("local", data.resolve("node"), "127.0.0.1", 0, "127.0.0.1", 0, "x".repeat(32),
                TestRepo.envdRuntime(), templates, 235));
        // a template that never becomes ready fails after 20 s here (120 s by default; a loaded machine needs some)
        server = new Server(ServerSettings.from(Options.parse("test", new String[] {"--data-dir", data.toString(), "--port", "0", "--ready-timeout-seconds", "20"},
                ServerSettings.OPTIONS)),
                new Fleet(List.of(new LocalNode("local", node))));
        base = "http://127.0.0.1:" + server.apiPort();
        key = V1Key.make(base, "builder");
        otherKey = V1Key.make(base, "other-builder");
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        TestRepo.closeWithItsSandboxes(node);
    }

    record Res(int status, JsonNode body) {}

    static Res call(String method, String path, String body, String apiKey) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").header("X-API-Key", apiKey);
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Res(r.statusCode(), r.body().isBlank() ? null : JSON.readTree(r.body()));
    }

    /** Polls the template until its status is not building; returns it. */
    static JsonNode await(String id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        JsonNode t;
        do {
            Thread.sleep(300);
            t = call("GET", "/templates/" + id, null, key).body();
        } while (t.path("status").asText().equals("building") && System.nanoTime() < deadline);
        return t;
    }

    static JsonNode exec(String capsule, String script) throws Exception {
        Res r = call("POST", "/v1/capsules/" + capsule + "/exec", JSON.writeValueAsString(Map.of("cmd", "/bin/sh", "args", List.of("-c", script))), key);
        assertThat(r.status()).as(String.valueOf(r.body())).isEqualTo(200);
        return r.body();
    }

    @Test
    void aSuperserveBuildSpecBuildsATemplateAndARebuildHitsTheCache() throws Exception {
        for (String bad : new String[] {
                "{\"name\":\"Bad_Name\",\"build_spec\":{\"from\":\"base\"}}",
                "{\"name\":\"superserve/mine\",\"build_spec\":{\"from\":\"base\"}}",
                "{\"name\":\"ok\",\"build_spec\":{\"from\":\"base\"},\"vcpu\":5}",
                "{\"name\":\"ok\",\"build_spec\":{\"from\":\"base\"},\"memory_mib\":100}",
                "{\"name\":\"ok\",\"build_spec\":{\"from\":\"base\"},\"disk_mib\":9000}",
                "{\"name\":\"ok\",\"build_spec\":{\"steps\":[]}}",
                "{\"name\":\"ok\",\"build_spec\":{\"from\":\"base\",\"steps\":[{\"copy\":\"x\"}]}}",
                "{\"name\":\"ok\",\"build_spec\":{\"from\":\"base\",\"steps\":[{\"env\":{\"1BAD\":\"x\"}}]}}"}) {
            assertThat(call("POST", "/templates", bad, key).status()).as(bad).isEqualTo(400);
        }
        String spec = """
                {"name": "py-env", "vcpu": 1, "memory_mib": 512, "disk_mib": 2048,
                 "build_spec": {"from": "base",
                   "steps": [{"run": "echo built > marker.txt", "workdir": "/srv/app"},
                             {"env": {"GREETING": "hello from the build"}},
                             {"run": "echo \\"$GREETING\\" > /srv/app/greeting.txt && chown -R user /srv/app"},
                             {"workdir": "/srv/app"},
                             {"user": "user"}],
                   "start_cmd": "python3 -m http.server 8000 >/dev/null 2>&1",
                   "ready_cmd": "curl -sf http://127.0.0.1:8000/ >/dev/null"}}""";
        Res created = call("POST", "/templates", spec, key);
        assertThat(created.status()).as(String.valueOf(created.body())).isEqualTo(201);
        assertThat(created.body().path("status").asText()).isEqualTo("building");
        assertThat(created.body().path("name").asText()).isEqualTo("py-env");
        String id = created.body().path("id").asText(), buildId = created.body().path("build_id").asText();
        assertThat(call("POST", "/templates", spec, key).status()).as("the name is taken").isEqualTo(409);

        // the live log over SSE: lines as they come, then the final status
        var sse = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/templates/" + id + "/builds/" + buildId + "/logs"))
                .header("X-API-Key", key).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(sse.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        StringBuilder events = new StringBuilder();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(sse.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) events.append(line).append('\n');
        }
        assertThat(events.toString()).contains("event: log", "RUN echo built > marker.txt", "event: status", "\"status\":\"ready\"");
        JsonNode ready = await(id);
        assertThat(ready.path("status").asText()).isEqualTo("ready");
        Res status = call("GET", "/templates/" + id + "/builds/" + buildId + "/status", null, key);
        assertThat(status.body().path("status").asText()).isEqualTo("ready");
        assertThat(status.body().path("stepTotal").asInt()).isEqualTo(5);
        assertThat(status.body().path("logs").toString()).contains("ready: curl");
        int logCount = status.body().path("logs").size();
        assertThat(call("GET", "/templates/" + id + "/builds/" + buildId + "/status?logsOffset=" + (logCount - 1), null, key).body()
                .path("logs")).hasSize(1);

        // a capsule of it: the build's files, variables, directory and user, and its start command serving
        Res capsule = call("POST", "/v1/capsules", "{\"template\":\"py-env\"}", key);
        assertThat(capsule.status()).as(String.valueOf(capsule.body())).isEqualTo(201);
        String c = capsule.body().path("id").asText();
        JsonNode out = exec(c, "pwd; whoami; cat marker.txt greeting.txt; echo \"$GREETING\"; curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/");
        assertThat(out.path("stdout").asText()).isEqualTo("/srv/app\nuser\nbuilt\nhello from the build\nhello from the build\n200");
        assertThat(call("GET", "/templates/py-env", null, key).body().path("spawnCount").asInt()).isEqualTo(1);
        call("DELETE", "/v1/capsules/" + c, null, key);

        // a rebuild of the same spec: every layer is there already
        long t0 = System.nanoTime();
        Res again = call("POST", "/templates/" + id, null, key);
        assertThat(again.status()).isEqualTo(202);
        String rebuild = again.body().path("build_id").asText();
        assertThat(await(id).path("status").asText()).isEqualTo("ready");
        JsonNode rs;
        do {
            rs = call("GET", "/templates/" + id + "/builds/" + rebuild + "/status", null, key).body();
        } while (rs.path("status").asText().equals("building") || rs.path("status").asText().equals("waiting"));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        assertThat(rs.path("status").asText()).as(rs.toString()).isEqualTo("ready");
        assertThat(rs.path("logs").toString()).contains("RUN echo built > marker.txt (cached)").contains("(cached)");
        assertThat(seconds).as("a cached rebuild takes seconds").isLessThan(20);
        assertThat(call("GET", "/templates/py-env", null, key).body().path("buildCount").asInt()).isEqualTo(2);

        // another team sees nothing of it
        assertThat(call("GET", "/templates/" + id, null, otherKey).status()).isEqualTo(404);
        assertThat(call("GET", "/templates/py-env", null, otherKey).status()).isEqualTo(404);
        assertThat(call("POST", "/v1/capsules", "{\"template\":\"py-env\"}", otherKey).status()).isEqualTo(404);
        assertThat(call("GET", "/templates/" + id + "/builds/" + buildId + "/status", null, otherKey).status()).isEqualTo(404);
        assertThat(call("GET", "/templates", null, otherKey).body().findValuesAsText("name")).doesNotContain("py-env");
        // until it is made public: then any team starts sandboxes from it (and still cannot change it)
        assertThat(call("PATCH", "/templates/" + id, "{\"public\":true}", otherKey).status()).isEqualTo(404);
        assertThat(call("PATCH", "/templates/" + id, "{\"public\":true}", key).body().path("public").asBoolean()).isTrue();
        Res shared = call("POST", "/v1/capsules", "{\"template\":\"py-env\"}", otherKey);
        assertThat(shared.status()).as(String.valueOf(shared.body())).isEqualTo(201);
        call("DELETE", "/v1/capsules/" + shared.body().path("id").asText(), null, otherKey);
    }

    @Test
    void aDockerfileBuildsTooAndAFailingStepSaysWhich() throws Exception {
        String dockerfile = """
                # a comment
                FROM base
                ARG VERSION=1.2
                ENV APP_VERSION=$VERSION \\
                    APP_MODE=test
                RUN echo "v$APP_VERSION-$APP_MODE" > /opt/version
                WORKDIR /opt/app
                CMD ["sleep", "infinity"]
                """;
        Res created = call("POST", "/templates", JSON.writeValueAsString(Map.of("dockerfile", dockerfile, "alias", "dock")), key);
        assertThat(created.status()).as(String.valueOf(created.body())).isEqualTo(201);
        assertThat(await(created.body().path("templateID").asText()).path("status").asText()).isEqualTo("ready");
        String c = call("POST", "/v1/capsules", "{\"template\":\"dock\"}", key).body().path("id").asText();
        assertThat(exec(c, "cat /opt/version; pwd; echo $APP_MODE; pgrep -x sleep >/dev/null && echo start-cmd-runs").path("stdout").asText())
                .isEqualTo("v1.2-test\n/opt/app\ntest\nstart-cmd-runs\n");
        call("DELETE", "/v1/capsules/" + c, null, key);
        assertThat(call("POST", "/templates", "{\"dockerfile\":\"FROM base\\nCOPY a /a\"}", key).status()).as("COPY without a context").isEqualTo(400);

        // with a build context: the Dockerfile and a tar, as multipart
        Path ctxDir = Files.createTempDirectory("cella-context");
        sh("mkdir -p " + ctxDir + "/src/app && echo from-context > " + ctxDir + "/src/app/a.txt && echo notes > " + ctxDir + "/src/notes.txt"
                + " && tar -cf " + ctxDir + "/context.tar -C " + ctxDir + "/src .");
        String withCopy = "FROM base\nCOPY app /srv/app\nCOPY --chown=user notes.txt /home/user/\nRUN cat /srv/app/a.txt > /srv/copied.txt\n";
        String boundary = "ctx-boundary";
        ByteArrayOutputStream mp = new ByteArrayOutputStream();
        mp.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"dockerfile\"\r\n\r\n" + withCopy + "\r\n--" + boundary
                + "\r\nContent-Disposition: form-data; name=\"alias\"\r\n\r\nwith-context\r\n--" + boundary
                + "\r\nContent-Disposition: form-data; name=\"context\"; filename=\"context.tar\"\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        mp.writeBytes(Files.readAllBytes(ctxDir.resolve("context.tar")));
        mp.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        var posted = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/templates")).header("X-API-Key", key)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary).POST(HttpRequest.BodyPublishers.ofByteArray(mp.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(201);
        assertThat(await(JSON.readTree(posted.body()).path("templateID").asText()).path("status").asText()).isEqualTo("ready");
        String cc = call("POST", "/v1/capsules", "{\"template\":\"with-context\"}", key).body().path("id").asText();
        assertThat(exec(cc, "cat /srv/copied.txt /home/user/notes.txt; stat -c %U /home/user/notes.txt").path("stdout").asText())
                .isEqualTo("from-context\nnotes\nuser\n");
        call("DELETE", "/v1/capsules/" + cc, null, key);
        assertThat(call("POST", "/templates", "{\"dockerfile\":\"RUN true\"}", key).status()).isEqualTo(400);
        assertThat(call("POST", "/templates", "{\"dockerfile\":\"FROM base\\nFROBNICATE x\"}", key).status()).isEqualTo(400);

        Res failing = call("POST", "/templates", "{\"name\":\"broken\",\"build_spec\":{\"from\":\"base\",\"steps\":["
                + "{\"run\":\"echo fine\"},{\"run\":\"echo about to fail >&2; exit 3\"}]}}", key);
        String id = failing.body().path("id").asText();
        assertThat(await(id).path("status").asText()).isEqualTo("failed");
        JsonNode st = call("GET", "/templates/" + id + "/builds/" + failing.body().path("build_id").asText() + "/status", null, key).body();
        assertThat(st.path("status").asText()).isEqualTo("error");
        assertThat(st.path("reason").path("message").asText()).contains("step 2/2", "exit 3", "exit code 3");
        assertThat(st.path("logs").toString()).contains("about to fail");
        Res neverReady = call("POST", "/templates", "{\"name\":\"never-ready\",\"build_spec\":{\"from\":\"base\","
                + "\"start_cmd\":\"sleep 600\",\"ready_cmd\":\"test -e /nonexistent\"}}", key);
        assertThat(await(neverReady.body().path("id").asText()).path("status").asText()).isEqualTo("failed");
        assertThat(call("GET", "/templates/" + neverReady.body().path("id").asText() + "/builds/" + neverReady.body().path("build_id").asText()
                + "/status", null, key).body().path("reason").path("message").asText()).contains("never became ready");
        Res noBuild = call("POST", "/v1/capsules", "{\"template\":\"broken\"}", key);
        assertThat(noBuild.status()).isEqualTo(409);
        assertThat(node.sandboxes().list()).as("no build sandbox is left").noneMatch(r -> r.spec().id().startsWith("bldsbx"));
    }

    @Test
    void aBuildIsCancelledWithinTwoSeconds() throws Exception {
        Res created = call("POST", "/templates", "{\"name\":\"slow\",\"build_spec\":{\"from\":\"base\",\"steps\":[{\"run\":\"sleep 120\"}]}}", key);
        String id = created.body().path("id").asText(), build = created.body().path("build_id").asText();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!call("GET", "/templates/" + id + "/builds/" + build + "/status", null, key).body().path("logs").toString().contains("RUN sleep 120")
                && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        long t0 = System.nanoTime();
        assertThat(call("DELETE", "/templates/" + id + "/builds/" + build, null, key).status()).isEqualTo(204);
        JsonNode st;
        do {
            Thread.sleep(100);
            st = call("GET", "/templates/" + id + "/builds/" + build + "/status", null, key).body();
        } while (st.path("status").asText().equals("building") && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(2000);
        assertThat(st.path("status").asText()).isEqualTo("error");
        assertThat(st.path("reason").path("message").asText()).contains("cancelled");
        Thread.sleep(500);
        assertThat(node.sandboxes().list()).noneMatch(r -> r.spec().id().startsWith("bldsbx"));
    }

    @Test
    void buildsAreQueuedTwoAtATime() throws Exception {
        List<String[]> started = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Res r = call("POST", "/templates", "{\"name\":\"queued-" + i + "\",\"build_spec\":{\"from\":\"base\",\"steps\":[{\"run\":\"sleep 3; echo "
                    + i + " > /n\"}]}}", key);
            started.add(new String[] {r.body().path("id").asText(), r.body().path("build_id").asText()});
        }
        int maxBuilding = 0;
        boolean sawWaiting = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            int building = 0, done = 0;
            for (String[] b : started) {
                String st = call("GET", "/templates/" + b[0] + "/builds/" + b[1] + "/status", null, key).body().path("status").asText();
                if (st.equals("building")) building++;
                if (st.equals("waiting")) sawWaiting = true;
                if (st.equals("ready")) done++;
            }
            maxBuilding = Math.max(maxBuilding, building);
            if (done == 3) break;
            Thread.sleep(200);
        }
        assertThat(maxBuilding).as("at most two at a time").isLessThanOrEqualTo(2);
        assertThat(sawWaiting).as("the third waited its turn").isTrue();
        for (String[] b : started) assertThat(call("GET", "/templates/" + b[0], null, key).body().path("status").asText()).isEqualTo("ready");
        // listed a page at a time
        var page = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/templates?limit=2")).header("X-API-Key", key).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(JSON.readTree(page.body())).hasSize(2);
        String next = page.headers().firstValue("X-Next-Token").orElseThrow();
        assertThat(call("GET", "/templates?limit=100&nextToken=" + next, null, key).body().get(0).path("templateID").asText()).isEqualTo(next);
        assertThat(call("GET", "/templates?limit=0", null, key).status()).isEqualTo(400);
    }

    /**
     * The server dies during a build (here: a second server starts on the same data, as a
     * restarted one would, while the first one's build runs): the build is marked failed and
     * its build sandbox, which no running build of the new server owns, is removed.
     */
    @Test
    void aBuildUnderWayWhenTheServerDiesLeavesNothingBehind() throws Exception {
        Res created = call("POST", "/templates", "{\"name\":\"interrupted\",\"build_spec\":{\"from\":\"base\",\"steps\":[{\"run\":\"sleep 60\"}]}}", key);
        String id = created.body().path("id").asText(), build = created.body().path("build_id").asText();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (node.sandboxes().list().stream().noneMatch(r -> r.spec().id().startsWith("bldsbx")) && System.nanoTime() < deadline) Thread.sleep(100);
        assertThat(node.sandboxes().list()).anyMatch(r -> r.spec().id().startsWith("bldsbx"));
        Server restarted = new Server(ServerSettings.from(Options.parse("test", new String[] {"--data-dir", data.toString(), "--port", "0"}, ServerSettings.OPTIONS)),
                new Fleet(List.of(new LocalNode("local", node))));
        try {
            assertThat(node.sandboxes().list()).as("the build sandbox nobody owns now").noneMatch(r -> r.spec().id().startsWith("bldsbx"));
            JsonNode st;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            do {
                st = call("GET", "/templates/" + id + "/builds/" + build + "/status", null, key).body();
                Thread.sleep(100);
            } while (!st.path("status").asText().equals("error") && System.nanoTime() < until);
            assertThat(st.path("status").asText()).isEqualTo("error");
            assertThat(call("POST", "/v1/capsules", "{\"template\":\"interrupted\"}", key).status()).as("no template came of it").isEqualTo(409);
        } finally {
            restarted.close();
        }
    }

    static void sh(String script) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(script + "\n" + out).isZero();
    }
}
