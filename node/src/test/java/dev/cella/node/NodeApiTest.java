package dev.cella.node;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cella.node.api.NodeApi;
import dev.cella.node.api.NodeCapacity;
import dev.cella.node.metrics.MetricsSampler;
import dev.cella.node.pool.WarmPool;
import dev.cella.node.proxy.NodeRoutes;
import dev.cella.node.proxy.SandboxProxy;
import dev.cella.node.sandbox.SandboxState;
import dev.cella.node.sandbox.SandboxStore;
import dev.cella.node.sandbox.Sandboxes;
import dev.cella.node.template.NodeTemplates;
import dev.cella.protocol.envd.EnvdClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The node's API and traffic proxy over real HTTP, with real sandboxes behind them. */
class NodeApiTest {
    static final String TOKEN = "node-token-for-tests-" + System.nanoTime();
    static NodeFixture node;
    static Sandboxes sandboxes;
    static NodeApi api;
    static SandboxProxy proxy;
    static NodeTemplates templates;
    static MetricsSampler metrics;
    static String apiBase, proxyBase;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(NodeFixture.isRoot(), "sandboxes need root: namespaces, mounts, cgroups (CI is root)");
        node = new NodeFixture();
        sandboxes = new Sandboxes(node.driver, new SandboxStore(node.state), Clock.systemUTC());
        sandboxes.recover();
        metrics = new MetricsSampler(sandboxes, node.driver).start();
        proxy = new SandboxProxy(new NodeRoutes(sandboxes)).start("127.0.0.1", 0);
        templates = new NodeTemplates(Map.of("base", node.rootfs), node.state.resolve("templates"));
        var pool = new WarmPool(node.driver, sandboxes.starts(), templates::rootfs, Set.of("base"),
                WarmPool.Settings.off(), Clock.systemUTC());
        api = new NodeApi(sandboxes, templates, null, pool,
                new NodeCapacity("test-node", "container", node.state, proxy.port()), metrics, TOKEN).start("127.0.0.1", 0);
        apiBase = "http://127.0.0.1:" + api.port();
        proxyBase = "http://127.0.0.1:" + proxy.port();
    }

    @AfterAll
    static void stop() throws Exception {
        if (api != null) api.stop();
        if (metrics != null) metrics.close();
        if (proxy != null) proxy.stop();
        if (sandboxes != null) {
            for (var r : sandboxes.list()) sandboxes.kill(r.spec().id());
            sandboxes.close();
        }
        if (node != null) node.close();
    }

    record Res(int status, JsonNode body) {}

    static Res call(String method, String path, String body, boolean withToken) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(apiBase + path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (withToken) b.header("Authorization", "Bearer " + TOKEN);
        HttpResponse<String> r = node.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Res(r.statusCode(), r.body().isEmpty() ? null : NodeFixture.JSON.readTree(r.body()));
    }

    @Test
    void theLifecycleOverHttp() throws Exception {
        assertThat(call("GET", "/v1/sandboxes", null, false).status()).isEqualTo(401);
        assertThat(call("GET", "/health", null, false).status()).isEqualTo(200);
        assertThat(call("POST", "/v1/sandboxes", "{not json", true).status()).isEqualTo(400);
        assertThat(call("POST", "/v1/sandboxes", "{\"sandboxId\":\"x1\",\"templateId\":\"nope\"}", true).status()).isEqualTo(400);
        assertThat(call("POST", "/v1/sandboxes", "{\"sandboxId\":\"Bad-Id\",\"templateId\":\"base\"}", true).status()).isEqualTo(400);
        assertThat(call("POST", "/v1/sandboxes", "{\"sandboxId\":\"x2\",\"templateId\":\"base\",\"memoryMb\":\"lots\"}", true).status()).isEqualTo(400);

        Res created = call("POST", "/v1/sandboxes", """
                {"sandboxId":"api1","templateId":"base","vcpus":1,"memoryMb":256,"diskMb":512,"timeoutSeconds":300,
                 "envVars":{"A":"1"},"metadata":{"owner":"tests"},"envdAccessToken":"secret-token","internet":false}""", true);
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.body().path("state").asText()).isEqualTo("running");
        assertThat(created.body().toString()).doesNotContain("secret-token");
        assertThat(call("GET", "/v1/sandboxes/api1", null, true).body().path("metadata").path("owner").asText()).isEqualTo("tests");
        assertThat(call("GET", "/v1/sandboxes", null, true).body()).hasSize(1);
        assertThat(call("POST", "/v1/sandboxes/api1/pause", null, true).status()).isEqualTo(200);
        assertThat(call("POST", "/v1/sandboxes/api1/pause", null, true).status()).isEqualTo(409);
        assertThat(call("POST", "/v1/sandboxes/api1/resume", "{\"timeoutSeconds\":60}", true).body().path("state").asText()).isEqualTo("running");
        assertThat(call("POST", "/v1/sandboxes/api1/timeout", "{\"timeoutSeconds\":-5}", true).status()).isEqualTo(400);
        assertThat(call("POST", "/v1/sandboxes/api1/timeout", "{}", true).status()).as("required").isEqualTo(400);
        assertThat(call("POST", "/v1/sandboxes/api1/timeout", "{\"timeoutSeconds\":\"soon\"}", true).body().path("message").asText())
                .isEqualTo("timeoutSeconds has the wrong type");
        assertThat(call("POST", "/v1/sandboxes/api1/resume", "[1]", true).status()).as("not an object").isEqualTo(400);
        assertThat(call("PUT", "/v1/pool/base", "{\"size\":-1}", true).status()).isEqualTo(400);
        assertThat(call("PUT", "/v1/pool/base", "{\"size\":1001}", true).status()).isEqualTo(400);
        assertThat(call("PUT", "/v1/pool/base", "{\"size\":\"lots\"}", true).body().path("message").asText()).isEqualTo("size has the wrong type");
        assertThat(call("POST", "/v1/images", "{\"username\":\"u\"}", true).body().path("message").asText()).isEqualTo("reference is required");
        assertThat(call("POST", "/v1/sandboxes/api1/snapshot", "{}", true).body().path("message").asText()).isEqualTo("templateId is required");
        assertThat(call("POST", "/v1/sandboxes/api1/timeout", "{\"timeoutSeconds\":120}", true).status()).isEqualTo(200);
        JsonNode node1 = call("GET", "/v1/node", null, true).body();
        assertThat(node1.path("sandboxes").path("running").asInt()).isEqualTo(1);
        assertThat(node1.path("nodeId").asText()).isEqualTo("test-node");
        assertThat(node1.path("proxyPort").asInt()).isEqualTo(proxy.port());
        assertThat(call("GET", "/v1/templates", null, true).body().toString()).contains("\"templateId\":\"base\"");
        assertThat(node1.path("committed").path("memoryMb").asInt()).isEqualTo(256);
        assertThat(call("GET", "/v1/sandboxes/api1/events", null, true).body().toString()).contains("created", "paused", "resumed", "timeout-set");
        assertThat(call("DELETE", "/v1/sandboxes/api1", null, true).status()).isEqualTo(204);
        assertThat(call("GET", "/v1/sandboxes/api1", null, true).status()).isEqualTo(404);
        assertThat(call("DELETE", "/v1/sandboxes/api1", null, true).status()).isEqualTo(404);
    }

    @Test
    void metricsShowWhatTheSandboxUses() throws Exception {
        call("POST", "/v1/sandboxes", "{\"sandboxId\":\"mx1\",\"templateId\":\"base\",\"vcpus\":1,\"memoryMb\":256,\"internet\":false}", true);
        String url = sandboxes.require("mx1").envdUrl();
        node.run(url, "head -c 50000000 /dev/urandom > ~/blob; timeout 2 sh -c 'while :; do :; done'; true", null);
        Thread.sleep(700);
        JsonNode m = call("GET", "/v1/sandboxes/mx1/metrics?range=5m", null, true).body();
        assertThat(m.path("sandbox_id").asText()).isEqualTo("mx1");
        assertThat(m.path("points").size()).isGreaterThan(3);
        double maxCpu = 0;
        long maxDisk = 0, maxMem = 0;
        for (JsonNode p : m.path("points")) {
            maxCpu = Math.max(maxCpu, p.path("cpu_pct").asDouble());
            maxDisk = Math.max(maxDisk, p.path("disk_bytes").asLong());
            maxMem = Math.max(maxMem, p.path("mem_bytes").asLong());
        }
        assertThat(maxCpu).as("a busy loop on its one vCPU").isGreaterThan(40);
        assertThat(maxDisk).as("the 50 MB it wrote").isGreaterThan(50_000_000L);
        assertThat(maxMem).isGreaterThan(10_000_000L);
        assertThat(call("GET", "/v1/sandboxes/mx1/metrics?range=3d", null, true).status()).isEqualTo(400);
        sandboxes.kill("mx1");
        assertThat(call("GET", "/v1/sandboxes/mx1/metrics", null, true).status()).isEqualTo(404);
    }

    @Test
    void theProxyStreamsToEnvdAndGuardsItsInternalRoutes() throws Exception {
        call("POST", "/v1/sandboxes", "{\"sandboxId\":\"px1\",\"templateId\":\"base\",\"memoryMb\":256,\"internet\":false}", true);
        // a streaming command through the proxy: its first line arrives long before it ends
        EnvdClient viaProxy = new EnvdClient(node.http, URI.create(proxyBase)).withHeaders(Map.of("E2b-Sandbox-Id", "px1", "E2b-Sandbox-Port", "49983"));
        long t0 = System.nanoTime();
        long firstAt = -1;
        StringBuilder out = new StringBuilder();
        try (EnvdClient.Stream stream = viaProxy.start(EnvdClient.Start.bash("echo first; sleep 1.5; echo second"), null)) {
            for (EnvdClient.Stream.Message m; (m = stream.next()) != null && !m.end(); ) {
                JsonNode data = m.body().path("event").path("data");
                if (data.has("stdout")) {
                    if (firstAt < 0) firstAt = System.nanoTime();
                    out.append(new String(data.get("stdout").binaryValue()));
                }
            }
        }
        long end = System.nanoTime();
        assertThat(out.toString()).isEqualTo("first\nsecond\n");
        assertThat(TimeUnit.NANOSECONDS.toMillis(end - firstAt)).as("first line streamed ahead of the end").isGreaterThan(1000);
        assertThat(TimeUnit.NANOSECONDS.toMillis(firstAt - t0)).isLessThan(1000);

        // host-based routing, and envd's /init out of reach
        // (the JDK's client will not set Host: a raw request does)
        try (var socket = new Socket("127.0.0.1", proxy.port())) {
            socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 49983-px1.cella.test\r\nConnection: close\r\n\r\n".getBytes());
            String status = new BufferedReader(new InputStreamReader(socket.getInputStream())).readLine();
            assertThat(status).startsWith("HTTP/1.1 204");
        }
        var init = node.http.send(HttpRequest.newBuilder(URI.create(proxyBase + "/init")).header("E2b-Sandbox-Id", "px1")
                .POST(HttpRequest.BodyPublishers.ofString("{\"accessToken\":\"mine\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(init.statusCode()).isEqualTo(403);
        var unknown = node.http.send(HttpRequest.newBuilder(URI.create(proxyBase + "/health")).header("E2b-Sandbox-Id", "nosuch").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unknown.statusCode()).isEqualTo(502);
        assertThat(NodeFixture.JSON.readTree(unknown.body()).path("sandboxId").asText()).isEqualTo("nosuch");
        // paused: a sandbox without autoResume stays asleep; one with it wakes up
        sandboxes.pause("px1");
        var asleep = node.http.send(HttpRequest.newBuilder(URI.create(proxyBase + "/health")).header("E2b-Sandbox-Id", "px1").build(),
                HttpResponse.BodyHandlers.discarding());
        assertThat(asleep.statusCode()).isEqualTo(502);
        sandboxes.kill("px1");
        call("POST", "/v1/sandboxes", "{\"sandboxId\":\"px2\",\"templateId\":\"base\",\"memoryMb\":256,\"internet\":false,\"onTimeout\":\"pause\",\"autoResume\":true}", true);
        sandboxes.pause("px2");
        var woken = node.http.send(HttpRequest.newBuilder(URI.create(proxyBase + "/health")).header("E2b-Sandbox-Id", "px2").build(),
                HttpResponse.BodyHandlers.discarding());
        assertThat(woken.statusCode()).isEqualTo(204);
        assertThat(sandboxes.require("px2").state()).isEqualTo(SandboxState.RUNNING);
        sandboxes.kill("px2");
    }

    @Test
    void webSocketsReachAnyPortInside() throws Exception {
        // its traffic is not public: ports other than envd's need its traffic token
        call("POST", "/v1/sandboxes", "{\"sandboxId\":\"ws1\",\"templateId\":\"base\",\"memoryMb\":256,\"internet\":false,"
                + "\"trafficAccessToken\":\"traffic-secret\"}", true);
        String url = sandboxes.require("ws1").envdUrl();
        byte[] server = NodeApiTest.class.getResourceAsStream("/ws_echo.py").readAllBytes();
        var up = node.http.send(HttpRequest.newBuilder(URI.create(url + "/files?path=/home/user/ws_echo.py"))
                .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofByteArray(server)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(up.statusCode()).isEqualTo(200);
        node.run(url, "nohup python3 /home/user/ws_echo.py >/tmp/ws.log 2>&1 & for i in $(seq 50); do (echo > /dev/tcp/127.0.0.1/8765) 2>/dev/null && break; sleep 0.1; done", null);
        var noToken = node.http.send(HttpRequest.newBuilder(URI.create(proxyBase + "/")).header("E2b-Sandbox-Id", "ws1")
                .header("E2b-Sandbox-Port", "8765").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(noToken.statusCode()).isEqualTo(403);
        assertThat(noToken.body()).contains("e2b-traffic-access-token");
        var envdStillOpen = node.http.send(HttpRequest.newBuilder(URI.create(proxyBase + "/health")).header("E2b-Sandbox-Id", "ws1")
                .build(), HttpResponse.BodyHandlers.discarding());
        assertThat(envdStillOpen.statusCode()).as("envd's port checks its own token").isEqualTo(204);
        CompletableFuture<String> reply = new CompletableFuture<>();
        WebSocket ws = node.http.newWebSocketBuilder().header("E2b-Sandbox-Id", "ws1").header("E2b-Sandbox-Port", "8765")
                .header("e2b-traffic-access-token", "traffic-secret")
                .buildAsync(URI.create("ws://127.0.0.1:" + proxy.port() + "/chat"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                        reply.complete(data.toString());
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
        ws.sendText("hello sandbox", true).get(5, TimeUnit.SECONDS);
        assertThat(reply.get(10, TimeUnit.SECONDS)).isEqualTo("echo:hello sandbox");
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
        sandboxes.kill("ws1");
    }

    @Test
    void snapshotsAreLayeredTemplatesWithTheSandboxsFiles() throws Exception {
        call("POST", "/v1/sandboxes", "{\"sandboxId\":\"snap1\",\"templateId\":\"base\",\"memoryMb\":256,\"internet\":false}", true);
        String url = sandboxes.require("snap1").envdUrl();
        assertThat(node.run(url, "mkdir -p /home/user/work && echo kept > /home/user/work/note.txt && rm /etc/issue && rm -r /usr/share/doc/bash", "root")
                .exitCode()).isZero();
        Res snap = call("POST", "/v1/sandboxes/snap1/snapshot", "{\"templateId\":\"tplsnap1\"}", true);
        assertThat(snap.status()).isEqualTo(201);
        assertThat(snap.body().path("sizeBytes").asLong()).isPositive().isLessThan(10L << 20);
        assertThat(sandboxes.require("snap1").state()).as("running again after the copy").isEqualTo(SandboxState.RUNNING);
        assertThat(call("POST", "/v1/sandboxes/snap1/snapshot", "{\"templateId\":\"tplsnap1\"}", true).status()).as("id taken").isEqualTo(400);
        assertThat(call("GET", "/v1/templates", null, true).body().toString()).contains("tplsnap1");

        // a sandbox of the snapshot has its files, and what was deleted stays deleted
        call("POST", "/v1/sandboxes", "{\"sandboxId\":\"snap2\",\"templateId\":\"tplsnap1\",\"memoryMb\":256,\"internet\":false}", true);
        String url2 = sandboxes.require("snap2").envdUrl();
        assertThat(node.run(url2, "cat /home/user/work/note.txt; test -e /etc/issue && echo issue-back; test -d /usr/share/doc/bash && echo doc-back; cat /etc/os-release | head -1", null).stdout())
                .contains("kept").doesNotContain("issue-back").doesNotContain("doc-back").contains("Debian");
        // and a snapshot of it stands on both layers
        assertThat(node.run(url2, "echo second > /home/user/work/second.txt", "root").exitCode()).isZero();
        assertThat(call("POST", "/v1/sandboxes/snap2/snapshot", "{\"templateId\":\"tplsnap2\"}", true).status()).isEqualTo(201);
        call("POST", "/v1/sandboxes", "{\"sandboxId\":\"snap3\",\"templateId\":\"tplsnap2\",\"memoryMb\":256,\"internet\":false}", true);
        assertThat(node.run(sandboxes.require("snap3").envdUrl(), "cat /home/user/work/note.txt /home/user/work/second.txt", null).stdout()).contains("kept", "second");

        // deleting a template others stand on keeps its files until nothing does
        assertThat(call("DELETE", "/v1/templates/base", null, true).status()).isEqualTo(400);
        assertThat(call("DELETE", "/v1/templates/nosuch", null, true).status()).isEqualTo(404);
        assertThat(call("DELETE", "/v1/templates/tplsnap1", null, true).status()).isEqualTo(204);
        assertThat(node.state.resolve("templates/tplsnap1/layer")).exists();
        assertThat(call("POST", "/v1/sandboxes", "{\"sandboxId\":\"snap4\",\"templateId\":\"tplsnap1\"}", true).status()).isEqualTo(400);
        for (String id : new String[] {"snap1", "snap2", "snap3"}) sandboxes.kill(id);
        assertThat(call("DELETE", "/v1/templates/tplsnap2", null, true).status()).isEqualTo(204);
        assertThat(node.state.resolve("templates/tplsnap1")).doesNotExist();
        assertThat(node.state.resolve("templates/tplsnap2")).doesNotExist();
    }
}
