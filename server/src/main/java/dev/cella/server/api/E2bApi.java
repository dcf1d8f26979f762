package dev.cella.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.http.JsonHttp;
import dev.cella.node.problem.Problem;
import dev.cella.node.sandbox.SandboxState;
import dev.cella.node.sandbox.Sandboxes;
import dev.cella.protocol.envd.EnvdProtocol;
import dev.cella.server.api.template.TemplateRoutes;
import dev.cella.server.auth.ApiKeys;
import dev.cella.server.auth.Team;
import dev.cella.server.sandbox.SandboxService;
import dev.cella.server.sandbox.SandboxService.View;
import dev.cella.server.template.Templates;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The E2B dialect (E2B's API as the Lelantos documents give it): the REST calls the E2B SDK makes, JSON in camelCase,
 * errors {@code {code, message}} with the numeric code in the body, where the SDK reads it.
 * Every call is made as the team of its {@code X-API-KEY}; another team's sandbox is 404.
 */
public final class E2bApi implements ApiServer.Dialect {
    public static final String ENVD_VERSION = EnvdProtocol.VERSION;
    private static final String TEAM = "team";

    private final ApiKeys keys;
    private final SandboxService sandboxes;
    /** A team starts sandboxes from the built-in templates and its own, never another team's. */
    private final Templates templates;
    /** The template routes (builds in three dialects) this dialect serves. */
    private final TemplateRoutes templateRoutes;
    private final ObjectMapper json = new ObjectMapper();
    /** The Lelantos (E2B-style) API's limits: 200 requests per second for the API, 3 per second for authentication (here: failed attempts). */
    private final RateLimiter perTeam;
    private final int requestsPerSecond;
    private final RateLimiter failedAuthPerClient = new RateLimiter(3);
    private final String domain;
    private Javalin app;

    public E2bApi(ApiKeys keys, SandboxService sandboxes, Templates templates, TemplateRoutes templateRoutes) {
        this(keys, sandboxes, templates, templateRoutes, 200, null);
    }

    /**
     * @param requestsPerSecond the per-team limit (Lelantos: 200)
     * @param domain what create answers as {@code domain}, from which the SDK builds
     *               {@code getHost(port)} = {@code <port>-<id>.<domain>} (needs wildcard DNS); null for none
     */
    public E2bApi(ApiKeys keys, SandboxService sandboxes, Templates templates, TemplateRoutes templateRoutes, int requestsPerSecond,
                  String domain) {
        this.templates = templates;
        this.templateRoutes = templateRoutes;
        this.keys = keys;
        this.sandboxes = sandboxes;
        this.perTeam = new RateLimiter(requestsPerSecond);
        this.requestsPerSecond = requestsPerSecond;
        this.domain = domain;
    }

    /** Serves this dialect alone (tests); the server mounts it beside the native one with {@link ApiServer}. */
    public E2bApi start(String host, int port) {
        app = ApiServer.start(host, port, List.of(this));
        return this;
    }

    /** Everything not under {@code /v1}. */
    @Override
    public boolean owns(String path) {
        return !path.equals("/v1") && !path.startsWith("/v1/");
    }

    /** E2B's error shape: the numeric code in the body, where the SDK reads it. */
    @Override
    public void writeError(Context ctx, int status, String code, String message) {
        JsonHttp.error(ctx, status, message);
    }

    private final List<ApiServer.Route> routes = new ArrayList<>();

    /** What this dialect serves (compared with its OpenAPI document by a test). */
    public List<ApiServer.Route> servedRoutes() {
        return List.copyOf(routes);
    }

    private void route(JavalinConfig config, HandlerType method, String path, Handler handler) {
        routes.add(new ApiServer.Route(method.name(), path));
        config.routes.addHttpHandler(method, path, handler);
    }

    @Override
    public void routes(JavalinConfig config) {
        {
            config.routes.before(ctx -> {
                if (owns(ctx.path())) authenticate(ctx);
            });
            route(config, HandlerType.GET, "/openapi.yaml", ctx -> {
                try (var in = E2bApi.class.getResourceAsStream("/openapi/e2b.yaml")) {
                    ctx.contentType("application/yaml").result(in.readAllBytes());
                }
            });
            route(config, HandlerType.GET, "/health", ctx -> ctx.status(200).json(Map.of("status", "ok")));
            route(config, HandlerType.POST, "/sandboxes", this::create);
            route(config, HandlerType.POST, "/v2/sandboxes", this::create);
            route(config, HandlerType.GET, "/sandboxes", this::listV1);
            route(config, HandlerType.GET, "/v2/sandboxes", this::listV2);
            route(config, HandlerType.GET, "/sandboxes/{id}", ctx -> ctx.json(detail(view(ctx))));
            route(config, HandlerType.DELETE, "/sandboxes/{id}", ctx -> {
                if (!sandboxes.kill(team(ctx), ctx.pathParam("id"))) throw new Problem.NotFound("sandbox " + ctx.pathParam("id") + " not found");
                ctx.status(204);
            });
            route(config, HandlerType.POST, "/sandboxes/{id}/timeout", ctx -> {
                sandboxes.setTimeout(team(ctx), ctx.pathParam("id"), timeout(body(ctx), null, true));
                ctx.status(204);
            });
            route(config, HandlerType.POST, "/sandboxes/{id}/refreshes", ctx -> {
                sandboxes.setTimeout(team(ctx), ctx.pathParam("id"), seconds(body(ctx), "duration", Duration.ofSeconds(60), false, MAX_REFRESH));
                ctx.status(204);
            });
            route(config, HandlerType.POST, "/sandboxes/{id}/pause", ctx -> {
                View v = view(ctx);
                if (v.live().state() != SandboxState.RUNNING) throw new Problem.Conflict("sandbox " + v.row().id() + " is already paused");
                sandboxes.pause(v);
                ctx.status(204);
            });
            route(config, HandlerType.POST, "/sandboxes/{id}/resume", ctx -> {
                View v = view(ctx);
                if (v.live().state() == SandboxState.RUNNING) throw new Problem.Conflict("sandbox " + v.row().id() + " is already running");
                ctx.status(201).json(sandbox(sandboxes.connect(v, timeout(body(ctx), Duration.ofSeconds(300), false)).view()));
            });
            templateRoutes.register((method, path, handler) -> route(config, method, path, handler));
            route(config, HandlerType.GET, "/sandboxes/{id}/metrics", this::metrics);
            route(config, HandlerType.GET, "/sandboxes/{id}/logs", this::logs);
            route(config, HandlerType.POST, "/sandboxes/{id}/connect", this::connect);
            route(config, HandlerType.POST, "/v2/sandboxes/{id}/connect", this::connect);
        }
    }

    public int port() { return app.port(); }

    public void stop() { if (app != null) app.stop(); }

    private void authenticate(Context ctx) {
        if (ctx.path().equals("/health") || ctx.path().equals("/openapi.yaml")) return;
        if (TemplateRoutes.isSignedUpload(ctx)) return; // the upload URL carries its own signature
        var team = keys.authenticate(ctx.header("X-API-KEY"));
        if (team.isEmpty()) {
            long wait = failedAuthPerClient.acquire(ctx.ip());
            if (wait > 0) {
                tooMany(ctx, wait, "too many failed authentications");
            } else {
                error(ctx, 401, "Invalid API key, it must start with 'e2b_' prefix and be one of this server's keys");
            }
            ctx.skipRemainingHandlers();
            return;
        }
        long wait = perTeam.acquire(team.get().id());
        if (wait > 0) {
            tooMany(ctx, wait, "rate limit exceeded: " + requestsPerSecond + " requests per second");
            ctx.skipRemainingHandlers();
            return;
        }
        ctx.attribute(TEAM, team.get());
    }

    private static void tooMany(Context ctx, long retryAfterSeconds, String message) {
        ctx.header("Retry-After", Long.toString(retryAfterSeconds));
        error(ctx, 429, message);
    }

    public static Team team(Context ctx) {
        return ctx.attribute(TEAM);
    }

    private static void error(Context ctx, int status, String message) {
        JsonHttp.error(ctx, status, message);
    }

    private JsonNode body(Context ctx) {
        return JsonHttp.body(ctx, json);
    }

    /** E2B's bound on a refresh ({@code POST /sandboxes/{id}/refreshes {duration}}): an hour at most. */
    static final Duration MAX_REFRESH = Duration.ofHours(1);

    private static Duration timeout(JsonNode b, Duration fallback, boolean required) {
        return seconds(b, "timeout", fallback, required, Sandboxes.MAX_TIMEOUT);
    }

    /** A whole number of seconds from 0 to {@code max} in {@code field}, else 400 (never a negative or overflowing duration). */
    private static Duration seconds(JsonNode b, String field, Duration fallback, boolean required, Duration max) {
        JsonNode t = b.get(field);
        if (t == null || t.isNull()) {
            if (required) throw new Problem.Invalid(field + " is required");
            return fallback;
        }
        if (!t.isNumber() || !t.canConvertToLong() || t.asLong() < 0 || t.asLong() > max.toSeconds()) {
            throw new Problem.Invalid(field + " must be seconds from 0 to " + max.toSeconds());
        }
        return Duration.ofSeconds(t.asLong());
    }

    private static Map<String, String> strings(JsonNode b, String field) {
        Map<String, String> out = new HashMap<>();
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) return out;
        if (!n.isObject()) throw new Problem.Invalid(field + " must be an object of strings");
        n.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private void create(Context ctx) throws Exception {
        JsonNode b = body(ctx);
        String template = b.path("templateID").asText("");
        if (template.isEmpty()) throw new Problem.Invalid("templateID is required");
        boolean internet = b.has("allow_internet_access") ? b.path("allow_internet_access").asBoolean(true)
                : b.path("allowInternetAccess").asBoolean(true);
        var req = SandboxService.NewSandbox.e2b(templates.resolve(team(ctx).id(), template), timeout(b, Duration.ofSeconds(300), false), strings(b, "metadata"),
                strings(b, "envVars"), b.path("autoPause").asBoolean(false),
                // SDK 2.51 sends {autoResume: {enabled}}; a bare boolean is accepted too
                b.path("autoResume").isObject() ? b.path("autoResume").path("enabled").asBoolean(false) : b.path("autoResume").asBoolean(false),
                b.path("secure").asBoolean(true), // SDK 2.5x always expects a token
                internet, b.path("network").path("allowPublicTraffic").asBoolean(true));
        ctx.status(201).json(sandbox(sandboxes.create(team(ctx), req)));
    }

    /** E2B's SandboxMetric list between {@code start} and {@code end} (unix seconds; default the last 10 minutes). */
    private void metrics(Context ctx) {
        View v = view(ctx);
        long now = Instant.now().getEpochSecond();
        long end = longParam(ctx, "end", now), start = longParam(ctx, "start", Math.max(v.row().startedAt() / 1000, now - 600));
        if (start > end) throw new Problem.Invalid("start must not be after end");
        long span = Math.max(1, now - start);
        ctx.json(sandboxes.metrics(team(ctx), v.row().id(), span).stream()
                .filter(p -> p.timestampUnix() >= start && p.timestampUnix() <= end)
                .map(p -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("timestamp", Instant.ofEpochSecond(p.timestampUnix()).toString());
                    m.put("timestampUnix", p.timestampUnix());
                    m.put("cpuCount", v.row().vcpus());
                    m.put("cpuUsedPct", p.cpuPct());
                    m.put("memUsed", p.memBytes());
                    m.put("memTotal", (long) v.row().memoryMb() << 20);
                    m.put("memCache", 0);
                    m.put("diskUsed", p.diskBytes());
                    m.put("diskTotal", (long) v.row().diskMb() << 20);
                    return m;
                }).toList());
    }

    /** The sandbox's lifecycle log as E2B's SandboxLogs: {logs: [{timestamp, line}]}. */
    private void logs(Context ctx) throws Exception {
        View v = view(ctx);
        long start = longParam(ctx, "start", 0);
        var lines = sandboxes.events(team(ctx), v.row().id()).stream()
                .filter(e -> e.at().toEpochMilli() >= start)
                .map(e -> Map.of("timestamp", e.at().toString(), "line", e.type() + (e.detail().isEmpty() ? "" : ": " + e.detail())))
                .toList();
        ctx.json(Map.of("logs", lines, "logEntries", List.of()));
    }

    private static long longParam(Context ctx, String name, long fallback) {
        String raw = ctx.queryParam(name);
        if (raw == null || raw.isBlank()) return fallback;
        try {
            return Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw new Problem.Invalid(name + " must be a number");
        }
    }

    private void connect(Context ctx) throws Exception {
        SandboxService.Connected c = sandboxes.connect(view(ctx), timeout(body(ctx), null, false));
        ctx.status(c.resumed() ? 201 : 200).json(sandbox(c.view()));
    }

    private View view(Context ctx) {
        return sandboxes.require(team(ctx), ctx.pathParam("id"));
    }

    /** E2B's Sandbox: what create, connect and resume answer. */
    private Map<String, Object> sandbox(View v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("workloadType", "compute");
        m.put("runtimeClass", "container");
        m.put("templateID", templates.nameOf(v.row().teamId(), v.row().templateId()));
        m.put("sandboxID", v.row().id());
        m.put("clientID", "cella");
        m.put("envdVersion", ENVD_VERSION);
        if (v.row().envdAccessToken() != null) m.put("envdAccessToken", v.row().envdAccessToken());
        if (v.row().trafficAccessToken() != null) m.put("trafficAccessToken", v.row().trafficAccessToken());
        m.put("domain", domain);
        return m;
    }

    /** E2B's SandboxDetail / ListedSandbox. */
    private Map<String, Object> detail(View v) {
        Map<String, Object> m = sandbox(v);
        m.remove("envdAccessToken");
        m.remove("trafficAccessToken");
        m.put("alias", templates.nameOf(v.row().teamId(), v.row().templateId()));
        m.put("startedAt", Instant.ofEpochMilli(v.row().startedAt()).toString());
        m.put("endAt", v.live().endAt() == null ? Instant.ofEpochMilli(v.row().startedAt()).plus(Duration.ofDays(365)).toString()
                : v.live().endAt().toString());
        m.put("cpuCount", v.row().vcpus());
        m.put("memoryMB", v.row().memoryMb());
        m.put("diskSizeMB", v.row().diskMb());
        m.put("state", v.live().state() == SandboxState.RUNNING ? "running" : "paused");
        m.put("metadata", v.row().metadata());
        m.put("volumeMounts", List.of());
        return m;
    }

    /** {@code metadata=k1%3Dv1%26k2%3Dv2}: every pair must match. */
    private static Map<String, String> metadataFilter(Context ctx) {
        Map<String, String> f = new HashMap<>();
        String raw = ctx.queryParam("metadata");
        if (raw == null || raw.isEmpty()) return f;
        for (String pair : URLDecoder.decode(raw, StandardCharsets.UTF_8).split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) f.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return f;
    }

    private List<View> filtered(Context ctx, List<String> states) {
        Map<String, String> filter = metadataFilter(ctx);
        return sandboxes.list(team(ctx)).stream()
                .filter(v -> filter.entrySet().stream().allMatch(e -> e.getValue().equals(v.row().metadata().get(e.getKey()))))
                .filter(v -> states.contains(v.live().state() == SandboxState.RUNNING ? "running" : "paused"))
                .toList();
    }

    private void listV1(Context ctx) {
        ctx.json(filtered(ctx, List.of("running")).stream().map(this::detail).toList());
    }

    private void listV2(Context ctx) {
        String stateParam = ctx.queryParam("state");
        List<String> states = stateParam == null || stateParam.isBlank() ? List.of("running", "paused")
                : List.of(stateParam.toLowerCase(Locale.ROOT).split(","));
        int limit;
        try {
            limit = Integer.parseInt(ctx.queryParamAsClass("limit", String.class).getOrDefault("100"));
        } catch (NumberFormatException e) {
            throw new Problem.Invalid("limit must be a number");
        }
        if (limit < 1 || limit > 100) throw new Problem.Invalid("limit must be from 1 to 100");
        List<View> all = filtered(ctx, states);
        String next = ctx.queryParam("nextToken");
        int from = 0;
        if (next != null && !next.isEmpty()) {
            for (int i = 0; i < all.size(); i++) if (all.get(i).row().id().equals(next)) from = i;
        }
        List<View> page = all.subList(from, Math.min(all.size(), from + limit));
        if (from + limit < all.size()) ctx.header("X-Next-Token", all.get(from + limit).row().id());
        ctx.json(page.stream().map(this::detail).toList());
    }
}
