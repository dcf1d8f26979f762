package dev.cella.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.Node;
import dev.cella.node.NodeConfig;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.nodes.LocalNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Template builds with a real node: the Superserve build_spec and the Lelantos Dockerfile
 * front ends on the one engine, sandboxes of the results (files, variables, working
 * directory, user, a start command that is ready), layer cache hits on a rebuild, a failing
 * step, cancel, and that one team's templates are not another's.
 */
class TemplateBuildTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static Node node;
    static Server server;
    static String base, key, otherKey;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "builds run in sandboxes: namespaces need root (CI is root)");
        Path data = Files.createTempDirectory("cella-build-test");
        Map<String, Path> templates = Map.of("base", TestRepo.baseRootfs());
        node = new Node(new NodeConfig("local", data.resolve("node"), "127.0.0.1", 0, "127.0.0.1", 0, "x".repeat(32),
                TestRepo.envdRuntime(), templates, 235));
        server = new Server(Options.parse("test", new String[] {"--data-dir", data.toString(), "--port", "0"}, Server.OPTIONS),
                new Fleet(List.of(new LocalNode("local", node))));
        base = "http://127.0.0.1:" + server.apiPort();
        key = V1Key.make(base, "builder");
        otherKey = V1Key.make(base, "other-builder");
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (node != null) {
            for (var r : node.sandboxes().list()) {
                try {
                    node.sandboxes().kill(r.spec().id());
                } catch (Exception ignored) {
                    // gone
                }
            }
            node.close();
        }
    }

    record Res(int status, JsonNode body) {}

    static Res call(String method, String path, String body, String apiKey) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(java.time.Duration.ofSeconds(120))
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
        assertThat(rs.path("logs").toString()).contains("RUN echo built > marker.txt (cached)").contains("(cached)");
        assertThat(seconds).as("a cached rebuild takes seconds").isLessThan(20);
        assertThat(call("GET", "/templates/py-env", null, key).body().path("buildCount").asInt()).isEqualTo(2);

        // another team sees nothing of it
        assertThat(call("GET", "/templates/" + id, null, otherKey).status()).isEqualTo(404);
        assertThat(call("GET", "/templates/py-env", null, otherKey).status()).isEqualTo(404);
        assertThat(call("POST", "/v1/capsules", "{\"template\":\"py-env\"}", otherKey).status()).isEqualTo(404);
        assertThat(call("GET", "/templates/" + id + "/builds/" + buildId + "/status", null, otherKey).status()).isEqualTo(404);
        assertThat(call("GET", "/templates", null, otherKey).body().findValuesAsText("name")).doesNotContain("py-env");
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
        assertThat(call("POST", "/templates", "{\"dockerfile\":\"FROM base\\nCOPY a /a\"}", key).status()).isEqualTo(400);
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
}
