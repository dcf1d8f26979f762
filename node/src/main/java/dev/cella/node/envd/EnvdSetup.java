package dev.cella.node.envd;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cella.protocol.envd.EnvdClient;
import dev.cella.protocol.envd.EnvdException;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;

/**
 * The node's side of envd, through the one envd client: waiting for a new sandbox's envd
 * to answer, telling it who it serves ({@code /init}), and warming up a pooled one.
 */
public final class EnvdSetup {
    private final HttpClient http = EnvdClient.newHttpClient(Duration.ofMillis(500));
    private final ObjectMapper json;

    public EnvdSetup(ObjectMapper json) {
        this.json = json;
    }

    /** envd's base URL in a sandbox at this address. */
    public static String base(String ip) {
        return EnvdClient.at(ip).toString();
    }

    private EnvdClient client(String base) {
        return new EnvdClient(http, URI.create(base));
    }

    /**
     * Polls /health until envd answers or the time is up. The pause between tries grows
     * from 2 ms to 20 ms: envd usually answers within ~150 ms of its start, and fifty
     * sandboxes starting at once must not spend the CPU they need on being asked.
     */
    public void awaitHealthy(String ip, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        EnvdClient envd = client(base(ip));
        IOException last = null;
        long pause = 2;
        while (System.nanoTime() < deadline) {
            try {
                if (envd.health(Duration.ofMillis(500)) == 204) return;
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
    public void warmUp(String envdBase) throws IOException {
        // the paths a user's first calls take, as the SDK takes them (a login shell as the
        // default user), often enough that the pooled envd's JIT compiles them (POOLED_JIT)
        Duration limit = Duration.ofSeconds(10);
        EnvdClient envd = client(envdBase).as("user");
        try {
            envd.run(EnvdClient.Start.of("/bin/true"), limit);
        } catch (EnvdException e) {
            envd = client(envdBase); // an image without E2B's user: envd's own default
        }
        for (int i = 0; i < WARM_UP_ROUNDS; i++) {
            envd.run(EnvdClient.Start.of("/bin/bash", "-l", "-c", "true"), limit);
            envd.run(EnvdClient.Start.of("/bin/true"), limit);
            envd.unary(EnvdClient.FILESYSTEM + "Stat", json.createObjectNode().put("path", "/"), limit);
            envd.unary(EnvdClient.FILESYSTEM + "ListDir", json.createObjectNode().put("path", "/etc").put("depth", 1), limit);
            envd.send(envd.request("/files?path=/etc/hostname", limit).GET().build(), HttpResponse.BodyHandlers.discarding());
        }
    }

    /**
     * How many times the warm-up runs each path: with POOLED_JIT's thresholds, enough to compile
     * what each request runs many times. More compiles more but costs memory: 20 rounds made a
     * frozen pooled sandbox 48 MiB, 12 make it 39.5 (docs/performance.md).
     */
    static final int WARM_UP_ROUNDS = 12;

    /** Sets the sandbox's variables, access token and default user; the token, once set, guards every later call. */
    public void init(String ip, Map<String, String> envVars, String accessToken, String defaultUser, String currentToken)
            throws IOException {
        init(ip, envVars, accessToken, defaultUser, null, currentToken);
    }

    public void init(String ip, Map<String, String> envVars, String accessToken, String defaultUser, String defaultWorkdir, String currentToken)
            throws IOException {
        ObjectNode body = json.createObjectNode();
        body.set("envVars", json.valueToTree(envVars));
        if (accessToken != null) body.put("accessToken", accessToken);
        if (defaultUser != null) body.put("defaultUser", defaultUser);
        if (defaultWorkdir != null) body.put("defaultWorkdir", defaultWorkdir);
        EnvdClient envd = client(base(ip)).withAccessToken(currentToken);
        EnvdClient.Reply r;
        try {
            r = envd.call("/init", body, Duration.ofSeconds(10));
        } catch (HttpTimeoutException e) {
            throw e;
        } catch (IOException e) {
            // A pooled connection the peer had already closed (sandbox addresses are reused, and
            // the JDK client retries only idempotent requests): once more on a new connection. If
            // the first did arrive, its token now guards envd and the retry is refused: no harm.
            r = envd.call("/init", body, Duration.ofSeconds(10));
        }
        if (r.status() != 204) throw new IOException("envd /init answered " + r.status() + ": " + r.body());
    }
}
