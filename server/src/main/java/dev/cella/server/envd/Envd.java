package dev.cella.server.envd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cella.node.problem.Problem;
import dev.cella.node.proxy.SandboxRoutes;
import dev.cella.protocol.envd.EnvdClient;
import dev.cella.protocol.envd.EnvdException;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The server's side of one sandbox's envd: the same calls the E2B SDK makes, through the
 * one envd client ({@link EnvdClient}), sent along the sandbox's route (straight to it, or
 * through its node's proxy) with its access token. The native API's exec, processes,
 * terminals and files are built on these; envd's refusals become the domain's problems here.
 */
public final class Envd {
    static final HttpClient HTTP = EnvdClient.newHttpClient(Duration.ofSeconds(5));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration UNARY_LIMIT = Duration.ofSeconds(30);

    private final EnvdClient client;

    public Envd(SandboxRoutes.Route route, String accessToken) {
        this(new EnvdClient(HTTP, route.base()).withHeaders(route.headers()).withAccessToken(accessToken));
    }

    private Envd(EnvdClient client) {
        this.client = client;
    }

    /** The same envd, acting as another user of the sandbox (null: its default user). */
    public Envd as(String user) {
        return new Envd(client.as(user));
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
    public interface Events extends EnvdClient.ProcessEvents {}

    /** envd's refusal as the domain's problem: not found, invalid, conflict, forbidden, no space; the rest its failure. */
    static Problem error(EnvdException e) {
        String message = e.getMessage();
        return switch (e.code()) {
            case "not_found" -> new Problem.NotFound(message);
            case "invalid_argument", "failed_precondition", "out_of_range" -> new Problem.Invalid(message);
            case "already_exists" -> new Problem.Conflict(message);
            case "permission_denied", "unauthenticated" -> new Problem.Forbidden(message);
            case "resource_exhausted" -> new Problem.NoSpace(message);
            default -> new Problem.Upstream("host_error", "the sandbox's daemon failed: " + message);
        };
    }

    private static Problem unreachable(IOException e) {
        return new Problem.Upstream("host_error", "the sandbox's daemon did not answer: " + e.getMessage());
    }

    /** A unary Connect call; envd's errors become the API's. */
    private JsonNode unary(String method, JsonNode body) {
        try {
            return client.unary(method, body, UNARY_LIMIT);
        } catch (EnvdException e) {
            throw error(e);
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    // --- processes ---

    private static EnvdClient.Start start(Command c, Integer ptyCols, Integer ptyRows) {
        EnvdClient.Start s = EnvdClient.Start.of(c.cmd(), c.args()).envs(c.envs()).cwd(c.cwd()).tag(c.tag());
        return ptyCols != null ? s.pty(ptyCols, ptyRows) : s.noStdin();
    }

    /**
     * Starts a process and follows its events on the calling thread until it ends or the
     * stream closes. With a {@code deadline}, envd kills the process when it passes.
     * Returns normally when the stream ends; {@link Stream#close()} from another thread
     * stops following (the process goes on).
     */
    public Stream start(Command c, Integer ptyCols, Integer ptyRows, Duration deadline) {
        return stream(() -> client.start(start(c, ptyCols, ptyRows), deadline));
    }

    /** Follows a running process's events (a re-attach). */
    public Stream connect(Selector s) {
        ObjectNode body = JSON.createObjectNode();
        body.set("process", s.json());
        return stream(() -> client.stream(EnvdClient.PROCESS + "Connect", body, null));
    }

    private interface Opening {
        EnvdClient.Stream open() throws IOException;
    }

    private static Stream stream(Opening opening) {
        try {
            return new Stream(opening.open());
        } catch (EnvdException e) {
            throw error(e);
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    /** An open stream of one process's events. */
    public static final class Stream implements AutoCloseable {
        private final EnvdClient.Stream stream;

        Stream(EnvdClient.Stream stream) {
            this.stream = stream;
        }

        /**
         * Delivers the events until the process ends (true) or the stream is closed or
         * broken (false); see {@link EnvdClient.Stream#follow}. An error before the process
         * started (no such program) is thrown as the API's error.
         */
        public boolean follow(Events events) {
            try {
                return stream.follow(events);
            } catch (EnvdException e) {
                throw error(e);
            }
        }

        @Override
        public void close() {
            stream.close();
        }
    }

    public List<ProcessInfo> list() {
        List<ProcessInfo> out = new ArrayList<>();
        for (JsonNode p : unary(EnvdClient.PROCESS + "List", JSON.createObjectNode()).path("processes")) {
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
        unary(EnvdClient.PROCESS + "SendSignal", body);
    }

    public void ptyInput(Selector s, byte[] data) {
        ObjectNode body = JSON.createObjectNode();
        body.set("process", s.json());
        body.putObject("input").put("pty", Base64.getEncoder().encodeToString(data));
        unary(EnvdClient.PROCESS + "SendInput", body);
    }

    public void resize(Selector s, int cols, int rows) {
        ObjectNode body = JSON.createObjectNode();
        body.set("process", s.json());
        body.putObject("pty").putObject("size").put("cols", cols).put("rows", rows);
        unary(EnvdClient.PROCESS + "Update", body);
    }

    // --- files ---

    /** A directory entry as envd describes it. */
    public JsonNode stat(String path) {
        return unary(EnvdClient.FILESYSTEM + "Stat", JSON.createObjectNode().put("path", path)).path("entry");
    }

    public List<JsonNode> listDir(String path, int depth) {
        List<JsonNode> out = new ArrayList<>();
        unary(EnvdClient.FILESYSTEM + "ListDir", JSON.createObjectNode().put("path", path).put("depth", depth)).path("entries").forEach(out::add);
        return out;
    }

    public JsonNode makeDir(String path) {
        unary(EnvdClient.FILESYSTEM + "MakeDir", JSON.createObjectNode().put("path", path));
        return stat(path);
    }

    public void remove(String path) {
        unary(EnvdClient.FILESYSTEM + "Remove", JSON.createObjectNode().put("path", path));
    }

    private static String q(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String message(String text) {
        try {
            return text.isBlank() ? text : JSON.readTree(text).path("message").asText(text);
        } catch (IOException e) {
            return text;
        }
    }

    /** The file's bytes as a stream (the caller closes it); 404 when there is no such file. */
    public InputStream read(String path) {
        HttpResponse<InputStream> res;
        try {
            res = client.send(client.request("/files?path=" + q(path), null).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw unreachable(e);
        }
        if (res.statusCode() == 200) return res.body();
        String text;
        try (InputStream in = res.body()) {
            text = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
        } catch (IOException e) {
            text = "";
        }
        String message = message(text);
        throw switch (res.statusCode()) {
            case 404 -> new Problem.NotFound(message);
            case 400 -> new Problem.Invalid(message);
            default -> new Problem.Upstream("host_error", "reading the file failed: " + message);
        };
    }

    /** Writes the stream to the file, as it comes (envd's raw upload): nothing is held whole. */
    public void write(String path, Supplier<InputStream> content) {
        HttpResponse<String> res;
        try {
            res = client.send(client.request("/files?path=" + q(path), null).header("Content-Type", "application/octet-stream")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(content)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw unreachable(e);
        }
        if (res.statusCode() == 200) return;
        String message = message(res.body());
        throw switch (res.statusCode()) {
            case 400 -> new Problem.Invalid(message);
            case 507 -> new Problem.NoSpace(message);
            default -> new Problem.Upstream("host_error", "writing the file failed: " + message);
        };
    }
}
