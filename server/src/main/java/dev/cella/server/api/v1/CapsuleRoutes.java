package dev.cella.server.api.v1;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cella.node.api.SandboxMetrics;
import dev.cella.node.metrics.MetricRange;
import dev.cella.node.problem.Problem;
import dev.cella.node.sandbox.SandboxState;
import dev.cella.server.Ids;
import dev.cella.server.api.ApiError;
import dev.cella.server.envd.Envd;
import dev.cella.server.sandbox.SandboxService;
import dev.cella.server.sandbox.SandboxService.View;
import dev.cella.server.sandbox.TeamUsage;
import dev.cella.server.template.Templates;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Capsules (the Wrenn API): sandboxes of the same table and nodes the E2B dialect uses, so a
 * capsule made here is a sandbox there and the other way round. Exec and processes go to
 * the capsule's envd with the same calls the E2B SDK makes.
 */
public final class CapsuleRoutes implements Consumer<V1Api> {
    /** Foreground output kept per stream; beyond it the output is cut (and said so). */
    static final int MAX_OUTPUT = 16 << 20;

    private final SandboxService sandboxes;
    private final Templates templates;
    private final TeamUsage usage;

    public CapsuleRoutes(SandboxService sandboxes, Templates templates, TeamUsage usage) {
        this.sandboxes = sandboxes;
        this.templates = templates;
        this.usage = usage;
    }

    @Override
    public void accept(V1Api api) {
        api.route(HandlerType.POST, "/v1/capsules", V1Api.Access.TEAM, this::create);
        api.route(HandlerType.GET, "/v1/capsules", V1Api.Access.TEAM, ctx -> V1Api.json(ctx, 200,
                sandboxes.listAll(V1Api.caller(ctx).team()).stream().map(this::capsule).toList()));
        api.route(HandlerType.GET, "/v1/capsules/stats", V1Api.Access.TEAM, ctx -> V1Api.json(ctx, 200,
                usage.stats(V1Api.caller(ctx).team().id(), Optional.ofNullable(ctx.queryParam("range")).orElse("1h"))));
        api.route(HandlerType.GET, "/v1/capsules/{id}", V1Api.Access.TEAM, ctx -> V1Api.json(ctx, 200, capsule(find(ctx))));
        api.route(HandlerType.DELETE, "/v1/capsules/{id}", V1Api.Access.TEAM, ctx -> {
            find(ctx);
            sandboxes.kill(V1Api.caller(ctx).team(), id(ctx));
            ctx.status(204);
        });
        api.route(HandlerType.POST, "/v1/capsules/{id}/exec", V1Api.Access.TEAM, this::exec);
        api.route(HandlerType.GET, "/v1/capsules/{id}/processes", V1Api.Access.TEAM, ctx -> {
            Envd envd = envd(ctx);
            List<Map<String, Object>> list = new ArrayList<>();
            for (Envd.ProcessInfo p : envd.list()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("pid", p.pid());
                if (p.tag() != null) m.put("tag", p.tag());
                m.put("cmd", p.cmd());
                m.put("args", p.args());
                list.add(m);
            }
            V1Api.json(ctx, 200, Map.of("processes", list));
        });
        api.route(HandlerType.DELETE, "/v1/capsules/{id}/processes/{selector}", V1Api.Access.TEAM, ctx -> {
            String signal = Optional.ofNullable(ctx.queryParam("signal")).orElse("SIGKILL");
            int number = switch (signal) {
                case "SIGKILL" -> 9;
                case "SIGTERM" -> 15;
                default -> throw ApiError.badRequest("signal must be SIGKILL or SIGTERM");
            };
            Running c = running(ctx);
            sandboxes.touch(c.view());
            c.envd().signal(selector(ctx), number);
            ctx.status(204);
        });
        api.route(HandlerType.POST, "/v1/capsules/{id}/ping", V1Api.Access.TEAM, ctx -> {
            View v = find(ctx);
            if (v.live() == null || v.live().state() != SandboxState.RUNNING) {
                throw new ApiError(409, "invalid_state", "sandbox is not running (status: " + v.status() + ")");
            }
            sandboxes.touch(v);
            ctx.status(204);
        });
        api.route(HandlerType.GET, "/v1/capsules/{id}/metrics", V1Api.Access.TEAM, this::metrics);
        api.route(HandlerType.POST, "/v1/capsules/{id}/pause", V1Api.Access.TEAM, ctx -> {
            View v = find(ctx);
            if (v.live() == null || v.live().state() != SandboxState.RUNNING) {
                throw new ApiError(409, "invalid_state", "sandbox is not running (status: " + v.status() + ")");
            }
            V1Api.json(ctx, 200, capsule(sandboxes.pause(V1Api.caller(ctx).team(), id(ctx))));
        });
        api.route(HandlerType.POST, "/v1/capsules/{id}/resume", V1Api.Access.TEAM, ctx -> {
            View v = find(ctx);
            if (v.live() == null || v.live().state() == SandboxState.RUNNING) {
                throw new ApiError(409, "invalid_state", "sandbox is not paused (status: " + v.status() + ")");
            }
            V1Api.json(ctx, 200, capsule(sandboxes.resume(V1Api.caller(ctx).team(), id(ctx))));
        });
    }

    static String id(Context ctx) {
        return ctx.pathParam("id");
    }

    /** The caller's capsule of the path: 404 for one of another team as for one that does not exist. */
    View find(Context ctx) {
        return sandboxes.getOrMissing(V1Api.caller(ctx).team(), id(ctx))
                .orElseThrow(() -> ApiError.notFound("capsule " + id(ctx) + " not found"));
    }

    /** A running capsule of the caller, looked up once: its view and its envd. */
    record Running(View view, Envd envd) {}

    /** The capsule of the path when it runs (404 unknown, 409 not running). */
    Running running(Context ctx) {
        View v = find(ctx);
        var access = sandboxes.envd(v);
        return new Running(v, new Envd(access.route(), access.accessToken()));
    }

    /** The capsule's envd, when it runs (404 unknown, 409 not running). */
    Envd envd(Context ctx) {
        return running(ctx).envd();
    }

    static Envd.Selector selector(Context ctx) {
        String s = ctx.pathParam("selector");
        if (s.isBlank() || s.length() > 128) throw ApiError.badRequest("a process is named by its pid or its tag");
        return Envd.Selector.parse(s);
    }

    private void create(Context ctx) throws Exception {
        JsonNode b = V1Api.body(ctx);
        String template = Optional.ofNullable(V1Api.text(b, "template", false)).orElse("minimal");
        Integer vcpus = V1Api.integer(b, "vcpus", 1, 16), memory = V1Api.integer(b, "memory_mb", 128, 65536);
        Integer ttl = V1Api.integer(b, "timeout_sec", 0, 30 * 86400);
        Caller c = V1Api.caller(ctx);
        Templates.Resolved t = templates.resolve(c.team().id(), template);
        int seconds = ttl == null ? 0 : ttl;
        var req = new SandboxService.NewSandbox(t.templateId(), seconds > 0 ? Duration.ofSeconds(seconds) : null, Map.of(), Map.of(),
                seconds > 0, false, true, true, true,
                vcpus != null ? vcpus : t.vcpus() != null ? t.vcpus() : 1,
                memory != null ? memory : t.memoryMb() != null ? t.memoryMb() : 512, seconds, t.defaults());
        V1Api.json(ctx, 201, capsule(sandboxes.create(c.team(), req), template));
    }

    Map<String, Object> capsule(View v) {
        return capsule(v, templates.nameOf(v.row().teamId(), v.row().templateId()));
    }

    /** The Wrenn API's Capsule. */
    static Map<String, Object> capsule(View v, String templateName) {
        Map<String, Object> m = new LinkedHashMap<>();
        var row = v.row();
        m.put("id", row.id());
        m.put("status", v.status());
        m.put("template", templateName);
        m.put("vcpus", row.vcpus());
        m.put("memory_mb", row.memoryMb());
        m.put("timeout_sec", row.inactivityTimeoutSec());
        if (v.live() != null && v.live().envdUrl() != null && v.live().state() == SandboxState.RUNNING) {
            String host = URI.create(v.live().envdUrl()).getHost();
            if (host != null) m.put("guest_ip", host);
        }
        m.put("created_at", V1Api.iso(row.startedAt()));
        m.put("started_at", v.live() == null ? null : V1Api.iso(v.live().startedAt().toEpochMilli()));
        m.put("last_active_at", row.lastActiveAt() == null ? null : V1Api.iso(row.lastActiveAt()));
        m.put("last_updated", V1Api.iso(Math.max(row.startedAt(), row.lastActiveAt() == null ? 0 : row.lastActiveAt())));
        return m;
    }

    private void exec(Context ctx) {
        JsonNode b = V1Api.body(ctx);
        String cmd = V1Api.text(b, "cmd", true);
        List<String> args = new ArrayList<>();
        JsonNode a = b.get("args");
        if (a != null && !a.isNull()) {
            if (!a.isArray()) throw ApiError.badRequest("args must be an array of strings");
            for (JsonNode x : a) {
                if (!x.isTextual()) throw ApiError.badRequest("args must be an array of strings");
                args.add(x.asText());
            }
        }
        Integer timeout = V1Api.integer(b, "timeout_sec", 0, 86400);
        boolean background = b.path("background").asBoolean(false);
        String tag = V1Api.text(b, "tag", false);
        Map<String, String> envs = new LinkedHashMap<>();
        JsonNode e = b.get("envs");
        if (e != null && !e.isNull()) {
            if (!e.isObject()) throw ApiError.badRequest("envs must be an object of strings");
            e.properties().forEach(x -> envs.put(x.getKey(), x.getValue().asText()));
        }
        String cwd = V1Api.text(b, "cwd", false);
        Running capsule = running(ctx);
        Envd envd = capsule.envd();
        sandboxes.touch(capsule.view());
        if (background) {
            String t = tag != null && !tag.isBlank() ? tag : "proc-" + Ids.hex(4);
            Envd.Stream stream = envd.start(new Envd.Command(cmd, args, envs, cwd, t), null, null, null);
            int[] pid = {-1};
            RuntimeException[] failed = {null};
            var started = new CountDownLatch(1);
            Thread follower = Thread.ofVirtual().name("bg-" + t).start(() -> {
                try {
                    stream.follow(new Envd.Events() {
                        @Override public void started(int p) { pid[0] = p; started.countDown(); }
                        @Override public void output(String s, byte[] data) {}
                        @Override public void ended(int exitCode, String error) { started.countDown(); }
                    });
                } catch (ApiError | Problem notStarted) {
                    failed[0] = notStarted;
                } finally {
                    started.countDown();
                }
            });
            try {
                if (!started.await(30, TimeUnit.SECONDS)) throw new ApiError(502, "agent_error", "the process did not start");
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            } finally {
                // once it runs, nobody needs its stream: envd keeps a process whose listener left (re-attach by tag)
                stream.close();
                follower.interrupt();
            }
            if (failed[0] != null) throw failed[0];
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("sandbox_id", id(ctx));
            m.put("cmd", cmd);
            m.put("pid", pid[0]);
            m.put("tag", t);
            V1Api.json(ctx, 202, m);
            return;
        }
        int seconds = timeout == null || timeout <= 0 ? 30 : timeout;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int[] exit = {0};
        String[] failure = {null};
        long t0 = System.nanoTime();
        try (Envd.Stream stream = envd.start(new Envd.Command(cmd, args, envs, cwd, null), null, null, Duration.ofSeconds(seconds))) {
            stream.follow(new Envd.Events() {
                @Override public void started(int pid) {}
                @Override public void output(String s, byte[] data) {
                    ByteArrayOutputStream to = s.equals("stderr") ? err : out;
                    if (to.size() < MAX_OUTPUT) to.write(data, 0, Math.min(data.length, MAX_OUTPUT - to.size()));
                }
                @Override public void ended(int exitCode, String error) {
                    exit[0] = exitCode;
                    failure[0] = error;
                }
            });
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        boolean timedOut = failure[0] != null && failure[0].startsWith("deadline_exceeded");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sandbox_id", id(ctx));
        m.put("cmd", cmd);
        byte[] o = out.toByteArray(), r = err.toByteArray();
        boolean text = utf8(o) && utf8(r);
        m.put("stdout", text ? new String(o, StandardCharsets.UTF_8) : Base64.getEncoder().encodeToString(o));
        m.put("stderr", text ? new String(r, StandardCharsets.UTF_8) : Base64.getEncoder().encodeToString(r));
        // a command killed at its timeout answers as timeout(1) does: 124, with what it wrote until then
        m.put("exit_code", timedOut ? 124 : exit[0]);
        m.put("duration_ms", ms);
        m.put("encoding", text ? "utf-8" : "base64");
        if (timedOut) m.put("timed_out", true);
        V1Api.json(ctx, 200, m);
    }

    static boolean utf8(byte[] b) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /** The Wrenn API's CapsuleMetrics, from the node's tiers (a paused capsule keeps its points). */
    private void metrics(Context ctx) {
        String range = Optional.ofNullable(ctx.queryParam("range")).orElse("10m");
        long seconds = MetricRange.of(range).orElseThrow(() -> ApiError.badRequest("range must be one of " + MetricRange.labels())).seconds;
        View v = find(ctx);
        if (v.live() == null) throw ApiError.notFound("metrics not available for sandbox in state: " + v.status());
        V1Api.json(ctx, 200, new SandboxMetrics(id(ctx), range, sandboxes.metrics(V1Api.caller(ctx).team(), id(ctx), seconds)));
    }
}
