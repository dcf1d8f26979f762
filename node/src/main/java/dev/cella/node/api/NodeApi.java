package dev.cella.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.http.JsonHttp;
import dev.cella.node.image.ImagePuller;
import dev.cella.node.metrics.MetricRange;
import dev.cella.node.metrics.MetricsSampler;
import dev.cella.node.pool.WarmPool;
import dev.cella.node.problem.Problem;
import dev.cella.node.sandbox.SandboxRecord;
import dev.cella.node.sandbox.Sandboxes;
import dev.cella.node.template.NodeTemplates;
import io.javalin.Javalin;
import io.javalin.http.Context;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The node's lifecycle API, JSON over HTTP, for the server: every call but
 * {@code GET /health} carries {@code Authorization: Bearer <node token>}.
 *
 * <pre>
 * GET    /health                          liveness, no token
 * GET    /v1/node                         its id, proxy port, capacity and usage
 * GET    /v1/templates                    the templates it can start: [{templateId, rootfs, builtIn}]
 * POST   /v1/images                       {reference, username?, password?}: pull an image into a template
 *                                          -> {templateId, digest, env, workdir, user, cmd, entrypoint}
 * DELETE /v1/templates/{id}               a layered template (its files go once nothing stands on them)
 * POST   /v1/sandboxes/{id}/snapshot      {templateId}: a layered template of the sandbox's files -> {templateId, sizeBytes}
 * POST   /v1/sandboxes                    create: {sandboxId, templateId, vcpus, memoryMb, diskMb, maxProcesses,
 *                                          internet, envVars, metadata, timeoutSeconds, onTimeout, autoResume,
 *                                          envdAccessToken, defaultUser, trafficAccessToken, defaultWorkdir}
 * GET    /v1/sandboxes                    list
 * GET    /v1/sandboxes/{id}               one
 * DELETE /v1/sandboxes/{id}               kill
 * POST   /v1/sandboxes/{id}/pause|resume|hibernate   (resume: {timeoutSeconds?})
 * POST   /v1/sandboxes/{id}/timeout       {timeoutSeconds}
 * GET    /v1/sandboxes/{id}/events        the lifecycle log
 * GET    /v1/sandboxes/{id}/metrics?range=10m   CPU, memory, disk points (5m 10m 1h 2h 6h 12h 24h)
 * GET    /v1/pool                         the warm pool: per template {templateId, target, ready, starting, taken,
 *                                          missed, made, discarded, failed, lastAsked}, and the start queue
 * PUT    /v1/pool/{templateId}            {size}: how many of it to keep ready (size null: the default again)
 * DELETE /v1/pool/{templateId}            drain: stop its pooled sandboxes (it refills on demand)
 * </pre>
 * Errors are {@code {"code": status, "message": ...}}: 400 bad input, 401 token, 404, 409 state, 429 (with
 * {@code Retry-After}) when the node's start queue is full.
 */
public final class NodeApi {
    private final Sandboxes sandboxes;
    private final NodeTemplates templates;
    private final ImagePuller images;
    private final WarmPool pool;
    private final NodeCapacity capacity;
    private final MetricsSampler metrics;
    private final byte[] token;
    private final ObjectMapper json = NodeJson.node();
    private Javalin app;

    public NodeApi(Sandboxes sandboxes, NodeTemplates templates, ImagePuller images, WarmPool pool,
                   NodeCapacity capacity, MetricsSampler metrics, String nodeToken) {
        if (nodeToken == null || nodeToken.length() < 16) throw new IllegalArgumentException("the node token must have at least 16 characters");
        this.sandboxes = sandboxes;
        this.templates = templates;
        this.images = images;
        this.pool = pool;
        this.capacity = capacity;
        this.metrics = metrics;
        this.token = nodeToken.getBytes(StandardCharsets.UTF_8);
    }

    public NodeApi start(String host, int port) {
        app = JsonHttp.start(host, port, json, config -> {
            config.routes.before("/v1/*", this::authorize);
            config.routes.get("/health", ctx -> ctx.json(Map.of("status", "ok")));
            config.routes.get("/v1/node", ctx -> ctx.json(capacity.report(sandboxes.list(), pool.totals(), startQueue())));
            config.routes.get("/v1/pool", ctx -> ctx.json(new NodeReport.Pool(pool.report(), startQueue())));
            config.routes.put("/v1/pool/{templateId}", ctx -> {
                pool.size(ctx.pathParam("templateId"), read(ctx, NodeRequests.PoolSize.class, "a pool size").checked());
                ctx.json(Map.of("templateId", ctx.pathParam("templateId")));
            });
            config.routes.delete("/v1/pool/{templateId}", ctx -> {
                pool.drain(ctx.pathParam("templateId"));
                ctx.status(204);
            });
            config.routes.get("/v1/templates", ctx -> ctx.json(templates.all().entrySet().stream()
                    .map(e -> new NodeTemplate(e.getKey(), e.getValue().toString(), templates.isBuiltIn(e.getKey()))).toList()));
            config.routes.delete("/v1/templates/{id}", ctx -> {
                if (!sandboxes.deleteTemplate(templates, ctx.pathParam("id"))) {
                    error(ctx, 404, "template " + ctx.pathParam("id") + " not found");
                    return;
                }
                ctx.status(204);
            });
            config.routes.post("/v1/images", ctx -> {
                var pull = read(ctx, NodeRequests.ImagePull.class, "an image to pull");
                String ref = pull.checkedReference();
                try {
                    ctx.status(201).json(images.pull(ref, pull.username(), pull.password()));
                } catch (IOException e) {
                    error(ctx, 502, "pulling " + ref + " failed: " + e.getMessage());
                }
            });
            config.routes.post("/v1/sandboxes/{id}/snapshot", ctx -> {
                String templateId = read(ctx, SnapshotTaken.Request.class, "a snapshot to take").checkedTemplateId();
                sandboxes.snapshot(ctx.pathParam("id"), templateId, templates);
                ctx.status(201).json(new SnapshotTaken(templateId, templates.size(templateId)));
            });
            config.routes.post("/v1/sandboxes", this::create);
            config.routes.get("/v1/sandboxes", ctx -> ctx.json(sandboxes.list().stream().map(NodeApi::view).toList()));
            config.routes.get("/v1/sandboxes/{id}", ctx -> ctx.json(view(sandboxes.require(ctx.pathParam("id")))));
            config.routes.delete("/v1/sandboxes/{id}", ctx -> {
                sandboxes.kill(ctx.pathParam("id"));
                ctx.status(204);
            });
            config.routes.post("/v1/sandboxes/{id}/pause", ctx -> ctx.json(view(sandboxes.pause(ctx.pathParam("id")))));
            config.routes.post("/v1/sandboxes/{id}/hibernate", ctx -> ctx.json(view(sandboxes.hibernate(ctx.pathParam("id")))));
            config.routes.post("/v1/sandboxes/{id}/resume", ctx -> {
                Duration d = read(ctx, NodeRequests.NewTimeout.class, "a timeout").checked(false);
                ctx.json(view(sandboxes.resume(ctx.pathParam("id"), d)));
            });
            config.routes.post("/v1/sandboxes/{id}/timeout", ctx -> {
                Duration d = read(ctx, NodeRequests.NewTimeout.class, "a timeout").checked(true);
                ctx.json(view(sandboxes.setTimeout(ctx.pathParam("id"), d)));
            });
            config.routes.get("/v1/sandboxes/{id}/events", ctx -> ctx.json(sandboxes.events(ctx.pathParam("id"))));
            config.routes.get("/v1/sandboxes/{id}/metrics", this::metrics);
        });
        return this;
    }

    public int port() {
        return app.port();
    }

    public void stop() {
        if (app != null) app.stop();
    }

    /** The start queue now: starts running, creates waiting, and how many may run at once. */
    private NodeReport.StartQueue startQueue() {
        var q = sandboxes.starts();
        return new NodeReport.StartQueue(q.running(), q.waiting(), q.concurrent());
    }

    private void authorize(Context ctx) {
        String h = ctx.header("Authorization");
        byte[] presented = h != null && h.startsWith("Bearer ") ? h.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(presented, token)) {
            error(ctx, 401, "a valid node token is required (Authorization: Bearer <token>)");
            ctx.skipRemainingHandlers();
        }
    }

    private static void error(Context ctx, int status, String message) {
        JsonHttp.error(ctx, status, message);
    }

    private JsonNode body(Context ctx) {
        return JsonHttp.body(ctx, json);
    }

    private <T> T read(Context ctx, Class<T> type, String what) {
        return NodeRequests.read(body(ctx), json, type, what);
    }

    /** The Wrenn API's CapsuleMetrics: {sandbox_id, range, points[{timestamp_unix, cpu_pct, mem_bytes, disk_bytes}]}. */
    private void metrics(Context ctx) {
        String id = ctx.pathParam("id");
        sandboxes.require(id);
        String range = Optional.ofNullable(ctx.queryParam("range")).orElse("10m");
        long seconds = MetricRange.of(range).orElseThrow(() -> new Problem.Invalid("range must be one of " + MetricRange.labels())).seconds;
        ctx.json(new SandboxMetrics(id, range, metrics.points(id, seconds)));
    }

    private void create(Context ctx) throws Exception {
        ctx.status(201).json(view(NewSandbox.from(body(ctx), json).startOn(sandboxes, templates)));
    }

    /** A sandbox as the API shows it: never its access token. */
    private static NodeSandbox view(SandboxRecord r) {
        return NodeSandbox.of(r);
    }
}
