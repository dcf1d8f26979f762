package dev.cella.protocol.envd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one client of envd's protocol, as the E2B SDK speaks it: Connect over HTTP/1.1 with
 * the JSON codec (unary calls and server streams of enveloped messages), with envd's
 * access token in {@code X-Access-Token} and the acting user in a Basic
 * {@code Authorization} header. Every process that talks to envd uses it: the node (health,
 * {@code /init}, the warm pool's warm-up), the server (the native API's processes and
 * files), the tests and the benchmark.
 *
 * <p>Immutable: {@link #withAccessToken}, {@link #withHeaders} and {@link #as} give a new
 * client for the same envd. Errors that envd answers come back as {@link EnvdException};
 * what a caller makes of them (an API's status) is the caller's business.
 */
public final class EnvdClient {
    public static final int PORT = EnvdProtocol.PORT;
    public static final String PROCESS = "/process.Process/", FILESYSTEM = "/filesystem.Filesystem/";
    /** The largest message of a stream this client accepts (envd sends output in 32 KiB pieces). */
    static final int MAX_MESSAGE = 64 << 20;
    static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http;
    private final URI base;
    private final Map<String, String> headers;
    private final String accessToken;
    private final String user;

    public EnvdClient(HttpClient http, URI base) {
        this(http, URI.create(base.toString().replaceAll("/+$", "")), Map.of(), null, null);
    }

    /** {@code base} without a trailing slash (the public constructor makes it so once). */
    private EnvdClient(HttpClient http, URI base, Map<String, String> headers, String accessToken, String user) {
        this.http = http;
        this.base = base;
        this.headers = Map.copyOf(headers);
        this.accessToken = accessToken;
        this.user = user;
    }

    /** An HTTP/1.1 client for envd: Connect streams are HTTP/1.1 chunked bodies. */
    public static HttpClient newHttpClient(Duration connectTimeout) {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(connectTimeout).build();
    }

    /** envd's base URL in a sandbox at this address. */
    public static URI at(String ip) {
        return URI.create("http://" + ip + ":" + PORT);
    }

    public EnvdClient withAccessToken(String token) {
        return new EnvdClient(http, base, headers, token, user);
    }

    /** With headers sent on every call (naming the sandbox to a proxy on the way). */
    public EnvdClient withHeaders(Map<String, String> more) {
        Map<String, String> all = new LinkedHashMap<>(headers);
        all.putAll(more);
        return new EnvdClient(http, base, all, accessToken, user);
    }

    /** The same envd, acting as another user of the sandbox (null: its default user). */
    public EnvdClient as(String user) {
        return new EnvdClient(http, base, headers, accessToken, user);
    }

    public URI base() {
        return base;
    }

    /** A request to envd with this client's headers, token and user. */
    public HttpRequest.Builder request(String path, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
        if (timeout != null) b.timeout(timeout);
        headers.forEach(b::header);
        if (accessToken != null) b.header("X-Access-Token", accessToken);
        if (user != null) b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((user + ":").getBytes(StandardCharsets.UTF_8)));
        return b;
    }

    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            return http.send(request, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted calling envd at " + base);
        }
    }

    /** GET /health: envd's status (204 when it is up). */
    public int health(Duration timeout) throws IOException {
        return send(request("/health", timeout).GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    // --- Connect ---

    /** A unary call's answer: its HTTP status and its JSON (an empty object for an empty body). */
    public record Reply(int status, JsonNode body) {}

    /** A unary Connect call, whatever it answers. */
    public Reply call(String method, JsonNode body, Duration timeout) throws IOException {
        return call(method, body.toString(), timeout);
    }

    /** As {@link #call(String, JsonNode, Duration)} with the request's JSON as it is (tests send malformed ones). */
    public Reply call(String method, String json, Duration timeout) throws IOException {
        HttpResponse<String> r = send(request(method, timeout).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), parse(r.body()));
    }

    /** A unary Connect call that must succeed: anything but 200 is an {@link EnvdException}. */
    public JsonNode unary(String method, JsonNode body, Duration timeout) throws IOException {
        Reply r = call(method, body, timeout);
        if (r.status() != 200) throw EnvdException.of(r.status(), r.body(), r.body().toString());
        return r.body();
    }

    /** A Connect message in its envelope: flags, big-endian length, the JSON. */
    public static byte[] envelope(String message) {
        byte[] json = message.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(5 + json.length).put((byte) 0).putInt(json.length).put(json).array();
    }

    /**
     * Opens a server stream. With a {@code deadline}, envd ends the call (and kills the
     * process it started) when it passes. A call envd refuses is an {@link EnvdException}.
     */
    public Stream stream(String method, JsonNode body, Duration deadline) throws IOException {
        return stream(method, body.toString(), deadline);
    }

    /** As {@link #stream(String, JsonNode, Duration)} with the request's JSON as it is. */
    public Stream stream(String method, String body, Duration deadline) throws IOException {
        HttpRequest.Builder b = request(method, null).header("Content-Type", "application/connect+json")
                .header("Connect-Protocol-Version", "1").header("Keepalive-Ping-Interval", "30");
        if (deadline != null) b.header("Connect-Timeout-Ms", Long.toString(deadline.toMillis()));
        HttpResponse<InputStream> r = send(b.POST(HttpRequest.BodyPublishers.ofByteArray(envelope(body))).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            String text;
            try (InputStream in = r.body()) {
                text = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
            }
            throw EnvdException.of(r.statusCode(), parse(text), text);
        }
        return new Stream(r.body());
    }

    /** The messages of one server stream, in order. Closing it stops reading (a process goes on). */
    public static final class Stream implements AutoCloseable {
        private final DataInputStream in;

        Stream(InputStream body) {
            this.in = new DataInputStream(body);
        }

        /** One message; {@code end} for the stream's last (its trailer: empty, or an error). */
        public record Message(boolean end, JsonNode body) {}

        /** The next message, or null when the stream ended without its end message. */
        public Message next() throws IOException {
            int flags;
            try {
                flags = in.readUnsignedByte();
            } catch (EOFException e) {
                return null;
            }
            int len = in.readInt();
            if (len < 0 || len > MAX_MESSAGE) throw new IOException("envd sent a message of " + len + " bytes");
            return new Message((flags & 0x02) != 0, JSON.readTree(in.readNBytes(len)));
        }

        /** Every message to the end, the end message last (when it came). */
        public List<Message> all() throws IOException {
            List<Message> out = new ArrayList<>();
            for (Message m; (m = next()) != null; ) {
                out.add(m);
                if (m.end()) break;
            }
            return out;
        }

        /**
         * Delivers a process's events until it ends (true) or the stream is closed or broken
         * (false). A stream that ends with an error (its deadline passed) reports the end
         * with exit code -1 and the error; one that ends with an error before the process
         * started (no such program) throws it, as a unary call would.
         */
        public boolean follow(ProcessEvents events) throws EnvdException {
            boolean ended = false, started = false;
            try (this) {
                for (Message m; (m = next()) != null; ) {
                    JsonNode body = m.body();
                    if (m.end()) {
                        JsonNode error = body.path("error");
                        if (!started && body.has("error")) {
                            throw new EnvdException(EnvdException.statusOf(error.path("code").asText("")), error.path("code").asText(""),
                                    error.path("message").asText(""));
                        }
                        if (!ended && body.has("error")) {
                            events.ended(-1, error.path("code").asText("") + ": " + error.path("message").asText(""));
                            return true;
                        }
                        return ended;
                    }
                    JsonNode ev = body.path("event");
                    if (ev.has("start")) {
                        started = true;
                        events.started(ev.path("start").path("pid").asInt());
                    } else if (ev.has("data")) {
                        for (var e : ev.path("data").properties()) events.output(e.getKey(), Base64.getDecoder().decode(e.getValue().asText()));
                    } else if (ev.has("end")) {
                        JsonNode end = ev.path("end");
                        events.ended(end.path("exitCode").asInt(end.path("exited").asBoolean(true) ? 0 : -1),
                                end.hasNonNull("error") ? end.get("error").asText() : null);
                        ended = true;
                    }
                }
                return ended;
            } catch (EnvdException e) {
                throw e;
            } catch (IOException e) {
                return ended;
            }
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException ignored) {
                // closing is all that was asked
            }
        }
    }

    /** The events of a process, as they come. */
    public interface ProcessEvents {
        void started(int pid);

        /** {@code stream} is stdout, stderr or pty. */
        void output(String stream, byte[] data);

        void ended(int exitCode, String error);
    }

    // --- processes ---

    /** What to start: {@code process.Process/Start}'s request, built up. */
    public static final class Start {
        private final ObjectNode body = JSON.createObjectNode();
        private final ObjectNode process = body.putObject("process");

        private Start(String cmd, List<String> args) {
            process.put("cmd", cmd);
            var a = process.putArray("args");
            args.forEach(a::add);
        }

        public static Start of(String cmd, String... args) {
            return new Start(cmd, List.of(args));
        }

        public static Start of(String cmd, List<String> args) {
            return new Start(cmd, args);
        }

        /** {@code bash -c script}. */
        public static Start bash(String script) {
            return of("/bin/bash", "-c", script);
        }

        public Start envs(Map<String, String> envs) {
            process.set("envs", JSON.valueToTree(envs));
            return this;
        }

        public Start cwd(String cwd) {
            if (cwd != null) process.put("cwd", cwd);
            return this;
        }

        public Start tag(String tag) {
            if (tag != null) body.put("tag", tag);
            return this;
        }

        /** On a pseudo-terminal of this size. */
        public Start pty(int cols, int rows) {
            body.putObject("pty").putObject("size").put("cols", cols).put("rows", rows);
            return this;
        }

        /** Without stdin (the process reads end-of-file), as the SDK's commands.run starts one. */
        public Start noStdin() {
            body.put("stdin", false);
            return this;
        }

        public ObjectNode json() {
            return body;
        }
    }

    public Stream start(Start what, Duration deadline) throws IOException {
        return stream(PROCESS + "Start", what.json(), deadline);
    }

    /**
     * A finished command: what it printed (each stream's first {@code keep} bytes), how much
     * in all, its exit code ({@link Integer#MIN_VALUE} when it never ended), its end event
     * and the stream's trailer.
     */
    public record Run(int pid, String stdout, String stderr, String pty, String output, long bytes, int exitCode,
                      JsonNode end, JsonNode trailer) {}

    /** Runs a command to its end, keeping the first MiB of each of its outputs. */
    public Run run(Start what, Duration deadline) throws IOException {
        return run(what, deadline, 1 << 20);
    }

    public Run run(Start what, Duration deadline, int keep) throws IOException {
        return run(what.json().toString(), deadline, keep);
    }

    /** As {@link #run(Start, Duration, int)} with Start's request JSON as it is (tests send odd ones). */
    public Run run(String startJson, Duration deadline, int keep) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream(),
                pty = new ByteArrayOutputStream(), all = new ByteArrayOutputStream();
        long bytes = 0;
        int pid = -1, exit = Integer.MIN_VALUE;
        JsonNode end = null, trailer = null;
        try (Stream s = stream(PROCESS + "Start", startJson, deadline)) {
            for (Stream.Message m : s.all()) {
                if (m.end()) {
                    trailer = m.body();
                    continue;
                }
                JsonNode ev = m.body().path("event");
                if (ev.has("start")) pid = ev.path("start").path("pid").asInt();
                for (var e : ev.path("data").properties()) {
                    byte[] chunk = e.getValue().binaryValue();
                    bytes += chunk.length;
                    ByteArrayOutputStream to = switch (e.getKey()) {
                        case "stdout" -> out;
                        case "stderr" -> err;
                        default -> pty;
                    };
                    if (to.size() < keep) to.write(chunk, 0, Math.min(chunk.length, keep - to.size()));
                    if (all.size() < keep) all.write(chunk, 0, Math.min(chunk.length, keep - all.size()));
                }
                if (ev.has("end")) {
                    end = ev.get("end");
                    exit = end.path("exitCode").asInt(0);
                }
            }
        }
        return new Run(pid, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), pty.toString(StandardCharsets.UTF_8),
                all.toString(StandardCharsets.UTF_8), bytes, exit, end, trailer);
    }

    static JsonNode parse(String s) {
        try {
            return s == null || s.isBlank() ? JSON.createObjectNode() : JSON.readTree(s);
        } catch (IOException e) {
            return JSON.createObjectNode().put("message", s);
        }
    }
}
