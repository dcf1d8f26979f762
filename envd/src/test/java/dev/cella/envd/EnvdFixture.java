package dev.cella.envd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cella.protocol.envd.EnvdClient;
import dev.cella.protocol.envd.EnvdClient.Stream;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A real envd in this JVM on an ephemeral port, with users from a passwd file of the
 * test's own (root, and nobody with a home in a temp dir), and the one envd client pointed at it.
 */
public final class EnvdFixture implements AutoCloseable {
    public static final ObjectMapper JSON = new ObjectMapper();
    public static final int NOBODY = 65534;

    public final Path dir;
    public final Path nobodyHome;
    public final Envd envd;
    public final String base;
    public final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    public final EnvdClient client;

    public EnvdFixture() throws IOException {
        this(null);
    }

    public EnvdFixture(String accessToken) throws IOException {
        dir = Files.createTempDirectory("envd-test");
        Path etc = Files.createDirectories(dir.resolve("etc"));
        nobodyHome = Files.createDirectories(dir.resolve("home-nobody"));
        dir.toFile().setExecutable(true, false);
        Files.writeString(etc.resolve("passwd"),
                "root:x:0:0:root:" + dir.resolve("home-root") + ":/bin/bash\n"
                        + "nobody:x:" + NOBODY + ":" + NOBODY + ":nobody:" + nobodyHome + ":/bin/sh\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\nnogroup:x:" + NOBODY + ":\nextra:x:4242:nobody\n");
        Files.createDirectories(dir.resolve("home-root"));
        Files.setAttribute(nobodyHome, "unix:uid", NOBODY);
        Files.setAttribute(nobodyHome, "unix:gid", NOBODY);
        envd = new Envd(new Envd.Options("127.0.0.1", 0, "nobody", accessToken, etc)).start("127.0.0.1", 0);
        base = "http://127.0.0.1:" + envd.port();
        client = new EnvdClient(http, URI.create(base));
    }

    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    public record Response(int status, JsonNode body) {}

    /** The one envd client, with these extra headers (name, value, name, value...). */
    public EnvdClient client(String... headers) {
        Map<String, String> h = new LinkedHashMap<>();
        for (int i = 0; i < headers.length; i += 2) h.put(headers[i], headers[i + 1]);
        return client.withHeaders(h);
    }

    public Response unary(String method, String json, String... headers) throws Exception {
        EnvdClient.Reply r = client(headers).call("/" + method, json, Duration.ofSeconds(30));
        return new Response(r.status(), r.body());
    }

    /** Opens a server stream; read its messages with {@link Stream#next}. */
    public Stream stream(String method, String json, String... headers) throws Exception {
        return client(headers).stream("/" + method, json, null);
    }

    /** Runs a command to its end: {stdout (with terminal output), stderr, end event, trailer}. */
    public record Run(String stdout, String stderr, JsonNode end, JsonNode trailer, int pid) {}

    public Run run(String json, String... headers) throws Exception {
        EnvdClient.Run r = client(headers).run(json, null, 64 << 20);
        return new Run(r.stdout() + r.pty(), r.stderr(), r.end(), r.trailer(), r.pid());
    }

    public static String startRequest(String script) {
        ObjectNode req = JSON.createObjectNode();
        ObjectNode p = req.putObject("process");
        p.put("cmd", "/bin/bash");
        p.putArray("args").add("-c").add(script);
        return req.toString();
    }

    public static String json(Map<String, ?> map) {
        return JSON.valueToTree(map).toString();
    }

    @Override
    public void close() throws IOException {
        envd.stop();
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
