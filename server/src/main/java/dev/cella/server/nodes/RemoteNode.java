package dev.cella.server.nodes;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.api.NewSandbox;
import dev.cella.node.api.NodeJson;
import dev.cella.node.api.NodeReport;
import dev.cella.node.api.NodeRequests;
import dev.cella.node.api.NodeSandbox;
import dev.cella.node.api.NodeTemplate;
import dev.cella.node.api.SandboxMetrics;
import dev.cella.node.api.SnapshotTaken;
import dev.cella.node.image.ImagePuller;
import dev.cella.node.metrics.MetricPoint;
import dev.cella.node.metrics.MetricRange;
import dev.cella.node.problem.Problem;
import dev.cella.node.proxy.SandboxRoutes;
import dev.cella.node.sandbox.SandboxEvent;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A node on another host, driven over its API ({@code cella node --api}) with its token.
 * What the node is (its id, templates and proxy port) is asked once and again on
 * {@link #refresh()}; its sandboxes' traffic goes to its own proxy, on the host of its API.
 */
public final class RemoteNode implements NodeClient {
    /** Lifecycle calls that start or wake a sandbox may wait this long; the others less. */
    private static final Duration SLOW = Duration.ofSeconds(60), QUICK = Duration.ofSeconds(15);

    private final URI api;
    private final String token;
    private final HttpClient http;
    /** What it reads of the node's answers: a field this server does not know (a newer node's) is passed over. */
    private final ObjectMapper json = NodeJson.server();
    private volatile Info info;
    /** Whether the last call got an answer; when not, when it was, so that a dead node is not asked at every turn. */
    private volatile boolean answering;
    private volatile long failedAtNanos;
    private static final long RETRY_NANOS = Duration.ofSeconds(5).toNanos();

    /** What the node says of itself. */
    record Info(String id, int proxyPort, Map<String, Path> templates, Set<String> builtIn) {}

    public RemoteNode(URI api, String token) {
        this.api = URI.create(api.toString().replaceAll("/+$", ""));
        this.token = token;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    public URI apiUrl() { return api; }

    /** Asks the node what it is: its id, proxy port and templates. */
    public RemoteNode refresh() {
        NodeReport node = json.convertValue(call("GET", "/v1/node", null, QUICK), NodeReport.class);
        Map<String, Path> templates = new LinkedHashMap<>();
        Set<String> builtIn = new HashSet<>();
        for (NodeTemplate t : json.convertValue(call("GET", "/v1/templates", null, QUICK), new TypeReference<List<NodeTemplate>>() {})) {
            templates.put(t.templateId(), Path.of(t.rootfs()));
            if (t.builtIn()) builtIn.add(t.templateId());
        }
        info = new Info(node.nodeId(), node.proxyPort(), Map.copyOf(templates), Set.copyOf(builtIn));
        return this;
    }

    private Info info() {
        Info i = info;
        return i != null ? i : refresh().info;
    }

    @Override
    public boolean available() {
        if (answering && info != null) return true;
        if (info != null && System.nanoTime() - failedAtNanos < RETRY_NANOS) return false;
        try {
            refresh();
            return true;
        } catch (Problem.Unavailable e) {
            return false;
        }
    }

    @Override public String id() { return info().id(); }

    @Override public Set<String> templates() { return info().templates().keySet(); }

    @Override public Set<String> builtInTemplates() { return info().builtIn(); }

    @Override public Optional<Path> template(String templateId) { return Optional.ofNullable(info().templates().get(templateId)); }

    @Override
    public List<NodeSandbox> list() {
        List<NodeSandbox> out = new ArrayList<>();
        for (JsonNode v : call("GET", "/v1/sandboxes", null, QUICK)) out.add(record(v));
        return out;
    }

    @Override
    public NodeSandbox create(NewSandbox request) {
        return record(call("POST", "/v1/sandboxes", json.valueToTree(request), SLOW));
    }

    @Override
    public Optional<NodeSandbox> get(String sandboxId) {
        try {
            return Optional.of(record(call("GET", "/v1/sandboxes/" + sandboxId, null, QUICK)));
        } catch (Problem.NotFound e) {
            return Optional.empty();
        }
    }

    @Override
    public void drainPool(String templateId) {
        try {
            call("DELETE", "/v1/pool/" + templateId, null, SLOW);
        } catch (Problem.Unavailable e) {
            // not asked for any more, that pool shrinks away on the node by itself once idle
        }
    }

    @Override public void kill(String sandboxId) { call("DELETE", "/v1/sandboxes/" + sandboxId, null, SLOW); }

    @Override public NodeSandbox pause(String sandboxId) { return record(call("POST", "/v1/sandboxes/" + sandboxId + "/pause", null, SLOW)); }

    @Override
    public NodeSandbox resume(String sandboxId, Duration timeout) {
        return record(call("POST", "/v1/sandboxes/" + sandboxId + "/resume", json.valueToTree(NodeRequests.NewTimeout.of(timeout)), SLOW));
    }

    @Override
    public NodeSandbox setTimeout(String sandboxId, Duration timeout) {
        return record(call("POST", "/v1/sandboxes/" + sandboxId + "/timeout", json.valueToTree(NodeRequests.NewTimeout.of(timeout)), QUICK));
    }

    @Override
    public List<MetricPoint> metrics(String sandboxId, long seconds) {
        String range = MetricRange.covering(seconds).label;
        SandboxMetrics m = json.convertValue(call("GET", "/v1/sandboxes/" + sandboxId + "/metrics?range=" + range, null, QUICK), SandboxMetrics.class);
        long since = Instant.now().getEpochSecond() - seconds;
        return m.points().stream().filter(p -> p.timestampUnix() >= since).toList();
    }

    @Override
    public List<SandboxEvent> events(String sandboxId) {
        return json.convertValue(call("GET", "/v1/sandboxes/" + sandboxId + "/events", null, QUICK), new TypeReference<>() {});
    }

    @Override
    public long snapshot(String sandboxId, String templateId) {
        SnapshotTaken r = json.convertValue(call("POST", "/v1/sandboxes/" + sandboxId + "/snapshot",
                json.valueToTree(new SnapshotTaken.Request(templateId)), SLOW), SnapshotTaken.class);
        refresh(); // its templates changed
        return r.sizeBytes();
    }

    @Override
    public boolean deleteTemplate(String templateId) {
        try {
            call("DELETE", "/v1/templates/" + templateId, null, QUICK);
        } catch (Problem.NotFound e) {
            return false;
        } finally {
            refresh();
        }
        return true;
    }

    @Override
    public ImagePuller.Image pullImage(String reference, String username, String password) throws IOException {
        JsonNode r;
        try {
            r = call("POST", "/v1/images", json.valueToTree(new NodeRequests.ImagePull(reference, username, password)), Duration.ofMinutes(30));
        } catch (Problem.Unavailable e) {
            throw new IOException(e.getMessage(), e);
        }
        refresh();
        return json.convertValue(r, ImagePuller.Image.class);
    }

    /** Through the node's own proxy, which finds the sandbox by the same headers the SDK sends. */
    @Override
    public Optional<SandboxRoutes.Route> route(String sandboxId, int port) {
        URI proxy = URI.create("http://" + api.getHost() + ":" + info().proxyPort());
        return Optional.of(new SandboxRoutes.Route(proxy, Map.of("E2b-Sandbox-Id", sandboxId, "E2b-Sandbox-Port", Integer.toString(port)), null));
    }

    /** A sandbox as the node's API shows it: the same record a node in this process answers. */
    private NodeSandbox record(JsonNode v) {
        try {
            return json.treeToValue(v, NodeSandbox.class);
        } catch (IOException e) {
            throw new Problem.Unavailable("node " + api + " answered a sandbox this server cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * One call. The node's answers are its problems again ({@link dev.cella.node.http.JsonHttp#answer}
     * backwards): 404 and 409 are the sandbox's (not found, wrong state), 400 an invalid
     * request, 429 busy; anything else, or no answer, means the node is unavailable.
     */
    private JsonNode call(String method, String path, JsonNode body, Duration timeout) {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(api + path)).timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.toString()));
        if (body != null) req.header("Content-Type", "application/json");
        HttpResponse<String> res;
        // a create may wait its turn in the node's start queue (up to its own limit) before starting
        try {
            res = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            answering = false;
            failedAtNanos = System.nanoTime();
            throw new Problem.Unavailable("node " + api + " did not answer " + method + " " + path + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Problem.Unavailable("interrupted while calling node " + api, e);
        }
        answering = true;
        JsonNode answer;
        try {
            answer = res.body().isEmpty() ? json.createObjectNode() : json.readTree(res.body());
        } catch (IOException e) {
            throw new Problem.Unavailable("node " + api + " answered " + method + " " + path + " with something not JSON", e);
        }
        String message = answer.path("message").asText("node answered " + res.statusCode());
        return switch (res.statusCode()) {
            case 200, 201, 204 -> answer;
            case 404 -> throw Problem.sandboxNotFound(path.replaceAll("^/v1/sandboxes/([^/?]+).*", "$1"));
            case 409 -> throw new Problem.Conflict(message);
            case 429 -> throw new Problem.Busy(message, res.headers().firstValue("Retry-After")
                    .filter(v -> v.matches("\\d{1,6}")).map(Long::parseLong).orElse(1L));
            case 400 -> throw new Problem.Invalid(message);
            case 507 -> throw new Problem.NoSpace(message);
            default -> throw new Problem.Unavailable("node " + api + " answered " + res.statusCode() + " to " + method + " " + path + ": " + message, null);
        };
    }
}
