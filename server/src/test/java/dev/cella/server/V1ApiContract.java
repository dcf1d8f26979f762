package dev.cella.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.Node;
import dev.cella.node.NodeConfig;
import dev.cella.node.cli.Options;
import dev.cella.node.sandbox.HostSize;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.nodes.LocalNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native dialect (the Wrenn API) over HTTP, on the server as {@code cella up} wires it, with
 * a real node: accounts, teams and their role rules, keys shared with the E2B dialect,
 * capsules with exec and processes, and that no team reaches another's capsules. Run on
 * SQLite ({@link V1ApiTest}) and PostgreSQL ({@link V1ApiPostgresTest}).
 */
abstract class V1ApiContract {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static Path data;
    static Node node;
    static Server server;
    static FakeGithub github;
    static String base;

    /** Starts the server with these options added (its database, say). */
    static void launch(String... extra) throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "a node runs sandboxes in namespaces; this needs root (CI is root)");
        Path rootfs = TestRepo.baseRootfs();
        data = Files.createTempDirectory("cella-v1-test");
        Map<String, Path> templates = Map.of("base", rootfs);
        node = new Node(new NodeConfig("local", data.resolve("node"), "127.0.0.1", 0, "127.0.0.1", 0, "x".repeat(32),
                TestRepo.envdRuntime(), templates, 234));
        github = new FakeGithub();
        List<String> args = new ArrayList<>(List.of("--data-dir", data.toString(), "--port", "0", "--max-upload-mb", "64",
                "--pty-idle-seconds", "8", "--github-client-id", FakeGithub.CLIENT_ID, "--github-client-secret", FakeGithub.CLIENT_SECRET,
                "--github-url", github.url(), "--github-api-url", github.url(), "--frontend-url", "http://frontend.test"));
        args.addAll(List.of(extra));
        server = new Server(ServerSettings.from(Options.parse("test", args.toArray(String[]::new), ServerSettings.OPTIONS)),
                new Fleet(List.of(new LocalNode("local", node))));
        base = "http://127.0.0.1:" + server.apiPort();
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (github != null) github.close();
        TestRepo.closeWithItsSandboxes(node);
    }

    record Res(int status, JsonNode body) {
        String code() {
            return body == null ? null : body.path("error").path("code").asText(null);
        }
    }

    /** A call with a login token ("Bearer ...") or an API key ("e2b_..."), or neither. */
    static Res call(String method, String path, String body, String credential) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (credential != null && credential.startsWith("e2b_")) b.header("X-API-Key", credential);
        else if (credential != null) b.header("Authorization", "Bearer " + credential);
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = null;
        if (!r.body().isBlank()) {
            try {
                json = JSON.readTree(r.body());
            } catch (Exception notJson) {
                json = JSON.getNodeFactory().textNode(r.body());
            }
        }
        return new Res(r.statusCode(), json);
    }

    static int unique = 0;

    /** Signs up a new user; returns the auth response (token, user_id, team_id). */
    static JsonNode signup(String who) throws Exception {
        String email = who + (++unique) + System.nanoTime() + "@example.com";
        Res r = call("POST", "/v1/auth/signup", "{\"email\":\"" + email + "\",\"password\":\"correct horse\",\"name\":\"" + who + "\"}", null);
        assertThat(r.status()).as(String.valueOf(r.body())).isEqualTo(201);
        return r.body();
    }

    static String apiKey(String token) throws Exception {
        Res r = call("POST", "/v1/api-keys", "{\"name\":\"test\"}", token);
        assertThat(r.status()).isEqualTo(201);
        return r.body().path("key").asText();
    }

    @Test
    void signupLoginAndKeys() throws Exception {
        for (String bad : new String[] {
                "{\"email\":\"nope\",\"password\":\"12345678\",\"name\":\"x\"}",
                "{\"email\":\"a@b.c\",\"password\":\"short\",\"name\":\"x\"}",
                "{\"email\":\"a@b.c\",\"password\":\"12345678\"}",
                "{\"email\":\"a@b.c\",\"password\":\"12345678\",\"name\":\"" + "n".repeat(101) + "\"}",
                "not json", "[1,2]", "{\"email\":5,\"password\":\"12345678\",\"name\":\"x\"}"}) {
            Res r = call("POST", "/v1/auth/signup", bad, null);
            assertThat(r.status()).as(bad).isEqualTo(400);
            assertThat(r.code()).isEqualTo("invalid_request");
        }
        JsonNode alice = signup("alice");
        String email = alice.path("email").asText();
        assertThat(alice.path("token").asText()).isNotBlank();
        assertThat(alice.path("team_id").asText()).startsWith("team_");
        Res again = call("POST", "/v1/auth/signup", "{\"email\":\"" + email.toUpperCase() + "\",\"password\":\"12345678\",\"name\":\"x\"}", null);
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.code()).isEqualTo("email_taken");

        Thread.sleep(1100); // other tests' refusals from this client this second count too
        Res wrong = call("POST", "/v1/auth/login", "{\"email\":\"" + email + "\",\"password\":\"wrong password\"}", null);
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.code()).isEqualTo("unauthorized");
        // failed authentications are limited per client (Lelantos: 3 a second): of ten at once, most are refused
        List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            burst.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v1/auth/login"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"email\":\"nobody@example.com\",\"password\":\"x\"}")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        List<Integer> statuses = burst.stream().map(f -> f.join().statusCode()).toList();
        assertThat(statuses).containsOnly(401, 429);
        assertThat(statuses.stream().filter(x -> x == 429).count()).isGreaterThanOrEqualTo(5);
        Thread.sleep(1100);
        assertThat(call("POST", "/v1/auth/login", "{}", null).status()).isEqualTo(400);
        Res login = call("POST", "/v1/auth/login", "{\"email\":\"" + email + "\",\"password\":\"correct horse\"}", null);
        assertThat(login.status()).isEqualTo(200);
        assertThat(login.body().path("team_id").asText()).isEqualTo(alice.path("team_id").asText());
        String token = login.body().path("token").asText();

        assertThat(call("GET", "/v1/api-keys", null, null).status()).isEqualTo(401);
        assertThat(call("GET", "/v1/api-keys", null, "not-a-jwt").status()).isEqualTo(401);
        Thread.sleep(1100);
        Res made = call("POST", "/v1/api-keys", "{}", token);
        assertThat(made.status()).isEqualTo(201);
        String key = made.body().path("key").asText();
        assertThat(key).matches("e2b_[0-9a-f]{40}");
        assertThat(made.body().path("name").asText()).isEqualTo("Unnamed API Key");
        assertThat(made.body().path("key_prefix").asText()).isEqualTo(key.substring(0, 12));
        // one key store: the key works for both dialects, and is listed without itself
        assertThat(call("GET", "/v1/capsules", null, key).status()).isEqualTo(200);
        var e2b = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v2/sandboxes")).header("X-API-KEY", key).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(e2b.statusCode()).isEqualTo(200);
        Res listed = call("GET", "/v1/api-keys", null, token);
        assertThat(listed.body()).hasSize(1);
        assertThat(listed.body().get(0).has("key")).isFalse();
        assertThat(listed.body().get(0).path("last_used").isNull()).as("used just now").isFalse();
        assertThat(call("GET", "/v1/api-keys", null, key).status()).as("keys are managed with a login, not a key").isEqualTo(401);
        assertThat(call("DELETE", "/v1/api-keys/" + made.body().path("id").asText(), null, token).status()).isEqualTo(204);
        assertThat(call("GET", "/v1/capsules", null, key).status()).isEqualTo(401);
        Thread.sleep(1100);

        assertThat(call("GET", "/v1/users/search?email=alice", null, token).status()).isEqualTo(400);
        Res found = call("GET", "/v1/users/search?email=" + email.substring(0, email.indexOf('@') + 1), null, token);
        assertThat(found.body()).hasSize(1);
        assertThat(found.body().get(0).path("email").asText()).isEqualTo(email);
    }

    @Test
    void teamsFollowTheRoleRules() throws Exception {
        JsonNode owner = signup("owner"), second = signup("second"), outsider = signup("outsider");
        String ownerToken = owner.path("token").asText();
        Res created = call("POST", "/v1/teams", "{\"name\":\"Research Lab\"}", ownerToken);
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.body().path("role").asText()).isEqualTo("owner");
        assertThat(created.body().path("slug").asText()).matches("[0-9a-f]{6}-[0-9a-f]{6}");
        String team = created.body().path("id").asText();
        assertThat(call("POST", "/v1/teams", "{\"name\":\"bad/name\"}", ownerToken).status()).isEqualTo(400);
        assertThat(call("POST", "/v1/teams", "{\"name\":\"\"}", ownerToken).status()).isEqualTo(400);
        assertThat(call("GET", "/v1/teams", null, ownerToken).body()).hasSize(2);

        // a token acts for one team: the new one needs a switch
        assertThat(call("GET", "/v1/teams/" + team, null, ownerToken).status()).isEqualTo(403);
        assertThat(call("POST", "/v1/auth/switch-team", "{\"team_id\":\"team_nope\"}", ownerToken).status()).isEqualTo(404);
        assertThat(call("POST", "/v1/auth/switch-team", "{}", ownerToken).status()).isEqualTo(400);
        String owned = call("POST", "/v1/auth/switch-team", "{\"team_id\":\"" + team + "\"}", ownerToken).body().path("token").asText();
        assertThat(call("GET", "/v1/teams/" + team, null, owned).body().path("members")).hasSize(1);
        assertThat(call("POST", "/v1/auth/switch-team", "{\"team_id\":\"" + team + "\"}", second.path("token").asText()).status())
                .as("not a member").isEqualTo(403);

        Res added = call("POST", "/v1/teams/" + team + "/members", "{\"email\":\"" + second.path("email").asText() + "\"}", owned);
        assertThat(added.status()).isEqualTo(201);
        assertThat(added.body().path("role").asText()).isEqualTo("member");
        assertThat(call("POST", "/v1/teams/" + team + "/members", "{\"email\":\"" + second.path("email").asText() + "\"}", owned).status())
                .as("already a member").isEqualTo(400);
        assertThat(call("POST", "/v1/teams/" + team + "/members", "{\"email\":\"ghost@example.com\"}", owned).status()).isEqualTo(404);

        String member = call("POST", "/v1/auth/switch-team", "{\"team_id\":\"" + team + "\"}", second.path("token").asText()).body().path("token").asText();
        String ownerId = owner.path("user_id").asText(), secondId = second.path("user_id").asText();
        // a member may look, not manage
        assertThat(call("GET", "/v1/teams/" + team + "/members", null, member).body()).hasSize(2);
        assertThat(call("PATCH", "/v1/teams/" + team, "{\"name\":\"Mine now\"}", member).status()).isEqualTo(403);
        assertThat(call("POST", "/v1/teams/" + team + "/members", "{\"email\":\"" + outsider.path("email").asText() + "\"}", member).status()).isEqualTo(403);
        assertThat(call("PATCH", "/v1/teams/" + team + "/members/" + secondId, "{\"role\":\"admin\"}", member).status()).isEqualTo(403);
        assertThat(call("DELETE", "/v1/teams/" + team, null, member).status()).isEqualTo(403);
        // the owner makes them admin; an admin manages, but never the owner
        assertThat(call("PATCH", "/v1/teams/" + team + "/members/" + secondId, "{\"role\":\"owner\"}", owned).status()).isEqualTo(400);
        assertThat(call("PATCH", "/v1/teams/" + team + "/members/" + secondId, "{\"role\":\"admin\"}", owned).status()).isEqualTo(204);
        assertThat(call("PATCH", "/v1/teams/" + team, "{\"name\":\"Research Lab 2\"}", member).status()).isEqualTo(204);
        assertThat(call("GET", "/v1/teams/" + team, null, member).body().path("team").path("name").asText()).isEqualTo("Research Lab 2");
        assertThat(call("PATCH", "/v1/teams/" + team + "/members/" + ownerId, "{\"role\":\"member\"}", member).status()).isEqualTo(403);
        assertThat(call("DELETE", "/v1/teams/" + team + "/members/" + ownerId, null, member).status()).isEqualTo(403);
        assertThat(call("DELETE", "/v1/teams/" + team + "/members/usr_nobody", null, member).status()).isEqualTo(404);
        assertThat(call("PATCH", "/v1/teams/" + team + "/members/usr_nobody", "{\"role\":\"admin\"}", owned).status()).isEqualTo(404);
        assertThat(call("DELETE", "/v1/teams/" + team, null, member).status()).as("only the owner deletes").isEqualTo(403);
        assertThat(call("POST", "/v1/teams/" + team + "/leave", null, owned).status()).as("the owner cannot leave").isEqualTo(403);
        assertThat(call("POST", "/v1/teams/" + team + "/leave", null, member).status()).isEqualTo(204);
        assertThat(call("GET", "/v1/teams/" + team, null, member).status()).as("their token's team is no longer theirs").isEqualTo(401);

        // deleting a team ends its capsules, its keys and its tokens
        String key = apiKey(owned);
        String capsule = call("POST", "/v1/capsules", "{}", key).body().path("id").asText();
        assertThat(call("DELETE", "/v1/teams/" + team, null, owned).status()).isEqualTo(204);
        assertThat(node.sandboxes().get(capsule)).isEmpty();
        assertThat(call("GET", "/v1/capsules", null, key).status()).isEqualTo(401);
        assertThat(call("GET", "/v1/teams/" + team, null, owned).status()).isEqualTo(401);
        assertThat(call("GET", "/v1/teams", null, ownerToken).body()).hasSize(1);
    }

    @Test
    void capsulesRunCommandsAndProcesses() throws Exception {
        String key = apiKey(signup("capsules").path("token").asText());
        String otherKey = apiKey(signup("other").path("token").asText());
        assertThat(call("POST", "/v1/capsules", "{\"template\":\"nope\"}", key).status()).isEqualTo(404);
        assertThat(call("POST", "/v1/capsules", "{\"vcpus\":0}", key).status()).isEqualTo(400);
        assertThat(call("POST", "/v1/capsules", "{\"memory_mb\":\"lots\"}", key).status()).isEqualTo(400);
        int cpus = HostSize.local().cpus();
        if (cpus < 16) { // more vCPUs than the host has: refused with why, not started (HostSizeTest has the rule)
            Res tooBig = call("POST", "/v1/capsules", "{\"vcpus\":" + (cpus + 1) + "}", key);
            assertThat(tooBig.status()).isEqualTo(400);
            assertThat(tooBig.body().toString()).contains("more than this host has");
        }
        Res created = call("POST", "/v1/capsules", "{\"vcpus\":1,\"memory_mb\":256}", key);
        assertThat(created.status()).as(String.valueOf(created.body())).isEqualTo(201);
        assertThat(created.body().path("status").asText()).isEqualTo("running");
        assertThat(created.body().path("template").asText()).isEqualTo("minimal");
        assertThat(created.body().path("memory_mb").asInt()).isEqualTo(256);
        String id = created.body().path("id").asText();
        String c = "/v1/capsules/" + id;
        assertThat(call("GET", c, null, key).body().path("status").asText()).isEqualTo("running");
        assertThat(call("GET", "/v1/capsules", null, key).body()).hasSize(1);
        // the same sandbox in the E2B dialect
        var e2b = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/sandboxes/" + id)).header("X-API-KEY", key).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(e2b.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(e2b.body()).path("memoryMB").asInt()).isEqualTo(256);

        Res echo = call("POST", c + "/exec", "{\"cmd\":\"/bin/sh\",\"args\":[\"-c\",\"echo out; echo err >&2; exit 3\"]}", key);
        assertThat(echo.status()).isEqualTo(200);
        assertThat(echo.body().path("stdout").asText()).isEqualTo("out\n");
        assertThat(echo.body().path("stderr").asText()).isEqualTo("err\n");
        assertThat(echo.body().path("exit_code").asInt()).isEqualTo(3);
        assertThat(echo.body().path("encoding").asText()).isEqualTo("utf-8");
        assertThat(echo.body().path("duration_ms").asLong()).isGreaterThanOrEqualTo(0);
        Res binary = call("POST", c + "/exec", "{\"cmd\":\"printf\",\"args\":[\"\\\\377\\\\376\"]}", key);
        assertThat(binary.body().path("encoding").asText()).isEqualTo("base64");
        assertThat(Base64.getDecoder().decode(binary.body().path("stdout").asText())).containsExactly(0xff, 0xfe);
        Res slow = call("POST", c + "/exec", "{\"cmd\":\"/bin/sh\",\"args\":[\"-c\",\"echo before; sleep 30\"],\"timeout_sec\":1}", key);
        assertThat(slow.status()).isEqualTo(200);
        assertThat(slow.body().path("exit_code").asInt()).isEqualTo(124);
        assertThat(slow.body().path("stdout").asText()).isEqualTo("before\n");
        assertThat(call("POST", c + "/exec", "{\"cmd\":\"no-such-program\"}", key).status()).isEqualTo(400);
        assertThat(call("POST", c + "/exec", "{}", key).status()).isEqualTo(400);
        assertThat(call("POST", c + "/exec", "{\"cmd\":\"ls\",\"args\":\"-l\"}", key).status()).isEqualTo(400);

        Res bg = call("POST", c + "/exec", "{\"cmd\":\"sleep\",\"args\":[\"300\"],\"background\":true}", key);
        assertThat(bg.status()).isEqualTo(202);
        assertThat(bg.body().path("tag").asText()).matches("proc-[0-9a-f]{8}");
        int pid = bg.body().path("pid").asInt();
        assertThat(pid).isPositive();
        Res named = call("POST", c + "/exec", "{\"cmd\":\"sleep\",\"args\":[\"300\"],\"background\":true,\"tag\":\"napper\"}", key);
        assertThat(named.body().path("tag").asText()).isEqualTo("napper");
        Res procs = call("GET", c + "/processes", null, key);
        assertThat(procs.body().path("processes").findValuesAsText("tag")).contains(bg.body().path("tag").asText(), "napper");
        assertThat(call("DELETE", c + "/processes/napper?signal=SIGHUP", null, key).status()).isEqualTo(400);
        assertThat(call("DELETE", c + "/processes/napper?signal=SIGTERM", null, key).status()).isEqualTo(204);
        assertThat(call("DELETE", c + "/processes/" + pid, null, key).status()).isEqualTo(204);
        assertThat(call("DELETE", c + "/processes/nosuchtag", null, key).status()).isEqualTo(404);
        Thread.sleep(300);
        assertThat(call("GET", c + "/processes", null, key).body().path("processes").findValuesAsText("tag"))
                .doesNotContain("napper", bg.body().path("tag").asText());

        assertThat(call("POST", c + "/ping", null, key).status()).isEqualTo(204);
        assertThat(call("GET", c, null, key).body().path("last_active_at").isNull()).isFalse();
        Res metrics = call("GET", c + "/metrics?range=5m", null, key);
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body().path("range").asText()).isEqualTo("5m");
        assertThat(call("GET", c + "/metrics?range=1y", null, key).status()).isEqualTo(400);
        Res stats = call("GET", "/v1/capsules/stats?range=5m", null, key);
        assertThat(stats.body().path("current").path("running_count").asInt()).isEqualTo(1);
        assertThat(stats.body().path("current").path("memory_mb_reserved").asInt()).isEqualTo(256);
        assertThat(call("GET", "/v1/capsules/stats?range=7d", null, key).status()).isEqualTo(400);

        // another team finds nothing, on every route
        for (String[] r : new String[][] {{"GET", c}, {"DELETE", c}, {"POST", c + "/exec"}, {"GET", c + "/processes"},
                {"DELETE", c + "/processes/1"}, {"POST", c + "/ping"}, {"GET", c + "/metrics"}, {"POST", c + "/pause"},
                {"POST", c + "/resume"}, {"POST", c + "/files/read"}, {"POST", c + "/files/stream/read"}, {"POST", c + "/files/list"},
                {"POST", c + "/files/mkdir"}, {"POST", c + "/files/remove"}}) {
            Res res = call(r[0], r[1], r[0].equals("POST") ? "{\"cmd\":\"true\",\"path\":\"/tmp\"}" : null, otherKey);
            assertThat(res.status()).as(r[0] + " " + r[1]).isEqualTo(404);
            assertThat(res.code()).isEqualTo("not_found");
        }
        assertThat(call("GET", "/v1/capsules", null, otherKey).body()).isEmpty();
        // and the other way round: a sandbox made through the E2B dialect is a capsule
        var viaE2b = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v2/sandboxes")).header("X-API-KEY", key)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"templateID\":\"base\",\"timeout\":120}")).build(),
                HttpResponse.BodyHandlers.ofString());
        String e2bId = JSON.readTree(viaE2b.body()).path("sandboxID").asText();
        Res asCapsule = call("GET", "/v1/capsules/" + e2bId, null, key);
        assertThat(asCapsule.body().path("status").asText()).isEqualTo("running");
        assertThat(asCapsule.body().path("template").asText()).isEqualTo("base");
        assertThat(call("POST", "/v1/capsules/" + e2bId + "/exec", "{\"cmd\":\"whoami\"}", key).body().path("stdout").asText()).isEqualTo("user\n");
        assertThat(call("GET", "/v1/capsules/" + e2bId, null, otherKey).status()).isEqualTo(404);
        assertThat(call("DELETE", "/v1/capsules/" + e2bId, null, key).status()).isEqualTo(204);

        Res paused = call("POST", c + "/pause", null, key);
        assertThat(paused.status()).isEqualTo(200);
        assertThat(paused.body().path("status").asText()).isEqualTo("paused");
        assertThat(call("POST", c + "/pause", null, key).status()).isEqualTo(409);
        Res notRunning = call("POST", c + "/exec", "{\"cmd\":\"true\"}", key);
        assertThat(notRunning.status()).isEqualTo(409);
        assertThat(notRunning.code()).isEqualTo("invalid_state");
        assertThat(call("POST", c + "/ping", null, key).status()).isEqualTo(409);
        Res resumed = call("POST", c + "/resume", null, key);
        assertThat(resumed.body().path("status").asText()).isEqualTo("running");
        assertThat(call("POST", c + "/resume", null, key).status()).isEqualTo(409);
        assertThat(call("POST", c + "/exec", "{\"cmd\":\"true\"}", key).body().path("exit_code").asInt()).isZero();
        assertThat(call("DELETE", c, null, key).status()).isEqualTo(204);
        assertThat(call("GET", c, null, key).status()).isEqualTo(404);
    }

    @Test
    void anIdleCapsulePausesAfterItsTimeoutAndActivityKeepsItUp() throws Exception {
        String key = apiKey(signup("idle").path("token").asText());
        String c = "/v1/capsules/" + call("POST", "/v1/capsules", "{\"timeout_sec\":3,\"memory_mb\":256}", key).body().path("id").asText();
        assertThat(call("GET", c, null, key).body().path("timeout_sec").asInt()).isEqualTo(3);
        for (int i = 0; i < 3; i++) {
            Thread.sleep(1500);
            assertThat(call("POST", c + "/ping", null, key).status()).as("still running after %d s of pings", (i + 1) * 3 / 2).isEqualTo(204);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String status;
        do {
            Thread.sleep(500);
            status = call("GET", c, null, key).body().path("status").asText();
        } while (!status.equals("paused") && System.nanoTime() < deadline);
        assertThat(status).isEqualTo("paused");
        assertThat(call("POST", c + "/resume", null, key).body().path("status").asText()).isEqualTo("running");
        call("DELETE", c, null, key);
    }

    /** A multipart body with the fields in the order given (name -> content), streamed from generators. */
    static HttpRequest.BodyPublisher multipart(String boundary, List<Map.Entry<String, Supplier<InputStream>>> parts) {
        List<Supplier<InputStream>> pieces = new ArrayList<>();
        for (var p : parts) {
            String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.getKey() + "\""
                    + (p.getKey().equals("file") ? "; filename=\"f.bin\"\r\nContent-Type: application/octet-stream" : "") + "\r\n\r\n";
            pieces.add(() -> new ByteArrayInputStream(head.getBytes(StandardCharsets.UTF_8)));
            pieces.add(p.getValue());
            pieces.add(() -> new ByteArrayInputStream("\r\n".getBytes(StandardCharsets.UTF_8)));
        }
        pieces.add(() -> new ByteArrayInputStream(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8)));
        return HttpRequest.BodyPublishers.ofInputStream(() -> new SequenceInputStream(
                Collections.enumeration(pieces.stream().map(Supplier::get).toList())));
    }

    /** {@code n} bytes of a repeatable pattern, made as they are read. */
    static InputStream pattern(long n) {
        return new InputStream() {
            long left = n;

            @Override
            public int read() {
                return left-- > 0 ? (int) (left % 251) : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) return -1;
                int k = (int) Math.min(len, left);
                for (int i = 0; i < k; i++) b[off + i] = (byte) ((left - 1 - i) % 251);
                left -= k;
                return k;
            }
        };
    }

    static HttpResponse<InputStream> upload(String path, String key, HttpRequest.BodyPublisher body, String boundary) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("X-API-Key", key)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary).POST(body).build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    @Test
    void filesMoveInAndOutAndStream() throws Exception {
        String key = apiKey(signup("files").path("token").asText());
        String c = "/v1/capsules/" + call("POST", "/v1/capsules", "{\"memory_mb\":256}", key).body().path("id").asText();
        String b = "cella-boundary-1";
        // the path first, then the file; and the other way round (the file then waits on disk)
        var up = upload(c + "/files/write", key, multipart(b, List.of(Map.entry("path", () -> new ByteArrayInputStream("/home/user/docs/a.txt".getBytes())),
                Map.entry("file", () -> new ByteArrayInputStream("hello files".getBytes())))), b);
        assertThat(up.statusCode()).isEqualTo(204);
        var late = upload(c + "/files/write", key, multipart(b, List.of(Map.entry("file", () -> new ByteArrayInputStream("late path".getBytes())),
                Map.entry("path", () -> new ByteArrayInputStream("/home/user/docs/b.txt".getBytes())))), b);
        assertThat(late.statusCode()).isEqualTo(204);
        var noPath = upload(c + "/files/write", key, multipart(b, List.of(Map.entry("file", () -> new ByteArrayInputStream("x".getBytes())))), b);
        assertThat(noPath.statusCode()).isEqualTo(400);
        var read = HTTP.send(HttpRequest.newBuilder(URI.create(base + c + "/files/read")).header("X-API-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"path\":\"/home/user/docs/a.txt\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.body()).isEqualTo("hello files");
        Res missing = call("POST", c + "/files/read", "{\"path\":\"/home/user/nope.txt\"}", key);
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.code()).isEqualTo("not_found");
        assertThat(call("POST", c + "/files/read", "{}", key).status()).isEqualTo(400);

        Res mk = call("POST", c + "/files/mkdir", "{\"path\":\"/home/user/docs/sub/deeper\"}", key);
        assertThat(mk.status()).isEqualTo(200);
        assertThat(mk.body().path("entry").path("type").asText()).isEqualTo("directory");
        assertThat(mk.body().path("entry").path("owner").asText()).isEqualTo("user");
        assertThat(call("POST", c + "/files/mkdir", "{\"path\":\"/home/user/docs/sub/deeper\"}", key).status()).isEqualTo(409);
        Res list = call("POST", c + "/files/list", "{\"path\":\"/home/user/docs\"}", key);
        assertThat(list.body().path("entries").findValuesAsText("name")).containsExactlyInAnyOrder("a.txt", "b.txt", "sub");
        JsonNode a = list.body().path("entries").get(0);
        assertThat(a.path("type").asText()).isEqualTo("file");
        assertThat(a.path("size").asLong()).isEqualTo(11);
        assertThat(a.path("permissions").asText()).startsWith("-rw");
        assertThat(a.path("modified_at").asLong()).isGreaterThan(1_700_000_000L);
        assertThat(call("POST", c + "/files/list", "{\"path\":\"/home/user/docs\",\"depth\":3}", key).body().path("entries")
                .findValuesAsText("name")).contains("deeper");
        assertThat(call("POST", c + "/files/remove", "{\"path\":\"/home/user/docs/sub\"}", key).status()).isEqualTo(204);
        assertThat(call("POST", c + "/files/remove", "{\"path\":\"/home/user/docs/sub\"}", key).status()).isEqualTo(204);
        assertThat(call("POST", c + "/files/list", "{\"path\":\"/home/user/docs\"}", key).body().path("entries")).hasSize(2);

        // streaming: 48 MiB up and down, checked byte for byte; past the limit (64 MiB here) a 413 and no file left
        long size = 48L << 20;
        var stream = upload(c + "/files/stream/write", key, multipart(b, List.of(Map.entry("path", () -> new ByteArrayInputStream("/home/user/big.bin".getBytes())),
                Map.entry("file", () -> pattern(size)))), b);
        assertThat(stream.statusCode()).isEqualTo(204);
        var down = HTTP.send(HttpRequest.newBuilder(URI.create(base + c + "/files/stream/read")).header("X-API-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"path\":\"/home/user/big.bin\"}")).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(down.statusCode()).isEqualTo(200);
        try (var got = down.body(); var expected = pattern(size)) {
            assertThat(got).hasSameContentAs(expected);
        }
        var tooBig = upload(c + "/files/stream/write", key, multipart(b, List.of(Map.entry("path", () -> new ByteArrayInputStream("/home/user/huge.bin".getBytes())),
                Map.entry("file", () -> pattern(70L << 20)))), b);
        assertThat(tooBig.statusCode()).isEqualTo(413);
        assertThat(new String(tooBig.body().readAllBytes())).contains("too_large");
        assertThat(call("POST", c + "/files/read", "{\"path\":\"/home/user/huge.bin\"}", key).status()).isEqualTo(404);
        var plainTooBig = upload(c + "/files/write", key, multipart(b, List.of(Map.entry("path", () -> new ByteArrayInputStream("/home/user/h2.bin".getBytes())),
                Map.entry("file", () -> pattern(101L << 20)))), b);
        assertThat(plainTooBig.statusCode()).as("the plain upload's limit is 100 MB").isEqualTo(413);

        String other = apiKey(signup("files-other").path("token").asText());
        assertThat(call("POST", c + "/files/read", "{\"path\":\"/home/user/docs/a.txt\"}", other).status()).isEqualTo(404);
        assertThat(upload(c + "/files/write", other, multipart(b, List.of(Map.entry("path", () -> new ByteArrayInputStream("/tmp/x".getBytes())),
                Map.entry("file", () -> new ByteArrayInputStream("x".getBytes())))), b).statusCode()).isEqualTo(404);
        call("DELETE", c, null, key);
    }

    /** A WebSocket client that collects the frames it receives. */
    static final class Frames implements WebSocket.Listener {
        final LinkedBlockingQueue<JsonNode> queue = new LinkedBlockingQueue<>();
        final StringBuilder partial = new StringBuilder();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    queue.add(JSON.readTree(partial.toString()));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            closed.complete(status);
            return null;
        }

        /** The next frame of this type (others are skipped); fails after 20 s. */
        JsonNode next(String type) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < deadline) {
                JsonNode f = queue.poll(200, TimeUnit.MILLISECONDS);
                if (f != null && f.path("type").asText().equals(type)) return f;
            }
            throw new AssertionError("no " + type + " frame");
        }

        /** PTY output, decoded, until it contains {@code text}. */
        String outputUntil(String text) throws InterruptedException {
            StringBuilder all = new StringBuilder();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!all.toString().contains(text) && System.nanoTime() < deadline) {
                JsonNode f = queue.poll(200, TimeUnit.MILLISECONDS);
                if (f != null && f.path("type").asText().equals("output")) {
                    all.append(new String(Base64.getDecoder().decode(f.path("data").asText()), StandardCharsets.UTF_8));
                }
            }
            assertThat(all.toString()).contains(text);
            return all.toString();
        }
    }

    static WebSocket socket(String path, String key, Frames frames) throws Exception {
        var b = HTTP.newWebSocketBuilder();
        if (key != null) b.header("X-API-Key", key);
        return b.buildAsync(URI.create(base.replace("http", "ws") + path), frames).get(10, TimeUnit.SECONDS);
    }

    static void send(WebSocket ws, String json) throws Exception {
        ws.sendText(json, true).get(5, TimeUnit.SECONDS);
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void terminalsAndStreamsOverWebSockets() throws Exception {
        JsonNode user = signup("sockets");
        String key = apiKey(user.path("token").asText());
        String id = call("POST", "/v1/capsules", "{\"memory_mb\":256}", key).body().path("id").asText();
        String c = "/v1/capsules/" + id;

        // a terminal: type into bash and read its answer, resize, leave, come back by tag
        Frames f = new Frames();
        var ws = socket(c + "/pty", key, f);
        send(ws, "{\"type\":\"start\",\"cols\":100,\"rows\":30}");
        JsonNode started = f.next("started");
        String tag = started.path("tag").asText();
        assertThat(tag).matches("pty-[0-9a-f]{8}");
        assertThat(started.path("pid").asInt()).isPositive();
        send(ws, "{\"type\":\"input\",\"data\":\"" + b64("echo $((6*7)) $TERM; tty; stty size\n") + "\"}");
        String out = f.outputUntil("30 100");
        assertThat(out).contains("42 xterm-256color").contains("/dev/pts/");
        send(ws, "{\"type\":\"resize\",\"cols\":120,\"rows\":40}");
        send(ws, "{\"type\":\"input\",\"data\":\"" + b64("stty size; export MARK=kept\n") + "\"}");
        f.outputUntil("40 120");
        send(ws, "{\"type\":\"bogus\"}");
        assertThat(f.next("error").path("fatal").asBoolean(false)).isFalse();
        ws.sendClose(1000, "bye").get(5, TimeUnit.SECONDS);

        Frames again = new Frames();
        var ws2 = socket(c + "/pty", key, again);
        send(ws2, "{\"type\":\"connect\",\"tag\":\"" + tag + "\"}");
        send(ws2, "{\"type\":\"input\",\"data\":\"" + b64("echo mark=$MARK\n") + "\"}");
        again.outputUntil("mark=kept");
        send(ws2, "{\"type\":\"kill\"}");
        again.next("exit");

        // a socket without headers authenticates with its first frame; a wrong one is refused
        Frames anon = new Frames();
        var ws3 = socket(c + "/pty", null, anon);
        send(ws3, "{\"type\":\"auth\",\"token\":\"e2b_" + "0".repeat(40) + "\"}");
        assertThat(anon.next("error").path("data").asText()).contains("authentication failed");
        Frames viaToken = new Frames();
        var ws4 = socket(c + "/exec/stream", null, viaToken);
        send(ws4, "{\"type\":\"auth\",\"token\":\"" + user.path("token").asText() + "\"}");
        send(ws4, "{\"type\":\"start\",\"cmd\":\"/bin/sh\",\"args\":[\"-c\",\"echo one; echo two >&2; exit 4\"]}");
        assertThat(viaToken.next("start").path("pid").asInt()).isPositive();
        List<JsonNode> streamed = new ArrayList<>();
        JsonNode frame;
        do {
            frame = viaToken.queue.poll(20, TimeUnit.SECONDS);
            assertThat(frame).as("frames until the exit").isNotNull();
            streamed.add(frame);
        } while (!frame.path("type").asText().equals("exit"));
        assertThat(streamed.stream().filter(x -> x.path("type").asText().equals("stdout")).map(x -> x.path("data").asText())).containsExactly("one\n");
        assertThat(streamed.stream().filter(x -> x.path("type").asText().equals("stderr")).map(x -> x.path("data").asText())).containsExactly("two\n");
        assertThat(frame.path("exit_code").asInt()).isEqualTo(4);
        assertThat(viaToken.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1000);

        // re-attach to a background process's output by its tag
        call("POST", c + "/exec", "{\"cmd\":\"/bin/sh\",\"args\":[\"-c\",\"sleep 1; echo later; exit 2\"],\"background\":true,\"tag\":\"worker\"}", key);
        Frames proc = new Frames();
        socket(c + "/processes/worker/stream", key, proc);
        assertThat(proc.next("start").path("pid").asInt()).isPositive();
        assertThat(proc.next("stdout").path("data").asText()).isEqualTo("later\n");
        assertThat(proc.next("exit").path("exit_code").asInt()).isEqualTo(2);

        // another team's key: an error frame, nothing else
        String other = apiKey(signup("sockets-other").path("token").asText());
        Frames stranger = new Frames();
        socket(c + "/pty", other, stranger);
        assertThat(stranger.next("error").path("data").asText()).contains("not found");
        call("DELETE", c, null, key);
    }

    @Test
    void anIdleTerminalEnds() throws Exception {
        String key = apiKey(signup("idle-pty").path("token").asText());
        String c = "/v1/capsules/" + call("POST", "/v1/capsules", "{\"memory_mb\":256}", key).body().path("id").asText();
        // this test's server ends terminals after 8 s without input or resize (--pty-idle-seconds; 120 by default)
        Frames f = new Frames();
        var ws = socket(c + "/pty", key, f);
        send(ws, "{\"type\":\"start\"}");
        String tag = f.next("started").path("tag").asText();
        long t0 = System.nanoTime();
        f.next("exit");
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isBetween(6L, 19L);
        Frames late = new Frames();
        var ws2 = socket(c + "/pty", key, late);
        send(ws2, "{\"type\":\"connect\",\"tag\":\"" + tag + "\"}");
        assertThat(late.next("error").path("data").asText()).contains("no terminal");
        call("DELETE", c, null, key);
    }

    @Test
    void snapshotsAreTemplatesOfTheTeam() throws Exception {
        String key = apiKey(signup("snapshots").path("token").asText());
        String other = apiKey(signup("snapshots-other").path("token").asText());
        String id = call("POST", "/v1/capsules", "{\"memory_mb\":384}", key).body().path("id").asText();
        assertThat(call("POST", "/v1/capsules/" + id + "/exec", "{\"cmd\":\"/bin/sh\",\"args\":[\"-c\",\"echo from-snapshot > /home/user/state.txt\"]}", key)
                .body().path("exit_code").asInt()).isZero();
        assertThat(call("POST", "/v1/snapshots", "{}", key).status()).isEqualTo(400);
        assertThat(call("POST", "/v1/snapshots", "{\"sandbox_id\":\"" + id + "\",\"name\":\"bad name!\"}", key).status()).isEqualTo(400);
        assertThat(call("POST", "/v1/snapshots", "{\"sandbox_id\":\"" + id + "\",\"name\":\"base\"}", key).code()).isEqualTo("name_reserved");
        assertThat(call("POST", "/v1/snapshots", "{\"sandbox_id\":\"" + id + "\",\"name\":\"mine\"}", other).status()).isEqualTo(404);
        Res snap = call("POST", "/v1/snapshots", "{\"sandbox_id\":\"" + id + "\",\"name\":\"with-state\"}", key);
        assertThat(snap.status()).as(String.valueOf(snap.body())).isEqualTo(201);
        assertThat(snap.body().path("type").asText()).isEqualTo("snapshot");
        assertThat(snap.body().path("memory_mb").asInt()).isEqualTo(384);
        assertThat(call("GET", "/v1/capsules/" + id, null, key).status()).as("the capsule is destroyed after").isEqualTo(404);

        // a new capsule of it has the files and the snapshot's sizes; the E2B dialect starts it by the same name
        Res born = call("POST", "/v1/capsules", "{\"template\":\"with-state\"}", key);
        assertThat(born.status()).isEqualTo(201);
        assertThat(born.body().path("template").asText()).isEqualTo("with-state");
        assertThat(born.body().path("memory_mb").asInt()).isEqualTo(384);
        String c = "/v1/capsules/" + born.body().path("id").asText();
        assertThat(call("POST", c + "/exec", "{\"cmd\":\"cat\",\"args\":[\"/home/user/state.txt\"]}", key).body().path("stdout").asText())
                .isEqualTo("from-snapshot\n");
        var e2b = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/sandboxes")).header("X-API-KEY", key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"templateID\":\"with-state\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(e2b.statusCode()).as(e2b.body()).isEqualTo(201);
        assertThat(JSON.readTree(e2b.body()).path("templateID").asText()).isEqualTo("with-state");
        // another team can neither see nor start it, by name or by its id on the node
        assertThat(call("POST", "/v1/capsules", "{\"template\":\"with-state\"}", other).status()).isEqualTo(404);
        assertThat(call("GET", "/v1/snapshots?type=snapshot", null, other).body()).isEmpty();
        String nodeId = node.templates().all().keySet().stream().filter(t -> t.startsWith("tpl")).findFirst().orElseThrow();
        assertThat(call("POST", "/v1/capsules", "{\"template\":\"" + nodeId + "\"}", other).status()).isEqualTo(404);
        var stolen = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/sandboxes")).header("X-API-KEY", other).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"templateID\":\"" + nodeId + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(stolen.statusCode()).isEqualTo(404);

        Res list = call("GET", "/v1/snapshots", null, key);
        assertThat(list.body().findValuesAsText("name")).contains("base", "with-state");
        assertThat(call("GET", "/v1/snapshots?type=base", null, key).body().findValuesAsText("type")).containsOnly("base");
        assertThat(call("GET", "/v1/snapshots?type=other", null, key).status()).isEqualTo(400);

        // a second snapshot of the same name needs overwrite=true
        String again = call("POST", "/v1/capsules", "{}", key).body().path("id").asText();
        Res taken = call("POST", "/v1/snapshots", "{\"sandbox_id\":\"" + again + "\",\"name\":\"with-state\"}", key);
        assertThat(taken.status()).isEqualTo(409);
        assertThat(call("POST", "/v1/snapshots?overwrite=true", "{\"sandbox_id\":\"" + again + "\",\"name\":\"with-state\"}", key).status()).isEqualTo(201);
        Res generated = call("POST", "/v1/snapshots", "{\"sandbox_id\":\"" + born.body().path("id").asText() + "\"}", key);
        assertThat(generated.body().path("name").asText()).matches("template-[0-9a-f]{8}");

        assertThat(call("DELETE", "/v1/snapshots/base", null, key).status()).isEqualTo(403);
        assertThat(call("DELETE", "/v1/snapshots/nope", null, key).status()).isEqualTo(404);
        assertThat(call("DELETE", "/v1/snapshots/with-state", null, other).status()).isEqualTo(404);
        assertThat(call("DELETE", "/v1/snapshots/with-state", null, key).status()).isEqualTo(204);
        assertThat(call("DELETE", "/v1/snapshots/" + generated.body().path("name").asText(), null, key).status()).isEqualTo(204);
        assertThat(call("POST", "/v1/capsules", "{\"template\":\"with-state\"}", key).status()).isEqualTo(404);
        HTTP.send(HttpRequest.newBuilder(URI.create(base + "/sandboxes/" + JSON.readTree(e2b.body()).path("sandboxID").asText()))
                .header("X-API-KEY", key).DELETE().build(), HttpResponse.BodyHandlers.discarding());
    }

    /** One leg of the OAuth flow without following redirects; returns the Location and the cookies set. */
    static HttpResponse<String> noFollow(String path, String cookie) throws Exception {
        var client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
        var b = HttpRequest.newBuilder(URI.create(base + path));
        if (cookie != null) b.header("Cookie", cookie);
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static Map<String, String> query(String location) {
        Map<String, String> q = new HashMap<>();
        String raw = URI.create(location).getRawQuery();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                q.put(pair.substring(0, eq), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return q;
    }

    /** Starts a login: returns {state, cookie}. */
    static String[] begin() throws Exception {
        HttpResponse<String> start = noFollow("/v1/auth/oauth/github", null);
        assertThat(start.statusCode()).isEqualTo(302);
        String location = start.headers().firstValue("Location").orElseThrow();
        assertThat(location).startsWith(github.url() + "/login/oauth/authorize?");
        Map<String, String> q = query(location);
        assertThat(q).containsEntry("client_id", FakeGithub.CLIENT_ID).containsEntry("scope", "user:email")
                .containsEntry("redirect_uri", base + "/v1/auth/oauth/github/callback");
        String setCookie = start.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).startsWith("oauth_state=").containsIgnoringCase("HttpOnly").containsIgnoringCase("SameSite=Lax")
                .contains("Max-Age=600");
        return new String[] {q.get("state"), setCookie.substring(0, setCookie.indexOf(';'))};
    }

    static String callbackError(String query, String cookie) throws Exception {
        HttpResponse<String> r = noFollow("/v1/auth/oauth/github/callback?" + query, cookie);
        assertThat(r.statusCode()).isEqualTo(302);
        String location = r.headers().firstValue("Location").orElseThrow();
        assertThat(location).startsWith("http://frontend.test/auth/github/callback?");
        return query(location).get("error");
    }

    @Test
    void githubLoginAgainstAFakeGithub() throws Exception {
        String existing = signup("password-user").path("email").asText();
        github.accounts.put("good", new String[] {"9001", "octo", "Octo Cat", null, "octo" + System.nanoTime() + "@example.com"});
        github.accounts.put("taken", new String[] {"9002", "twin", "Twin", existing, existing});
        Res unknown = call("GET", "/v1/auth/oauth/gitlab", null, null);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.code()).isEqualTo("provider_not_found");

        String[] s = begin();
        HttpResponse<String> done = noFollow("/v1/auth/oauth/github/callback?code=good&state=" + s[0], s[1]);
        assertThat(done.statusCode()).isEqualTo(302);
        String location = done.headers().firstValue("Location").orElseThrow();
        assertThat(location).startsWith("http://frontend.test/auth/github/callback?token=");
        Map<String, String> q = query(location);
        assertThat(q.get("email")).isEqualTo(github.accounts.get("good")[4]);
        assertThat(call("GET", "/v1/teams", null, q.get("token")).body().get(0).path("role").asText()).isEqualTo("owner");
        // the second time, the same account (by GitHub id)
        String[] s2 = begin();
        Map<String, String> again = query(noFollow("/v1/auth/oauth/github/callback?code=good&state=" + s2[0], s2[1])
                .headers().firstValue("Location").orElseThrow());
        assertThat(again.get("user_id")).isEqualTo(q.get("user_id"));
        assertThat(again.get("team_id")).isEqualTo(q.get("team_id"));

        String[] s3 = begin();
        assertThat(callbackError("code=good&state=forged", s3[1])).isEqualTo("invalid_state");
        assertThat(callbackError("code=good&state=" + s3[0], null)).isEqualTo("invalid_state");
        assertThat(callbackError("code=good&state=" + s3[0], "oauth_state=" + s3[0] + ":0000")).isEqualTo("invalid_state");
        assertThat(callbackError("state=" + s3[0], s3[1])).isEqualTo("missing_code");
        assertThat(callbackError("error=access_denied&state=" + s3[0], s3[1])).isEqualTo("access_denied");
        assertThat(callbackError("code=wrong&state=" + s3[0], s3[1])).isEqualTo("exchange_failed");
        assertThat(callbackError("code=taken&state=" + s3[0], s3[1])).isEqualTo("email_taken");
    }
}
