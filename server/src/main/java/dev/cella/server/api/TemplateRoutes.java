package dev.cella.server.api;

import dev.cella.node.problem.Problem;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.protocol.http.MultipartParts;
import dev.cella.node.http.JsonHttp;
import dev.cella.server.auth.Team;
import dev.cella.server.sandbox.SandboxService;
import dev.cella.server.template.BuildLogs;
import dev.cella.server.template.BuildSpec;
import dev.cella.server.template.Builder;
import dev.cella.server.template.Builds;
import dev.cella.server.template.Dockerfile;
import dev.cella.server.template.E2bSteps;
import dev.cella.server.template.TemplateFiles;
import dev.cella.server.template.Templates;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Templates on the root path, where two template APIs meet: {@code POST /templates} with a
 * {@code dockerfile} is the Lelantos dialect (Lelantos), with a {@code build_spec} the
 * Superserve one (Superserve). Both build with the one engine. A template answers in both
 * shapes at once (E2B's camelCase fields and Superserve's snake_case ones), so either
 * client reads what it knows. Built-in templates are listed for every team and cannot be
 * changed.
 */
public final class TemplateRoutes {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Superserve's name rule (Superserve); the prefix superserve/ is reserved. */
    private static final Pattern NAME = Pattern.compile("^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?$");
    private static final Instant STARTED = Instant.now();

    private final Templates templates;
    private final Builder builder;
    private final Builds builds;
    private final BuildLogs logs;
    private final TemplateFiles files;
    private final byte[] uploadKey;
    /** The largest build context a COPY may upload. */
    static final long MAX_UPLOAD = 4L << 30;

    public TemplateRoutes(Templates templates, Builder builder, Builds builds, BuildLogs logs, TemplateFiles files, byte[] uploadKey) {
        this.templates = templates;
        this.builder = builder;
        this.builds = builds;
        this.logs = logs;
        this.files = files;
        this.uploadKey = uploadKey;
    }

    private static final Pattern UPLOAD = Pattern.compile("^/templates/[^/]+/files/[^/]+$");

    /** The PUT of a build context to the URL {@code GET .../files/{hash}} gave: no API key, a signature instead. */
    static boolean isSignedUpload(Context ctx) {
        return ctx.method() == HandlerType.PUT && UPLOAD.matcher(ctx.path()).matches() && ctx.queryParam("signature") != null;
    }

    private String sign(String templateId, String hash) {
        return dev.cella.server.Digests.hmacSha256Hex(uploadKey, templateId + ":" + hash);
    }

    /** Where a dialect registers a route. */
    @FunctionalInterface
    public interface Registrar {
        void route(HandlerType method, String path, Handler handler);
    }

    public void register(Registrar r) {
        // before /templates/{id}: "tags" is not a template's id
        r.route(HandlerType.POST, "/templates/tags", ctx -> {
            JsonNode b = JsonHttp.body(ctx, JSON);
            String target = b.path("target").asText("");
            String name = target.split(":")[0];
            Templates.TeamTemplate t = templates.byName(E2bApi.team(ctx).id(), name)
                    .orElseThrow(() -> new Problem.NotFound("template '" + name + "' not found"));
            String buildId = target.contains(":") ? templates.tags(t.id()).stream().filter(x -> x.tag().equals(target.substring(target.indexOf(':') + 1)))
                    .map(Templates.Tag::buildId).findFirst().orElseThrow(() -> new Problem.NotFound("no build tagged " + target))
                    : templates.lastReadyBuild(t.id()).orElseThrow(() -> new ApiError(409, "conflict", "template '" + name + "' has no ready build"));
            List<String> tags = new ArrayList<>();
            b.path("tags").forEach(x -> tags.add(validTag(x.asText())));
            if (tags.isEmpty()) throw ApiError.badRequest("tags are required");
            templates.tag(t.id(), buildId, tags);
            ctx.status(201).json(Map.of("buildID", buildId, "tags", tags));
        });
        r.route(HandlerType.DELETE, "/templates/tags", ctx -> {
            JsonNode b = JsonHttp.body(ctx, JSON);
            String name = b.path("name").asText("").split(":")[0];
            Templates.TeamTemplate t = templates.byName(E2bApi.team(ctx).id(), name)
                    .orElseThrow(() -> new Problem.NotFound("template '" + name + "' not found"));
            List<String> tags = new ArrayList<>();
            b.path("tags").forEach(x -> tags.add(x.asText()));
            templates.untag(t.id(), tags);
            ctx.status(204);
        });
        r.route(HandlerType.GET, "/templates", ctx -> {
            List<Map<String, Object>> all = new ArrayList<>(templates.builtIn().stream().map(TemplateRoutes::builtIn).toList());
            templates.ofTeam(E2bApi.team(ctx).id()).forEach(t -> all.add(view(t)));
            // Lelantos' paging: limit (1-100, 100) and nextToken, the next page's first template id in X-Next-Token
            int limit;
            try {
                limit = Integer.parseInt(Optional.ofNullable(ctx.queryParam("limit")).orElse("100"));
            } catch (NumberFormatException e) {
                throw ApiError.badRequest("limit must be a number");
            }
            if (limit < 1 || limit > 100) throw ApiError.badRequest("limit must be from 1 to 100");
            int from = 0;
            String next = ctx.queryParam("nextToken");
            if (next != null && !next.isEmpty()) {
                for (int i = 0; i < all.size(); i++) if (next.equals(all.get(i).get("templateID"))) from = i;
            }
            if (from + limit < all.size()) ctx.header("X-Next-Token", String.valueOf(all.get(from + limit).get("templateID")));
            ctx.json(all.subList(from, Math.min(all.size(), from + limit)));
        });
        r.route(HandlerType.GET, "/templates/{id}", ctx -> {
            String id = ctx.pathParam("id");
            if (templates.builtIn().contains(id)) {
                ctx.json(builtIn(id));
                return;
            }
            ctx.json(view(own(ctx)));
        });
        r.route(HandlerType.PATCH, "/templates/{id}", ctx -> {
            refuseBuiltIn(ctx, "changed");
            Templates.TeamTemplate t = own(ctx);
            JsonNode b = JsonHttp.body(ctx, JSON);
            if (b.has("public")) templates.publicity(t.id(), b.path("public").asBoolean());
            ctx.json(view(own(ctx)));
        });
        r.route(HandlerType.DELETE, "/templates/{id}", ctx -> {
            refuseBuiltIn(ctx, "deleted");
            Templates.TeamTemplate t = own(ctx);
            if (t.type().equals("snapshot")) throw ApiError.badRequest("delete a snapshot with DELETE /v1/snapshots/" + t.name());
            templates.delete(t.id()); // its layers stay: they are a cache other templates' builds share
            ctx.status(204);
        });
        r.route(HandlerType.POST, "/templates", this::create);
        r.route(HandlerType.POST, "/templates/{id}", this::rebuild);
        r.route(HandlerType.GET, "/templates/{id}/builds/{buildID}/status", this::status);
        r.route(HandlerType.GET, "/templates/{id}/builds/{buildID}/logs", this::stream);
        // E2B's template build (what the SDK's Template.build() calls)
        r.route(HandlerType.POST, "/v3/templates", this::requestBuild);
        r.route(HandlerType.GET, "/templates/{id}/files/{hash}", this::uploadLink);
        r.route(HandlerType.PUT, "/templates/{id}/files/{hash}", this::upload);
        r.route(HandlerType.POST, "/v2/templates/{id}/builds/{buildID}", this::trigger);
        r.route(HandlerType.GET, "/templates/aliases/{alias}", ctx -> {
            String alias = ctx.pathParam("alias").split(":")[0];
            Templates.TeamTemplate t = templates.byName(E2bApi.team(ctx).id(), alias)
                    .orElseThrow(() -> new Problem.NotFound("template alias '" + alias + "' not found"));
            ctx.json(Map.of("templateID", t.id(), "public", templates.stats(t.id()).isPublic()));
        });
        r.route(HandlerType.GET, "/templates/{id}/tags", ctx -> ctx.json(templates.tags(own(ctx).id()).stream()
                .map(x -> Map.of("tag", x.tag(), "buildID", x.buildId(), "createdAt", Instant.ofEpochMilli(x.createdAt()).toString())).toList()));
        r.route(HandlerType.DELETE, "/templates/{id}/builds/{buildID}", ctx -> {
            Builds.Build b = build(ctx);
            if (!b.finished()) builder.cancel(b.id());
            ctx.status(204);
        });
    }

    private void refuseBuiltIn(Context ctx, String what) {
        if (templates.builtIn().contains(ctx.pathParam("id"))) {
            throw ApiError.badRequest("template '" + ctx.pathParam("id") + "' is built into this server and cannot be " + what);
        }
    }

    /** The team's template by id or name: another team's is not found. */
    private Templates.TeamTemplate own(Context ctx) {
        String id = ctx.pathParam("id");
        Team team = E2bApi.team(ctx);
        return templates.byId(id).filter(t -> t.teamId().equals(team.id())).or(() -> templates.byName(team.id(), id))
                .orElseThrow(() -> new Problem.NotFound("template '" + id + "' not found"));
    }

    private Builds.Build build(Context ctx) {
        Templates.TeamTemplate t = own(ctx);
        return builds.get(ctx.pathParam("buildID")).filter(b -> b.templateId().equals(t.id()))
                .orElseThrow(() -> new Problem.NotFound("build '" + ctx.pathParam("buildID") + "' not found"));
    }

    private static int range(JsonNode b, String field, int fallback, int min, int max) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.isIntegralNumber() || n.asInt() < min || n.asInt() > max) {
            throw ApiError.badRequest(field + " must be a whole number from " + min + " to " + max);
        }
        return n.asInt();
    }

    /**
     * A multipart body (Lelantos with a build context): the fields as a JSON object, the
     * {@code context} tar stored as the team's files (streamed, hashed) under {@code contextHash}.
     */
    private JsonNode multipart(Context ctx, Team team, String[] contextHash) throws IOException {
        var fields = JSON.createObjectNode();
        String boundary = MultipartParts.boundary(ctx.header("Content-Type"))
                .orElseThrow(() -> ApiError.badRequest("multipart/form-data without a boundary"));
        try {
            MultipartParts.read(ctx.req().getInputStream(), boundary, 8192, (field, filename, part) -> {
                if ("context".equals(field)) {
                    contextHash[0] = files.storeHashed(team.id(), part, MAX_UPLOAD);
                } else if (field != null) {
                    byte[] v = part.readNBytes((1 << 20) + 1);
                    if (v.length > 1 << 20) throw ApiError.badRequest("field " + field + " is larger than 1 MiB");
                    String text = new String(v, StandardCharsets.UTF_8);
                    if (field.equals("cpuCount") || field.equals("memoryMB")) {
                        try {
                            fields.put(field, Integer.parseInt(text.trim()));
                        } catch (NumberFormatException e) {
                            throw ApiError.badRequest(field + " must be a whole number");
                        }
                    } else {
                        fields.put(field, text);
                    }
                }
            });
        } catch (MultipartParts.Malformed e) {
            throw ApiError.badRequest("malformed multipart body: " + e.getMessage());
        }
        return fields;
    }

    private JsonNode body(Context ctx, Team team, String[] contextHash) throws IOException {
        return String.valueOf(ctx.header("Content-Type")).toLowerCase(java.util.Locale.ROOT).startsWith("multipart/form-data")
                ? multipart(ctx, team, contextHash) : JsonHttp.body(ctx, JSON);
    }

    private void create(Context ctx) throws IOException {
        Team team = E2bApi.team(ctx);
        String[] contextHash = {null};
        JsonNode b = body(ctx, team, contextHash);
        BuildSpec spec;
        String name;
        int vcpus, memory, disk;
        if (b.has("build_spec")) { // Superserve
            name = b.path("name").asText("");
            if (name.isEmpty() || name.length() > 128 || !NAME.matcher(name).matches()) {
                throw ApiError.badRequest("name must be 1 to 128 of lowercase letters, digits and . _ / -, beginning and ending with a letter or digit");
            }
            if (name.startsWith("superserve/")) throw ApiError.badRequest("names beginning with superserve/ are reserved for system templates");
            spec = parse(() -> BuildSpec.parse(b.get("build_spec")));
            vcpus = range(b, "vcpu", 1, 1, 4);
            memory = range(b, "memory_mib", 1024, 256, 4096);
            disk = range(b, "disk_mib", 4096, 1024, 8192);
        } else if (b.has("dockerfile")) { // Lelantos
            if (!b.get("dockerfile").isTextual()) throw ApiError.badRequest("dockerfile must be the Dockerfile's text");
            spec = parse(() -> Dockerfile.parse(b.get("dockerfile").asText(), contextHash[0]));
            name = b.hasNonNull("alias") ? b.get("alias").asText() : "tpl-" + UUID.randomUUID().toString().substring(0, 8);
            if (!NAME.matcher(name).matches()) throw ApiError.badRequest("alias must be of lowercase letters, digits and . _ / -");
            vcpus = range(b, "cpuCount", 2, 1, 8);
            memory = range(b, "memoryMB", 512, 128, 16384);
            disk = 4096;
        } else {
            throw ApiError.badRequest("send a dockerfile (Lelantos) or a name and build_spec (Superserve)");
        }
        if (templates.builtIn().contains(name) || name.equals(Templates.MINIMAL)) {
            throw new ApiError(409, "conflict", "template name '" + name + "' is reserved");
        }
        if (templates.byName(team.id(), name).isPresent()) throw new ApiError(409, "conflict", "a template named '" + name + "' exists: rebuild it");
        String id = "tmpl" + UUID.randomUUID().toString().replace("-", "").substring(0, 20);
        long now = System.currentTimeMillis();
        templates.insert(new Templates.TeamTemplate(id, team.id(), name, "build", "", vcpus, memory, 0, now, null, "building",
                Templates.Defaults.NONE, disk));
        templates.spec(id, spec.toJson(), vcpus, memory, disk);
        String buildId = builder.submit(new Builder.Request(team.id(), id, spec, vcpus, memory, disk));
        Map<String, Object> m = view(templates.byId(id).orElseThrow());
        m.put("build_id", buildId);
        m.put("buildID", buildId);
        ctx.status(201).json(m);
    }

    /** A new build of a team template: with a new Dockerfile or build_spec, or the last one again. */
    private void rebuild(Context ctx) throws IOException {
        Templates.TeamTemplate t = own(ctx);
        if (t.type().equals("snapshot")) throw ApiError.badRequest("a snapshot is not built: make a new one");
        String[] contextHash = {null};
        JsonNode b = ctx.req().getContentLengthLong() == 0 ? JSON.createObjectNode() : body(ctx, E2bApi.team(ctx), contextHash);
        BuildSpec spec;
        if (b.has("dockerfile")) spec = parse(() -> Dockerfile.parse(b.get("dockerfile").asText(), contextHash[0]));
        else if (b.has("build_spec")) spec = parse(() -> BuildSpec.parse(b.get("build_spec")));
        else spec = BuildSpec.fromJson(templates.specOf(t.id()).orElseThrow(() -> ApiError.badRequest("nothing to rebuild from: send a dockerfile")));
        templates.spec(t.id(), spec.toJson(), t.vcpus(), t.memoryMb(), t.diskMb());
        String buildId = builder.submit(new Builder.Request(t.teamId(), t.id(), spec, buildVcpus(t), buildMemoryMb(t), buildDiskMb(t)));
        Map<String, Object> m = view(templates.byId(t.id()).orElseThrow());
        m.put("build_id", buildId);
        m.put("buildID", buildId);
        ctx.status(202).json(m);
    }

    /** {@code POST /v3/templates {name, tags, cpuCount, memoryMB}}: the template (made or found by name) and a build waiting for its steps. */
    private void requestBuild(Context ctx) {
        JsonNode b = JsonHttp.body(ctx, JSON);
        Team team = E2bApi.team(ctx);
        String full = b.path("name").asText(b.path("alias").asText(""));
        String name = full.split(":")[0];
        if (name.isEmpty() || name.length() > 128 || !NAME.matcher(name).matches()) {
            throw ApiError.badRequest("name must be of lowercase letters, digits and . _ / -, beginning and ending with a letter or digit");
        }
        if (templates.builtIn().contains(name) || name.equals(Templates.MINIMAL)) throw new ApiError(409, "conflict", "template name '" + name + "' is reserved");
        int vcpus = range(b, "cpuCount", 2, 1, 8), memory = range(b, "memoryMB", 1024, 128, 16384);
        Templates.TeamTemplate t = templates.byName(team.id(), name).orElseGet(() -> {
            String id = "tmpl" + UUID.randomUUID().toString().replace("-", "").substring(0, 20);
            templates.insert(new Templates.TeamTemplate(id, team.id(), name, "build", "", vcpus, memory, 0, System.currentTimeMillis(), null,
                    "waiting", Templates.Defaults.NONE, 4096));
            return templates.byId(id).orElseThrow();
        });
        if (t.type().equals("snapshot")) throw new ApiError(409, "conflict", "'" + name + "' is a snapshot, not a built template");
        templates.spec(t.id(), templates.specOf(t.id()).orElse(null), vcpus, memory, t.diskMb());
        String buildId = builder.prepare(t.id());
        List<String> tags = new ArrayList<>();
        b.path("tags").forEach(x -> tags.add(x.asText()));
        if (full.contains(":")) tags.add(full.substring(full.indexOf(':') + 1));
        if (tags.isEmpty()) tags.add("default");
        for (String tag : tags) validTag(tag);
        templates.tag(t.id(), buildId, tags); // they name this build; a sandbox of name:tag waits for it to be ready
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("templateID", t.id());
        m.put("buildID", buildId);
        m.put("public", false);
        m.put("aliases", List.of(name));
        m.put("names", List.of(name));
        m.put("tags", tags);
        ctx.status(202).json(m);
    }

    /** Where the SDK PUTs a COPY's files: present when the team uploaded that hash before. */
    private void uploadLink(Context ctx) {
        Templates.TeamTemplate t = own(ctx);
        String hash = ctx.pathParam("hash");
        boolean present;
        try {
            present = files.present(t.teamId(), hash);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        String url = ctx.scheme() + "://" + ctx.host() + "/templates/" + t.id() + "/files/" + hash + "?signature=" + sign(t.id(), hash);
        ctx.json(Map.of("present", present, "url", url));
    }

    private void upload(Context ctx) throws IOException {
        String id = ctx.pathParam("id"), hash = ctx.pathParam("hash");
        String signature = String.valueOf(ctx.queryParam("signature"));
        if (!dev.cella.server.Digests.same(sign(id, hash), signature)) {
            throw ApiError.forbidden("the upload URL's signature is not valid");
        }
        Templates.TeamTemplate t = templates.byId(id).orElseThrow(() -> new Problem.NotFound("template '" + id + "' not found"));
        if (ctx.req().getContentLengthLong() > MAX_UPLOAD) throw new ApiError(413, "too_large", "the files are larger than " + (MAX_UPLOAD >> 20) + " MiB");
        try {
            files.store(t.teamId(), hash, ctx.req().getInputStream(), MAX_UPLOAD);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        ctx.status(200);
    }

    /** {@code POST /v2/templates/{id}/builds/{buildID}}: the steps of a build asked for with /v3/templates. */
    private void trigger(Context ctx) {
        Templates.TeamTemplate t = own(ctx);
        Builds.Build b = builds.get(ctx.pathParam("buildID")).filter(x -> x.templateId().equals(t.id()))
                .orElseThrow(() -> new Problem.NotFound("build '" + ctx.pathParam("buildID") + "' not found"));
        if (!b.status().equals("waiting")) throw new ApiError(409, "conflict", "build " + b.id() + " was started already");
        JsonNode body = JsonHttp.body(ctx, JSON);
        BuildSpec spec = parse(() -> E2bSteps.parse(body));
        // skipCache (force on the template) rebuilds every step; force on a step rebuilds from it
        int forceFrom = body.path("force").asBoolean(false) ? 0 : -1;
        int i = 0;
        for (JsonNode s : body.path("steps")) {
            if (forceFrom < 0 && s.path("force").asBoolean(false)) forceFrom = i;
            i++;
        }
        Builder.RegistryLogin login = null;
        JsonNode reg = body.get("fromImageRegistry");
        if (reg != null && !reg.isNull()) {
            if (!reg.path("type").asText("registry").equals("registry")) {
                throw ApiError.badRequest("fromImageRegistry of type " + reg.path("type").asText() + " is not supported: use {type: registry, username, password}");
            }
            login = new Builder.RegistryLogin(reg.path("username").asText(""), reg.path("password").asText(""));
        }
        templates.spec(t.id(), spec.toJson(), t.vcpus(), t.memoryMb(), t.diskMb());
        builder.start(b.id(), new Builder.Request(t.teamId(), t.id(), spec, buildVcpus(t), buildMemoryMb(t), buildDiskMb(t), forceFrom, login));
        ctx.status(202);
    }

    private static String validTag(String tag) {
        if (!tag.matches("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")) throw ApiError.badRequest("a tag is 1 to 128 letters, digits, . _ or -");
        return tag;
    }

    /**
     * A build's sizes from its template, for a template whose row has none (every path
     * that makes a template now stores them): one set of values for every dialect (a
     * rebuild took 512 MiB and a v2 build 1024 before).
     */
    private static int buildVcpus(Templates.TeamTemplate t) { return t.vcpus() == null ? 2 : t.vcpus(); }

    private static int buildMemoryMb(Templates.TeamTemplate t) { return t.memoryMb() == null ? 1024 : t.memoryMb(); }

    private static int buildDiskMb(Templates.TeamTemplate t) { return t.diskMb() == null ? 4096 : t.diskMb(); }

    private static BuildSpec parse(java.util.function.Supplier<BuildSpec> p) {
        try {
            return p.get();
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }

    /** E2B's TemplateBuild: {templateID, buildID, status (building|ready|error), logs, logEntries, reason}, from logsOffset on. */
    private void status(Context ctx) {
        Builds.Build b = build(ctx);
        int offset;
        try {
            offset = Integer.parseInt(Optional.ofNullable(ctx.queryParam("logsOffset")).orElse("0"));
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("logsOffset must be a number");
        }
        if (offset < 0) throw ApiError.badRequest("logsOffset must not be negative");
        List<BuildLogs.Line> lines = logs.read(b.id(), offset, 1000);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("templateID", b.templateId());
        m.put("buildID", b.id());
        m.put("status", e2bStatus(b.status()));
        m.put("logs", lines.stream().map(BuildLogs.Line::text).toList());
        m.put("logEntries", lines.stream().map(l -> Map.of("timestamp", Instant.ofEpochMilli(l.at()).toString(), "message", l.text(),
                "level", l.level())).toList());
        if (b.error() != null) m.put("reason", Map.of("message", b.error(), "step", String.valueOf(b.stepIndex() + 1)));
        m.put("stepIndex", b.stepIndex());
        m.put("stepTotal", b.stepTotal());
        m.put("layer", b.layer());
        templates.byId(b.templateId()).ifPresent(t -> m.put("rootfsSizeBytes", t.sizeBytes()));
        if (b.startedAt() != null) {
            m.put("durationMs", (b.finishedAt() != null ? b.finishedAt() : System.currentTimeMillis()) - b.startedAt());
        }
        ctx.json(m);
    }

    static String e2bStatus(String s) {
        return switch (s) {
            case "waiting" -> "waiting";
            case "building" -> "building";
            case "ready" -> "ready";
            default -> "error";
        };
    }

    /** The build's log as server-sent events, line by line as they come, until it ends (Superserve's live log). */
    private void stream(Context ctx) throws IOException, InterruptedException {
        Builds.Build b = build(ctx);
        ctx.status(200).contentType("text/event-stream").header("Cache-Control", "no-cache");
        OutputStream out = ctx.res().getOutputStream();
        int seq = 0;
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.HOURS.toNanos(2);
        while (System.nanoTime() < deadline) {
            List<BuildLogs.Line> lines = logs.read(b.id(), seq, 500);
            for (BuildLogs.Line l : lines) {
                Map<String, Object> ev = new LinkedHashMap<>();
                ev.put("timestamp", Instant.ofEpochMilli(l.at()).toString());
                ev.put("level", l.level());
                ev.put("message", l.text());
                out.write(("id: " + l.seq() + "\nevent: log\ndata: " + JSON.writeValueAsString(ev) + "\n\n").getBytes(StandardCharsets.UTF_8));
                seq = l.seq() + 1;
            }
            out.flush();
            Builds.Build now = builds.get(b.id()).orElseThrow();
            if (now.finished() && lines.isEmpty()) {
                out.write(("event: status\ndata: " + JSON.writeValueAsString(Map.of("status", superserveStatus(now.status()),
                        "error", String.valueOf(now.error()))) + "\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                return;
            }
            if (lines.isEmpty()) Thread.sleep(200);
        }
    }

    static String superserveStatus(String buildStatus) {
        return switch (buildStatus) {
            case "ready" -> "ready";
            case "failed", "cancelled" -> "failed";
            default -> "building";
        };
    }

    /** A built-in template, in both shapes. */
    static Map<String, Object> builtIn(String id) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("templateID", id);
        m.put("buildID", id);
        m.put("cpuCount", SandboxService.DEFAULT_VCPUS);
        m.put("memoryMB", SandboxService.DEFAULT_MEMORY_MB);
        m.put("diskSizeMB", SandboxService.DEFAULT_DISK_MB);
        m.put("public", true);
        m.put("aliases", List.of(id));
        m.put("createdAt", STARTED.toString());
        m.put("updatedAt", STARTED.toString());
        m.put("createdBy", null);
        m.put("lastSpawnedAt", null);
        m.put("spawnCount", 0);
        m.put("buildCount", 1);
        m.put("envdVersion", E2bApi.ENVD_VERSION);
        m.put("id", id);
        m.put("name", id);
        m.put("status", "ready");
        return m;
    }

    /** A team template, in both shapes (E2B's camelCase and Superserve's snake_case). */
    Map<String, Object> view(Templates.TeamTemplate t) {
        var stats = templates.stats(t.id());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("templateID", t.id());
        m.put("buildID", stats.lastBuild());
        m.put("cpuCount", t.vcpus());
        m.put("memoryMB", t.memoryMb());
        m.put("diskSizeMB", t.diskMb());
        m.put("public", stats.isPublic());
        m.put("aliases", List.of(t.name()));
        m.put("createdAt", Instant.ofEpochMilli(t.createdAt()).toString());
        m.put("updatedAt", Instant.ofEpochMilli(stats.updatedAt()).toString());
        m.put("createdBy", null);
        m.put("lastSpawnedAt", stats.lastSpawnedAt() == null ? null : Instant.ofEpochMilli(stats.lastSpawnedAt()).toString());
        m.put("spawnCount", stats.spawnCount());
        m.put("buildCount", stats.buildCount());
        m.put("envdVersion", E2bApi.ENVD_VERSION);
        m.put("id", t.id());
        m.put("team_id", t.teamId());
        m.put("name", t.name());
        m.put("status", t.status());
        m.put("vcpu", t.vcpus());
        m.put("memory_mib", t.memoryMb());
        m.put("disk_mib", t.diskMb());
        m.put("created_at", Instant.ofEpochMilli(t.createdAt()).toString());
        m.put("build_id", stats.lastBuild());
        return m;
    }
}
