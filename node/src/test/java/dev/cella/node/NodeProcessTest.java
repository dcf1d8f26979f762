package dev.cella.node;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cella.node.runtime.CgroupLayout;
import dev.cella.node.runtime.Crun;
import dev.cella.node.sys.Paths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code cella node} as a real process: kill -9 it, start it again, and its sandboxes are still there. */
class NodeProcessTest {
    static NodeFixture fixture;
    static Path state;
    static Process node;
    static final int API = 47301, PROXY = 47302;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(NodeFixture.isRoot(), "sandboxes need root: namespaces, mounts, cgroups (CI is root)");
        fixture = new NodeFixture();
        state = Files.createTempDirectory("cella-node-process");
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        if (state != null) {
            // what the node left running is taken apart by a node of this state directory
            Process last = startNode();
            String token = Files.readString(state.resolve("node-token")).trim();
            for (JsonNode s : call("GET", "/v1/sandboxes", null, token).body()) call("DELETE", "/v1/sandboxes/" + s.path("sandboxId").asText(), null, token);
            // stopped as an operator stops it (SIGTERM): it stops its warm pool's sandboxes on the way out
            last.destroy();
            if (!last.waitFor(60, TimeUnit.SECONDS)) last.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fixture.driver.reconcile(Set.of()); // whatever a failed test left
            Paths.deleteTree(state);
        }
        if (fixture != null) fixture.close();
    }

    static Process startNode() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), NodeMain.class.getName(),
                "--state-dir", state.toString(), "--api", "127.0.0.1:" + API, "--proxy", "127.0.0.1:" + PROXY,
                "--envd-runtime", fixture.repo.resolve("envd/target/envd-runtime").toString(), "--template", "base=" + fixture.rootfs)
                .redirectErrorStream(true).redirectOutput(state.resolve("node.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try {
                if (call("GET", "/health", null, null).status() == 200) return p;
            } catch (IOException notYet) {
                // not listening yet
            }
            if (!p.isAlive()) throw new AssertionError("node exited: " + Files.readString(state.resolve("node.log")));
            Thread.sleep(100);
        }
        throw new AssertionError("node did not start: " + Files.readString(state.resolve("node.log")));
    }

    /** Whether the node's pool of base has all it should have, none being started. */
    static boolean poolFull(String token) throws Exception {
        for (JsonNode t : call("GET", "/v1/pool", null, token).body().path("templates")) {
            if (t.path("templateId").asText().equals("base")) {
                return t.path("target").asInt() > 0 && t.path("ready").asInt() == t.path("target").asInt() && t.path("starting").asInt() == 0;
            }
        }
        return false;
    }

    /** The warm pool's containers under the node's crun root. */
    static List<String> pooledContainers() throws Exception {
        return new Crun(state.resolve("crun"), CgroupLayout.detect(), NodeFixture.JSON).list()
                .stream().filter(n -> n.startsWith("cella-pool")).toList();
    }

    record Res(int status, JsonNode body) {}

    static Res call(String method, String path, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + API + path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) b.header("Authorization", "Bearer " + token);
        HttpResponse<String> r = fixture.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Res(r.statusCode(), r.body().isEmpty() ? null : NodeFixture.JSON.readTree(r.body()));
    }

    @Test
    void sandboxesSurviveAKilledNodeAndAreReadopted() throws Exception {
        node = startNode();
        String token = Files.readString(state.resolve("node-token")).trim();
        assertThat(Files.getPosixFilePermissions(state.resolve("node-token")).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");
        Res created = call("POST", "/v1/sandboxes", """
                {"sandboxId":"proc1","templateId":"base","memoryMb":256,"timeoutSeconds":600,"internet":false}""", token);
        assertThat(created.status()).isEqualTo(201);
        call("POST", "/v1/sandboxes", "{\"sandboxId\":\"proc2\",\"templateId\":\"base\",\"memoryMb\":256,\"internet\":false}", token);
        call("POST", "/v1/sandboxes/proc2/pause", null, token);
        String envd = created.body().path("envdUrl").asText();
        // written aside and renamed: a read never sees the file between its truncation and date's write
        fixture.run(envd, "nohup bash -c 'while true; do date +%s%N > /tmp/beat.new; mv /tmp/beat.new /tmp/beat; sleep 0.05; done' >/dev/null 2>&1 &", null);

        // its warm pool is full: a dying node leaves the pooled sandboxes to its next start to remove
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!poolFull(token) && System.nanoTime() < deadline) Thread.sleep(100);
        List<String> pooledBefore = new ArrayList<>(pooledContainers());
        for (String id : List.of("proc1", "proc2")) { // created from the pool: theirs are not pooled any more
            pooledBefore.remove("cella-" + call("GET", "/v1/sandboxes/" + id, null, token).body().path("runtimeName").asText());
        }
        assertThat(pooledBefore).as("pooled sandboxes of the first node").isNotEmpty();

        node.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // kill -9
        var first = fixture.run(envd, "cat /tmp/beat", null);
        assertThat(first.stdout()).as("the heartbeat, read after the node died (stderr: %s)", first.stderr()).isNotBlank();
        String beat = first.stdout();
        Thread.sleep(200);
        assertThat(fixture.run(envd, "cat /tmp/beat", null).stdout()).as("the sandbox runs on without its node").isNotEqualTo(beat);

        node = startNode();
        assertThat(pooledContainers()).as("the dead node's pooled sandboxes are removed at the next start").doesNotContainAnyElementsOf(pooledBefore);
        JsonNode list = call("GET", "/v1/sandboxes", null, token).body();
        assertThat(list).hasSize(2);
        JsonNode proc1 = call("GET", "/v1/sandboxes/proc1", null, token).body();
        assertThat(proc1.path("state").asText()).isEqualTo("running");
        assertThat(proc1.path("endAt").asText()).isEqualTo(created.body().path("endAt").asText());
        assertThat(call("GET", "/v1/sandboxes/proc2", null, token).body().path("state").asText()).isEqualTo("paused");
        assertThat(call("GET", "/v1/sandboxes/proc1/events", null, token).body().toString()).contains("readopted");
        // and its traffic flows again through the new node's proxy
        var health = fixture.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PROXY + "/health"))
                .header("E2b-Sandbox-Id", "proc1").build(), HttpResponse.BodyHandlers.discarding());
        assertThat(health.statusCode()).isEqualTo(204);
        assertThat(call("POST", "/v1/sandboxes/proc2/resume", "{}", token).status()).isEqualTo(200);
        for (String id : List.of("proc1", "proc2")) assertThat(call("DELETE", "/v1/sandboxes/" + id, null, token).status()).isEqualTo(204);
    }
}
