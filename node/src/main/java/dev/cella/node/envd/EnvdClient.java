package dev.cella.node.envd;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** The node's side of envd: waiting for it to answer, and telling it who it serves (/init). */
public final class EnvdClient {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    private final ObjectMapper json;

    public EnvdClient(ObjectMapper json) {
        this.json = json;
    }

    public static String base(String ip) {
        return "http://" + ip + ":" + EnvdRuntime.PORT;
    }

    /**
     * Polls /health until envd answers or the time is up. The pause between tries grows
     * from 2 ms to 20 ms: envd usually answers within ~150 ms of its start, and fifty
     * sandboxes starting at once must not spend the CPU they need on being asked.
     */
    public void awaitHealthy(String ip, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpRequest health = HttpRequest.newBuilder(URI.create(base(ip) + "/health")).timeout(Duration.ofMillis(500)).build();
        IOException last = null;
        long pause = 2;
        while (System.nanoTime() < deadline) {
            try {
                if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 204) return;
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(pause);
            pause = Math.min(20, pause + pause / 2 + 1);
        }
        throw new IOException("envd at " + ip + " did not answer within " + timeout.toMillis() + " ms"
                + (last != null ? ": " + last.getMessage() : ""));
    }

    /**
     * Runs what a sandbox's first user does (a command, a stat, a file read) a few times, so
     * that the code on those paths is loaded, initialised and compiled in envd's JVM before
     * a create takes the sandbox from the warm pool: its first command then costs what any
     * later one does. Nothing of it stays in the sandbox.
     */
    public void warmUp(String envdBase) throws IOException, InterruptedException {
        byte[] start = connectEnvelope("{\"process\":{\"cmd\":\"/bin/true\"}}");
        for (int i = 0; i < 5; i++) {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(envdBase + "/process.Process/Start"))
                    .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/connect+json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(start)).build(), HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) throw new IOException("envd warm-up: Start answered " + r.statusCode());
            http.send(HttpRequest.newBuilder(URI.create(envdBase + "/filesystem.Filesystem/Stat")).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"path\":\"/\"}")).build(),
                    HttpResponse.BodyHandlers.discarding());
            http.send(HttpRequest.newBuilder(URI.create(envdBase + "/files?path=/etc/hostname")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.discarding());
        }
    }

    private static byte[] connectEnvelope(String json) {
        byte[] body = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return java.nio.ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(body.length).put(body).array();
    }

    /** Sets the sandbox's variables, access token and default user; the token, once set, guards every later call. */
    public void init(String ip, Map<String, String> envVars, String accessToken, String defaultUser, String currentToken)
            throws IOException, InterruptedException {
        init(ip, envVars, accessToken, defaultUser, null, currentToken);
    }

    public void init(String ip, Map<String, String> envVars, String accessToken, String defaultUser, String defaultWorkdir, String currentToken)
            throws IOException, InterruptedException {
        ObjectNode body = json.createObjectNode();
        body.set("envVars", json.valueToTree(envVars));
        if (accessToken != null) body.put("accessToken", accessToken);
        if (defaultUser != null) body.put("defaultUser", defaultUser);
        if (defaultWorkdir != null) body.put("defaultWorkdir", defaultWorkdir);
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base(ip) + "/init")).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body)));
        if (currentToken != null) req.header("X-Access-Token", currentToken);
        HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 204) throw new IOException("envd /init answered " + r.statusCode() + ": " + r.body());
    }
}
