package dev.cella.server.api.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.http.JsonHttp;
import dev.cella.protocol.http.MultipartParts;
import dev.cella.server.api.ApiError;
import dev.cella.server.api.E2bApi;
import dev.cella.server.auth.Team;
import dev.cella.server.template.BuildSpec;
import dev.cella.server.template.Builder;
import dev.cella.server.template.Dockerfile;
import dev.cella.server.template.TemplateFiles;
import dev.cella.server.template.TemplateName;
import dev.cella.server.template.TemplateStatus;
import dev.cella.server.template.TemplateType;
import dev.cella.server.template.Templates;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * {@code POST /templates} and {@code POST /templates/{id}}, where two dialects share a
 * path and differ by body: a {@code dockerfile} (Lelantos; JSON, or multipart with a
 * build context) or a {@code name} and {@code build_spec} (Superserve). Both become one
 * {@link NewTemplate} and build with the one engine.
 */
final class TemplateBuilds {
    private static final ObjectMapper JSON = TemplateRoutes.JSON;
    /** The largest build context or COPY upload. */
    static final long MAX_UPLOAD = 4L << 30;

    private final Templates templates;
    private final Builder builder;
    private final TemplateFiles files;
    private final TemplateLookup lookup;

    TemplateBuilds(Templates templates, Builder builder, TemplateFiles files, TemplateLookup lookup) {
        this.templates = templates;
        this.builder = builder;
        this.files = files;
        this.lookup = lookup;
    }

    void register(TemplateRoutes.Registrar r) {
        r.route(HandlerType.POST, "/templates", this::create);
        r.route(HandlerType.POST, "/templates/{id}", this::rebuild);
    }

    /** What a create asks for, whichever dialect asked. */
    record NewTemplate(String name, BuildSpec spec, int vcpus, int memoryMb, int diskMb) {
        /** Superserve: {name, build_spec, vcpu (1-4, 1), memory_mib (256-4096, 1024), disk_mib (1024-8192, 4096)}. */
        static NewTemplate superserve(JsonNode b) {
            String name = TemplateName.check("name", b.path("name").asText(""));
            if (name.startsWith("superserve/")) throw ApiError.badRequest("names beginning with superserve/ are reserved for system templates");
            return new NewTemplate(name, parse(() -> BuildSpec.parse(b.get("build_spec"))), range(b, "vcpu", 1, 1, 4),
                    range(b, "memory_mib", 1024, 256, 4096), range(b, "disk_mib", 4096, 1024, 8192));
        }

        /** Lelantos: {dockerfile, alias?, cpuCount (1-8, 2), memoryMB (128-16384, 512)}, the context's hash if one came. */
        static NewTemplate lelantos(JsonNode b, String contextHash) {
            if (!b.get("dockerfile").isTextual()) throw ApiError.badRequest("dockerfile must be the Dockerfile's text");
            BuildSpec spec = parse(() -> Dockerfile.parse(b.get("dockerfile").asText(), contextHash));
            String name = b.hasNonNull("alias") ? b.get("alias").asText() : "tpl-" + UUID.randomUUID().toString().substring(0, 8);
            TemplateName.check("alias", name);
            return new NewTemplate(name, spec, range(b, "cpuCount", 2, 1, 8), range(b, "memoryMB", 512, 128, 16384), 4096);
        }
    }

    private void create(Context ctx) throws IOException {
        Team team = E2bApi.team(ctx);
        String[] contextHash = {null};
        JsonNode b = body(ctx, team, contextHash);
        NewTemplate req;
        if (b.has("build_spec")) req = NewTemplate.superserve(b);
        else if (b.has("dockerfile")) req = NewTemplate.lelantos(b, contextHash[0]);
        else throw ApiError.badRequest("send a dockerfile (Lelantos) or a name and build_spec (Superserve)");
        lookup.refuseReserved(req.name());
        if (templates.byName(team.id(), req.name()).isPresent()) {
            throw new ApiError(409, "conflict", "a template named '" + req.name() + "' exists: rebuild it");
        }
        String id = newTemplateId();
        templates.insert(new Templates.TeamTemplate(id, team.id(), req.name(), TemplateType.BUILD, "", req.vcpus(), req.memoryMb(), 0,
                System.currentTimeMillis(), null, TemplateStatus.BUILDING, Templates.Defaults.NONE, req.diskMb()));
        templates.spec(id, req.spec().toJson(), req.vcpus(), req.memoryMb(), req.diskMb());
        String buildId = builder.submit(new Builder.Request(team.id(), id, req.spec(), req.vcpus(), req.memoryMb(), req.diskMb()));
        ctx.status(201).json(lookup.building(templates.byId(id).orElseThrow(), buildId));
    }

    /** A new build of a team template: with a new Dockerfile or build_spec, or the last one again. */
    private void rebuild(Context ctx) throws IOException {
        Templates.TeamTemplate t = lookup.own(ctx);
        if (t.type() == TemplateType.SNAPSHOT) throw ApiError.badRequest("a snapshot is not built: make a new one");
        String[] contextHash = {null};
        JsonNode b = ctx.req().getContentLengthLong() == 0 ? JSON.createObjectNode() : body(ctx, E2bApi.team(ctx), contextHash);
        BuildSpec spec;
        if (b.has("dockerfile")) spec = parse(() -> Dockerfile.parse(b.get("dockerfile").asText(), contextHash[0]));
        else if (b.has("build_spec")) spec = parse(() -> BuildSpec.parse(b.get("build_spec")));
        else spec = BuildSpec.fromJson(templates.specOf(t.id()).orElseThrow(() -> ApiError.badRequest("nothing to rebuild from: send a dockerfile")));
        templates.spec(t.id(), spec.toJson(), t.vcpus(), t.memoryMb(), t.diskMb());
        String buildId = builder.submit(request(t, spec, -1, null));
        ctx.status(202).json(lookup.building(templates.byId(t.id()).orElseThrow(), buildId));
    }

    static String newTemplateId() {
        return "tmpl" + UUID.randomUUID().toString().replace("-", "").substring(0, 20);
    }

    /**
     * A build of a template with its own sizes; a template whose row has none (every path
     * that makes a template now stores them) gets one set of values for every dialect (a
     * rebuild took 512 MiB and a v2 build 1024 before).
     */
    static Builder.Request request(Templates.TeamTemplate t, BuildSpec spec, int forceFrom, Builder.RegistryLogin login) {
        return new Builder.Request(t.teamId(), t.id(), spec, t.vcpus() == null ? 2 : t.vcpus(), t.memoryMb() == null ? 1024 : t.memoryMb(),
                t.diskMb() == null ? 4096 : t.diskMb(), forceFrom, login);
    }

    static int range(JsonNode b, String field, int fallback, int min, int max) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.isIntegralNumber() || n.asInt() < min || n.asInt() > max) {
            throw ApiError.badRequest(field + " must be a whole number from " + min + " to " + max);
        }
        return n.asInt();
    }

    static BuildSpec parse(Supplier<BuildSpec> p) {
        try {
            return p.get();
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }

    private JsonNode body(Context ctx, Team team, String[] contextHash) throws IOException {
        return String.valueOf(ctx.header("Content-Type")).toLowerCase(Locale.ROOT).startsWith("multipart/form-data")
                ? multipart(ctx, team, contextHash) : JsonHttp.body(ctx, JSON);
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
}
