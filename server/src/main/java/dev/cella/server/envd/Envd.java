package dev.cella.server.envd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cella.node.proxy.SandboxRoutes;
import dev.cella.server.api.ApiError;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The server's side of one sandbox's envd: the same calls the E2B SDK makes (Connect with
 * the JSON codec, and {@code /files}), sent along the sandbox's route (straight to it, or
 * through its node's proxy) with its access token. The native API's exec, processes,
 * terminals and files are built on these.
 */
public final class Envd {
    private static final String PROCESS = "/process.Process/", FILESYSTEM = "/filesystem.Filesystem/";
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SandboxRoutes.Route route;
    private final String accessToken;
    private final String user;

    public Envd(SandboxRoutes.Route route, String accessToken) {
        this(route, accessToken, null);
    }

    private Envd(SandboxRoutes.Route route, String accessToken, String user) {
        this.route = route;
        this.accessToken = accessToken;
        this.user = user;
    }

    /** The same envd, acting as another user of the sandbox (null: its default user). */
    public Envd as(String user) {
        return new Envd(route, accessToken, user);
    }

    /** A process by pid or by tag (the native API's selector: numeric is a pid). */
    public record Selector(Integer pid, String tag) {
        public static Selector parse(String s) {
            return s.matches("\\d{1,9}") ? new Selector(Integer.parseInt(s), null) : new Selector(null, s);
        }

        ObjectNode json() {
            ObjectNode n = JSON.createObjectNode();
            if (pid != null) n.put("pid", pid);
            else n.put("tag", tag);
            return n;
        }
    }

    /** What to run. */
    public record Command(String cmd, List<String> args, Map<String, String> envs, String cwd, String tag) {}

    /** A running process as envd lists it. */
    public record ProcessInfo(int pid, String tag, String cmd, List<String> args) {}

    /** The events of a process, as they come. */
    public interface Events {
        void started(int pid);

        /** {@code stream} is stdout, stderr or pty. */
        void output(String stream, byte[] data);

        void ended(int exitCode, String error);
    }

    private HttpRequest.Builder request(String path, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(route.base() + path));
        if (timeout != null) b.timeout(timeout);
        route.headers().forEach(b::header);
        if (accessToken != null) b.header("X-Access-Token", accessToken);
        // envd's way of naming the user, as the E2B SDK does it
        if (user != null) b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((user + ":").getBytes(StandardCharsets.UTF_8)));
        return b;
    }

    /** A unary Connect call. envd's errors are the caller's: not found is 404, invalid 400, the rest 502. */
    private JsonNode unary(String method, JsonNode body) {
        HttpResponse<String> res = send(request(method, Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode answer = parse(res.body());
        if (res.statusCode() != 200) throw error(answer.path("code").asText(""), answer.path("message").asText(res.body()));
        return answer;
    }

    static ApiError error(String connectCode, String message) {
        return switch (connectCode) {
            case "not_found" -> ApiError.notFound(message);
            case "invalid_argument", "failed_precondition", "out_of_range" -> ApiError.badRequest(message);
            case "already_exists" -> ApiError.conflict(message);
            case "permission_denied", "unauthenticated" -> ApiError.forbidden(message);
            case "resource_exhausted" -> new ApiError(507, "insufficient_storage", message);
            default -> new ApiError(502, "host_error", "the sandbox's daemon failed: " + message);
        };
    }

    private static <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler) {
        try {
            return HTTP.send(req, handler);
        } catch (IOException e) {
            throw new ApiError(502, "host_error", "the sandbox's daemon did not answer: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(502, "host_error", "interrupted");
        }
    }

    private static JsonNode parse(String s) {
        try {
            return s == null || s.isBlank() ? JSON.createObjectNode() : JSON.readTree(s);
        } catch (IOException e) {
            return JSON.createObjectNode().put("message", s);
        }
    }

    // --- processes ---

    private static ObjectNode startBody(Command c, Integer ptyCols, Integer ptyRows) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode p = body.putObject("process");
        p.put("cmd", c.cmd());
        var args = p.putArray("args");
        c.args().forEach(args::add);
        p.set("envs", JSON.valueToTree(c.envs()));
        if (c.cwd() != null) p.put("cwd", c.cwd());
        if (c.tag() != null) body.put("tag", c.tag());
        if (ptyCols != null) body.putObject("pty").putObject("size").put("cols", ptyCols).put("rows", ptyRows);
        else body.put("stdin", false);
        return body;
    }

    /**
     * Starts a process and follows its events on the calling thread until it ends or the
     * stream closes. With a {@code deadline}, envd kills the process when it passes.
     * Returns normally when the stream ends; {@link Stream#close()} from another thread
     * stops following (the process goes on).
     */
    public Stream start(Command c, Integer ptyCols, Integer ptyRows, Duration deadline) {
        return stream("Start", startBody(c, ptyCols, ptyRows), deadline);
    }

    /** Follows a running process's events (a re-attach). */
    public Stream connect(Selector s) {
        ObjectNode body = JSON.createObjectNode();
        body.set("process", s.json());
        return stream("Connect", body, null);
    }

    private Stream stream(String method, JsonNode body, Duration deadline) {
        byte[] msg = body.toString().getBytes(StandardCharsets.UTF_8);
        byte[] env = ByteBuffer.allocate(5 + msg.length).put((byte) 0).putInt(msg.length).put(msg).array();
        HttpRequest.Builder b = request(PROCESS + method, null).header("Content-Type", "application/connect+json")
                .header("Connect-Protocol-Version", "1").header("Keepalive-Ping-Interval", "30");
        if (deadline != null) b.header("Connect-Timeout-Ms", Long.toString(deadline.toMillis()));
        HttpResponse<InputStream> res = send(b.POST(HttpRequest.BodyPublishers.ofByteArray(env)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        if (res.statusCode() != 200) {
            String text;
            try (InputStream in = res.body()) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                text = "";
            }
            JsonNode answer = parse(text);
            throw error(answer.path("code").asText(""), answer.path("message").asText(text));
        }
        return new Stream(res.body());
    }

    /** An open stream of one process's events. */
    public static final class Stream implements AutoCloseable {
        private final InputStream body;

        Stream(InputStream body) {
            this.body = body;
        }

        /**
         * Delivers the events until the process ends (true) or the stream is closed or
         * broken (false). A stream that ends with an error (the deadline passed) reports
         * the end with exit code -1 and the error; one that ends with an error before the
         * process started (no such program) throws it, as envd's unary calls do.
         */
        public boolean follow(Events events) {
            boolean ended = false, started = false;
            try (DataInputStream in = new DataInputStream(body)) {
                while (true) {
                    int flags;
                    try {
                        flags = in.readUnsignedByte();
                    } catch (EOFException e) {
                        return ended;
                    }
                    int len = in.readInt();
                    if (len < 0 || len > 64 << 20) return ended;
                    JsonNode m = JSON.readTree(in.readNBytes(len));
                    if ((flags & 2) != 0) {
                        if (!started && m.has("error")) {
                            throw error(m.path("error").path("code").asText(""), m.path("error").path("message").asText(""));
                        }
                        if (!ended && m.has("error")) {
                            events.ended(-1, m.path("error").path("code").asText("") + ": " + m.path("error").path("message").asText(""));
                            return true;
                        }
                        return ended;
                    }
                    JsonNode ev = m.path("event");
                    if (ev.has("start")) {
                        started = true;
                        events.started(ev.path("start").path("pid").asInt());
                    }
                    else if (ev.has("data")) {
                        ev.path("data").properties().forEach(e -> events.output(e.getKey(), Base64.getDecoder().decode(e.getValue().asText())));
                    } else if (ev.has("end")) {
                        JsonNode end = ev.path("end");
                        events.ended(end.path("exitCode").asInt(end.path("exited").asBoolean(true) ? 0 : -1),
                                end.hasNonNull("error") ? end.get("error").asText() : null);
                        ended = true;
                    }
                }
            } catch (IOException e) {
                return ended;
            }
        }

        @Override
        public void close() {
            try {
                body.close();
            } catch (IOException ignored) {
                // closing is all that was asked
            }
        }
    }

    public List<ProcessInfo> list() {
        List<ProcessInfo> out = new ArrayList<>();
        for (JsonNode p : unary(PROCESS + "List", JSON.createObjectNode()).path("processes")) {
            List<String> args = new ArrayList<>();
            p.path("config").path("args").forEach(a -> args.add(a.asText()));
            out.add(new ProcessInfo(p.path("pid").asInt(), p.hasNonNull("tag") ? p.get("tag").asText() : null,
                    p.path("config").path("cmd").asText(), args));
        }
        return out;
    }

    /** Sends a signal: 9 or 15. */
    public void signal(Selector s, int signal) {
        ObjectNode body = JSON.createObjectNode();
        body.set("process", s.json());
        body.put("signal", signal == 15 ? "SIGNAL_SIGTERM" : "SIGNAL_SIGKILL");
        unary(PROCESS + "SendSignal", body);
    }

    public void ptyInput(Selector s, byte[] data) {
        ObjectNode body = JSON.createObjectNode();
        body.set("process", s.json());
        body.putObject("input").put("pty", Base64.getEncoder().encodeToString(data));
        unary(PROCESS + "SendInput", body);
    }

    public void resize(Selector s, int cols, int rows) {
        ObjectNode body = JSON.createObjectNode();
        body.set("process", s.json());
        body.putObject("pty").putObject("size").put("cols", cols).put("rows", rows);
        unary(PROCESS + "Update", body);
    }

    // --- files ---

    /** A directory entry as envd describes it. */
    public JsonNode stat(String path) {
        return unary(FILESYSTEM + "Stat", JSON.createObjectNode().put("path", path)).path("entry");
    }

    public List<JsonNode> listDir(String path, int depth) {
        List<JsonNode> out = new ArrayList<>();
        unary(FILESYSTEM + "ListDir", JSON.createObjectNode().put("path", path).put("depth", depth)).path("entries").forEach(out::add);
        return out;
    }

    public JsonNode makeDir(String path) {
        unary(FILESYSTEM + "MakeDir", JSON.createObjectNode().put("path", path));
        return stat(path);
    }

    public void remove(String path) {
        unary(FILESYSTEM + "Remove", JSON.createObjectNode().put("path", path));
    }

    private static String q(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** The file's bytes as a stream (the caller closes it); 404 when there is no such file. */
    public InputStream read(String path) {
        HttpResponse<InputStream> res = send(request("/files?path=" + q(path), null).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        if (res.statusCode() == 200) return res.body();
        String text;
        try (InputStream in = res.body()) {
            text = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
        } catch (IOException e) {
            text = "";
        }
        String message = parse(text).path("message").asText(text);
        throw switch (res.statusCode()) {
            case 404 -> ApiError.notFound(message);
            case 400 -> ApiError.badRequest(message);
            default -> new ApiError(502, "host_error", "reading the file failed: " + message);
        };
    }

    /** Writes the stream to the file, as it comes (envd's raw upload): nothing is held whole. */
    public void write(String path, Supplier<InputStream> content) {
        HttpResponse<String> res = send(request("/files?path=" + q(path), null).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofInputStream(content)).build(), HttpResponse.BodyHandlers.ofString());
        if (res.statusCode() == 200) return;
        String message = parse(res.body()).path("message").asText(res.body());
        throw switch (res.statusCode()) {
            case 400 -> ApiError.badRequest(message);
            case 507 -> new ApiError(507, "insufficient_storage", message);
            default -> new ApiError(502, "host_error", "writing the file failed: " + message);
        };
    }
}
