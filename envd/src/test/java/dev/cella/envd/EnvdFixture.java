package dev.cella.envd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real envd in this JVM on an ephemeral port, with users from a passwd file of the
 * test's own (root, and nobody with a home in a temp dir), and a small Connect client.
 */
public final class EnvdFixture implements AutoCloseable {
    public static final ObjectMapper JSON = new ObjectMapper();
    public static final int NOBODY = 65534;

    public final Path dir;
    public final Path nobodyHome;
    public final Envd envd;
    public final String base;
    public final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

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
    }

    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    public record Response(int status, JsonNode body) {}

    public Response unary(String method, String json, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/" + method))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body()));
    }

    /** Opens a server stream; read its messages with {@link Stream#next}. */
    public Stream stream(String method, String json, String... headers) throws Exception {
        byte[] body = json.getBytes();
        ByteBuffer env = ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(body.length).put(body);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/" + method))
                .header("Content-Type", "application/connect+json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(env.array()));
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) throw new AssertionError("stream answered HTTP " + r.statusCode());
        return new Stream(r.body());
    }

    /** The messages of one server stream; the end envelope is returned with {@code end == true}. */
    public static final class Stream implements AutoCloseable {
        private final DataInputStream in;

        Stream(InputStream in) {
            this.in = new DataInputStream(in);
        }

        public record Message(boolean end, JsonNode body) {}

        public Message next() throws IOException {
            int flags = in.readUnsignedByte();
            int len = in.readInt();
            byte[] b = in.readNBytes(len);
            return new Message((flags & 0x02) != 0, JSON.readTree(b));
        }

        /** Reads to the end: every message, the end envelope last. */
        public List<Message> all() throws IOException {
            List<Message> out = new ArrayList<>();
            try {
                while (true) {
                    Message m = next();
                    out.add(m);
                    if (m.end()) return out;
                }
            } catch (EOFException e) {
                return out;
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** Runs a command to its end: {stdout, stderr, end event, trailer}. */
    public record Run(String stdout, String stderr, JsonNode end, JsonNode trailer, int pid) {}

    public Run run(String json, String... headers) throws Exception {
        try (Stream s = stream("process.Process/Start", json, headers)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            JsonNode end = null, trailer = null;
            int pid = -1;
            for (Stream.Message m : s.all()) {
                if (m.end()) { trailer = m.body(); continue; }
                JsonNode ev = m.body().path("event");
                if (ev.has("start")) pid = ev.path("start").path("pid").asInt();
                if (ev.has("data")) {
                    JsonNode d = ev.get("data");
                    if (d.has("stdout")) out.write(d.get("stdout").binaryValue());
                    if (d.has("stderr")) err.write(d.get("stderr").binaryValue());
                    if (d.has("pty")) out.write(d.get("pty").binaryValue());
                }
                if (ev.has("end")) end = ev.get("end");
            }
            return new Run(out.toString(), err.toString(), end, trailer, pid);
        }
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
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
