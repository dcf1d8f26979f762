package dev.cella.server.api.template;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.http.JsonHttp;
import dev.cella.node.problem.Problem;
import dev.cella.server.Digests;
import dev.cella.server.api.ApiError;
import dev.cella.server.api.E2bApi;
import dev.cella.server.auth.Team;
import dev.cella.server.template.BuildLogs;
import dev.cella.server.template.BuildSpec;
import dev.cella.server.template.BuildStatus;
import dev.cella.server.template.Builder;
import dev.cella.server.template.Builds;
import dev.cella.server.template.E2bSteps;
import dev.cella.server.template.TemplateFiles;
import dev.cella.server.template.TemplateName;
import dev.cella.server.template.TemplateStatus;
import dev.cella.server.template.TemplateType;
import dev.cella.server.template.Templates;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the E2B SDK's {@code Template.build()} calls: {@code POST /v3/templates} names the
 * template and opens a build, each COPY's files go to a signed upload URL, {@code POST
 * /v2/templates/{id}/builds/{buildID}} sends the steps, and the status is polled (also
 * Lelantos' build status).
 */
final class E2bTemplateBuilds {
    private static final ObjectMapper JSON = TemplateRoutes.JSON;
    private static final Pattern UPLOAD = Pattern.compile("^/templates/[^/]+/files/[^/]+$");

    private final Templates templates;
    private final Builder builder;
    private final BuildLogs logs;
    private final TemplateFiles files;
    private final TemplateLookup lookup;
    private final byte[] uploadKey;

    E2bTemplateBuilds(Templates templates, Builder builder, BuildLogs logs, TemplateFiles files, TemplateLookup lookup,
                      byte[] uploadKey) {
        this.templates = templates;
        this.builder = builder;
        this.logs = logs;
        this.files = files;
        this.lookup = lookup;
        this.uploadKey = uploadKey;
    }

    void register(TemplateRoutes.Registrar r) {
        r.route(HandlerType.POST, "/v3/templates", this::requestBuild);
        r.route(HandlerType.GET, "/templates/{id}/files/{hash}", this::uploadLink);
        r.route(HandlerType.PUT, "/templates/{id}/files/{hash}", this::upload);
        r.route(HandlerType.POST, "/v2/templates/{id}/builds/{buildID}", this::trigger);
        r.route(HandlerType.GET, "/templates/{id}/builds/{buildID}/status", this::status);
    }

    /** The PUT of a build context to the URL {@code GET .../files/{hash}} gave: no API key, a signature instead. */
    static boolean isSignedUpload(Context ctx) {
        return ctx.method() == HandlerType.PUT && UPLOAD.matcher(ctx.path()).matches() && ctx.queryParam("signature") != null;
    }

    private String sign(String templateId, String hash) {
        return Digests.hmacSha256Hex(uploadKey, templateId + ":" + hash);
    }

    /** E2B's answer to {@code POST /v3/templates}. */
    record BuildRequested(String templateID, String buildID, @JsonProperty("public") boolean isPublic, List<String> aliases,
                          List<String> names, List<String> tags) {}

    /** {@code POST /v3/templates {name, tags, cpuCount, memoryMB}}: the template (made or found by name) and a build waiting for its steps. */
    private void requestBuild(Context ctx) {
        JsonNode b = JsonHttp.body(ctx, JSON);
        Team team = E2bApi.team(ctx);
        String full = b.path("name").asText(b.path("alias").asText(""));
        String name = TemplateName.check("name", full.split(":")[0]);
        lookup.refuseReserved(name);
        int vcpus = TemplateBuilds.range(b, "cpuCount", 2, 1, 8), memory = TemplateBuilds.range(b, "memoryMB", 1024, 128, 16384);
        Templates.TeamTemplate t = templates.byName(team.id(), name).orElseGet(() -> {
            String id = TemplateBuilds.newTemplateId();
            templates.insert(new Templates.TeamTemplate(id, team.id(), name, TemplateType.BUILD, "", vcpus, memory, 0, System.currentTimeMillis(), null,
                    TemplateStatus.WAITING, Templates.Defaults.NONE, 4096));
            return templates.byId(id).orElseThrow();
        });
        if (t.type() == TemplateType.SNAPSHOT) throw new ApiError(409, "conflict", "'" + name + "' is a snapshot, not a built template");
        templates.spec(t.id(), templates.specOf(t.id()).orElse(null), vcpus, memory, t.diskMb());
        String buildId = builder.prepare(t.id());
        List<String> tags = new ArrayList<>();
        b.path("tags").forEach(x -> tags.add(x.asText()));
        if (full.contains(":")) tags.add(full.substring(full.indexOf(':') + 1));
        if (tags.isEmpty()) tags.add("default");
        for (String tag : tags) TemplateLookup.validTag(tag);
        templates.tag(t.id(), buildId, tags); // they name this build; a sandbox of name:tag waits for it to be ready
        ctx.status(202).json(new BuildRequested(t.id(), buildId, false, List.of(name), List.of(name), tags));
    }

    /** Where the SDK PUTs a COPY's files: present when the team uploaded that hash before. */
    private void uploadLink(Context ctx) {
        Templates.TeamTemplate t = lookup.own(ctx);
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
        if (!Digests.same(sign(id, hash), signature)) {
            throw ApiError.forbidden("the upload URL's signature is not valid");
        }
        Templates.TeamTemplate t = templates.byId(id).orElseThrow(() -> new Problem.NotFound("template '" + id + "' not found"));
        if (ctx.req().getContentLengthLong() > TemplateBuilds.MAX_UPLOAD) {
            throw new ApiError(413, "too_large", "the files are larger than " + (TemplateBuilds.MAX_UPLOAD >> 20) + " MiB");
        }
        try {
            files.store(t.teamId(), hash, ctx.req().getInputStream(), TemplateBuilds.MAX_UPLOAD);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        ctx.status(200);
    }

    /** {@code POST /v2/templates/{id}/builds/{buildID}}: the steps of a build asked for with /v3/templates. */
    private void trigger(Context ctx) {
        Templates.TeamTemplate t = lookup.own(ctx);
        Builds.Build b = lookup.build(ctx, t);
        if (b.status() != BuildStatus.WAITING) throw new ApiError(409, "conflict", "build " + b.id() + " was started already");
        JsonNode body = JsonHttp.body(ctx, JSON);
        BuildSpec spec = TemplateBuilds.parse(() -> E2bSteps.parse(body));
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
        builder.start(b.id(), TemplateBuilds.request(t, spec, forceFrom, login));
        ctx.status(202);
    }

    /** E2B's TemplateBuild. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record TemplateBuild(String templateID, String buildID, String status, List<String> logs, List<LogEntry> logEntries, Reason reason,
                       int stepIndex, int stepTotal, String layer, Long rootfsSizeBytes, Long durationMs) {
        record LogEntry(String timestamp, String message, String level) {}

        record Reason(String message, String step) {}
    }

    /** {templateID, buildID, status (waiting|building|ready|error), logs, logEntries, reason}, from logsOffset on. */
    private void status(Context ctx) {
        Builds.Build b = lookup.build(ctx);
        int offset;
        try {
            offset = Integer.parseInt(Optional.ofNullable(ctx.queryParam("logsOffset")).orElse("0"));
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("logsOffset must be a number");
        }
        if (offset < 0) throw ApiError.badRequest("logsOffset must not be negative");
        List<BuildLogs.Line> lines = logs.read(b.id(), offset, 1000);
        Long duration = b.startedAt() == null ? null : (b.finishedAt() != null ? b.finishedAt() : System.currentTimeMillis()) - b.startedAt();
        ctx.json(new TemplateBuild(b.templateId(), b.id(), b.status().e2b(), lines.stream().map(BuildLogs.Line::text).toList(),
                lines.stream().map(l -> new TemplateBuild.LogEntry(Instant.ofEpochMilli(l.at()).toString(), l.text(), l.level())).toList(),
                b.error() == null ? null : new TemplateBuild.Reason(b.error(), String.valueOf(b.stepIndex() + 1)),
                b.stepIndex(), b.stepTotal(), b.layer(), templates.byId(b.templateId()).map(Templates.TeamTemplate::sizeBytes).orElse(null),
                duration));
    }
}
