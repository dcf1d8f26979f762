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
    static Path data;
    static String base, key, otherKey;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "builds run in sandboxes: namespaces need root (CI is root)");
        data = Files.createTempDirectory("cella-build-test");
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
        java.io.ByteArrayOutputStream mp = new java.io.ByteArrayOutputStream();
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
        List<String[]> started = new java.util.ArrayList<>();
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
    }

    /** sha256:<hex> of a file. */
    static String digest(Path f) throws Exception {
        return "sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }

    static void sh(String script) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(script + "\n" + out).isZero();
    }

    /** Pushes a blob to the registry (a monolithic upload), returns its descriptor. */
    static Map<String, Object> push(String registry, String repo, Path blob, String mediaType) throws Exception {
        String d = digest(blob);
        var start = HTTP.send(HttpRequest.newBuilder(URI.create(registry + "/v2/" + repo + "/blobs/uploads/")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.discarding());
        assertThat(start.statusCode()).isEqualTo(202);
        String location = start.headers().firstValue("Location").orElseThrow();
        URI put = URI.create(location.startsWith("http") ? location : registry + location);
        String sep = put.getQuery() == null ? "?" : "&";
        var done = HTTP.send(HttpRequest.newBuilder(URI.create(put + sep + "digest=" + d)).header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofFile(blob)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
        return Map.of("mediaType", mediaType, "digest", d, "size", Files.size(blob));
    }

    static String putManifest(String registry, String repo, String tag, Object manifest, String mediaType) throws Exception {
        byte[] body = JSON.writeValueAsBytes(manifest);
        var r = HTTP.send(HttpRequest.newBuilder(URI.create(registry + "/v2/" + repo + "/manifests/" + tag)).header("Content-Type", mediaType)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return "sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(body));
    }

    /**
     * A real registry on loopback (Debian's docker-registry) holding an image this test makes
     * from a busybox root: two layers, the second deleting a file (whiteout) and replacing a
     * directory (opaque), behind an image index. A template built FROM it has the image's
     * files and variables; a second pull reuses the layers.
     */
    @Test
    void aTemplateBuildsFromAnImageInALoopbackRegistry() throws Exception {
        Path reg = Path.of("/usr/bin/docker-registry");
        assertThat(reg).as("docker-registry is installed by scripts/install-prereqs.sh --with-tests").exists();
        Path dir = Files.createTempDirectory("cella-registry");
        int port;
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Files.writeString(dir.resolve("config.yml"), "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: " + dir.resolve("data")
                + "\nhttp:\n  addr: 127.0.0.1:" + port + "\n");
        Process registryProcess = new ProcessBuilder(reg.toString(), "serve", dir.resolve("config.yml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
        try {
            String registry = "http://127.0.0.1:" + port;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (true) {
                try {
                    if (HTTP.send(HttpRequest.newBuilder(URI.create(registry + "/v2/")).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) break;
                } catch (java.io.IOException notYet) {
                    if (System.nanoTime() > deadline) throw notYet;
                    Thread.sleep(100);
                }
            }
            // the image: a busybox root, then a layer that adds, deletes and replaces
            Path l1 = dir.resolve("l1"), l2 = dir.resolve("l2");
            sh("mkdir -p " + l1 + "/bin " + l1 + "/etc " + l1 + "/tmp " + l1 + "/opq && cp /bin/busybox " + l1 + "/bin/busybox"
                    + " && for a in sh cat ls echo whoami test env id; do ln -s busybox " + l1 + "/bin/$a; done"
                    + " && printf 'root:x:0:0:root:/root:/bin/sh\\nuser:x:1000:1000::/home/user:/bin/sh\\n' > " + l1 + "/etc/passwd"
                    + " && printf 'root:x:0:\\nuser:x:1000:\\n' > " + l1 + "/etc/group && chmod 1777 " + l1 + "/tmp"
                    + " && echo old > " + l1 + "/opq/old.txt && echo doomed > " + l1 + "/removed.txt"
                    + " && mkdir -p " + l2 + "/etc " + l2 + "/opq && echo 'hello layer 2' > " + l2 + "/etc/greeting && : > " + l2 + "/.wh.removed.txt"
                    + " && : > " + l2 + "/opq/.wh..wh..opq && echo new > " + l2 + "/opq/new.txt"
                    + " && tar -czf " + dir.resolve("l1.tgz") + " -C " + l1 + " . && tar -czf " + dir.resolve("l2.tgz") + " -C " + l2 + " .");
            Files.writeString(dir.resolve("config.json"), "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\",\"GREETING=from-image\"]},"
                    + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
            String repo = "cella/busy";
            var config = push(registry, repo, dir.resolve("config.json"), "application/vnd.oci.image.config.v1+json");
            var layer1 = push(registry, repo, dir.resolve("l1.tgz"), "application/vnd.oci.image.layer.v1.tar+gzip");
            var layer2 = push(registry, repo, dir.resolve("l2.tgz"), "application/vnd.oci.image.layer.v1.tar+gzip");
            String manifestType = "application/vnd.oci.image.manifest.v1+json";
            Map<String, Object> manifest = Map.of("schemaVersion", 2, "mediaType", manifestType, "config", config, "layers", List.of(layer1, layer2));
            String manifestDigest = putManifest(registry, repo, "v1", manifest, manifestType);
            long manifestSize = JSON.writeValueAsBytes(manifest).length;
            String indexType = "application/vnd.oci.image.index.v1+json";
            putManifest(registry, repo, "multi", Map.of("schemaVersion", 2, "mediaType", indexType, "manifests", List.of(
                    Map.of("mediaType", manifestType, "digest", manifestDigest, "size", manifestSize, "platform", Map.of("architecture", "amd64", "os", "linux")))),
                    indexType);

            String from = "127.0.0.1:" + port + "/" + repo + ":multi";
            Res created = call("POST", "/templates", JSON.writeValueAsString(Map.of("name", "from-image", "build_spec", Map.of("from", from,
                    "steps", List.of(Map.of("run", "cat /etc/greeting > /made.txt; echo $GREETING >> /made.txt"))))), key);
            assertThat(created.status()).as(String.valueOf(created.body())).isEqualTo(201);
            JsonNode t = await(created.body().path("id").asText());
            String buildLog = call("GET", "/templates/" + created.body().path("id").asText() + "/builds/" + created.body().path("build_id").asText()
                    + "/status", null, key).body().path("logs").toString();
            assertThat(t.path("status").asText()).as(buildLog).isEqualTo("ready");
            assertThat(buildLog).contains("pulled " + from);
            String c = call("POST", "/v1/capsules", "{\"template\":\"from-image\"}", key).body().path("id").asText();
            assertThat(exec(c, "cat /made.txt; ls /opq; test -e /removed.txt && echo removed-is-back; whoami; echo $GREETING").path("stdout").asText())
                    .isEqualTo("hello layer 2\nfrom-image\nnew.txt\nroot\nfrom-image\n");
            call("DELETE", "/v1/capsules/" + c, null, key);

            // the same image again (by its manifest digest this time): its layers are there already
            Path layerStore = data.resolve("node/layers");
            List<Path> before;
            try (var s = Files.list(layerStore)) {
                before = s.filter(p -> p.getFileName().toString().startsWith("sha256-")).toList();
            }
            assertThat(before).hasSize(2);
            Res again = call("POST", "/templates", JSON.writeValueAsString(Map.of("name", "from-image-2", "build_spec", Map.of("from",
                    "127.0.0.1:" + port + "/" + repo + "@" + manifestDigest))), key);
            assertThat(await(again.body().path("id").asText()).path("status").asText()).isEqualTo("ready");
            try (var s = Files.list(layerStore)) {
                assertThat(s.filter(p -> p.getFileName().toString().startsWith("sha256-")).toList()).as("the layers are shared").hasSameElementsAs(before);
            }
            // a reference to nothing fails the build, saying so
            Res missing = call("POST", "/templates", JSON.writeValueAsString(Map.of("name", "from-nothing", "build_spec", Map.of("from",
                    "127.0.0.1:" + port + "/cella/nothing:v1"))), key);
            assertThat(await(missing.body().path("id").asText()).path("status").asText()).isEqualTo("failed");
        } finally {
            registryProcess.destroy();
            registryProcess.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
