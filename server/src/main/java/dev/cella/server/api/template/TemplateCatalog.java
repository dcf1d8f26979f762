package dev.cella.server.api.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.http.JsonHttp;
import dev.cella.node.problem.Problem;
import dev.cella.server.api.ApiError;
import dev.cella.server.api.E2bApi;
import dev.cella.server.template.Builder;
import dev.cella.server.template.Builds;
import dev.cella.server.template.TemplateType;
import dev.cella.server.template.Templates;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The templates a team sees and what it may change of them, the same for every dialect:
 * the list (built-in templates first), one template, its publicity, its deletion, its tags
 * and aliases, and cancelling a build.
 */
final class TemplateCatalog {
    private static final ObjectMapper JSON = TemplateRoutes.JSON;

    private final Templates templates;
    private final Builder builder;
    private final TemplateLookup lookup;

    TemplateCatalog(Templates templates, Builder builder, TemplateLookup lookup) {
        this.templates = templates;
        this.builder = builder;
        this.lookup = lookup;
    }

    void register(TemplateRoutes.Registrar r) {
        // before /templates/{id}: "tags" is not a template's id
        r.route(HandlerType.POST, "/templates/tags", this::tag);
        r.route(HandlerType.DELETE, "/templates/tags", this::untag);
        r.route(HandlerType.GET, "/templates", this::list);
        r.route(HandlerType.GET, "/templates/{id}", ctx -> {
            String id = ctx.pathParam("id");
            ctx.json(templates.builtIn().contains(id) ? TemplateReply.builtIn(id) : lookup.reply(lookup.own(ctx)));
        });
        r.route(HandlerType.PATCH, "/templates/{id}", ctx -> {
            lookup.refuseBuiltIn(ctx, "changed");
            Templates.TeamTemplate t = lookup.own(ctx);
            JsonNode b = JsonHttp.body(ctx, JSON);
            if (b.has("public")) templates.publicity(t.id(), b.path("public").asBoolean());
            ctx.json(lookup.reply(lookup.own(ctx)));
        });
        r.route(HandlerType.DELETE, "/templates/{id}", ctx -> {
            lookup.refuseBuiltIn(ctx, "deleted");
            Templates.TeamTemplate t = lookup.own(ctx);
            if (t.type() == TemplateType.SNAPSHOT) throw ApiError.badRequest("delete a snapshot with DELETE /v1/snapshots/" + t.name());
            templates.delete(t.id()); // its layers stay: they are a cache other templates' builds share
            ctx.status(204);
        });
        r.route(HandlerType.GET, "/templates/aliases/{alias}", ctx -> {
            String alias = ctx.pathParam("alias").split(":")[0];
            Templates.TeamTemplate t = templates.byName(E2bApi.team(ctx).id(), alias)
                    .orElseThrow(() -> new Problem.NotFound("template alias '" + alias + "' not found"));
            ctx.json(Map.of("templateID", t.id(), "public", templates.stats(t.id()).isPublic()));
        });
        r.route(HandlerType.GET, "/templates/{id}/tags", ctx -> ctx.json(templates.tags(lookup.own(ctx).id()).stream()
                .map(x -> Map.of("tag", x.tag(), "buildID", x.buildId(), "createdAt", Instant.ofEpochMilli(x.createdAt()).toString())).toList()));
        r.route(HandlerType.DELETE, "/templates/{id}/builds/{buildID}", ctx -> {
            Builds.Build b = lookup.build(ctx);
            if (!b.finished()) builder.cancel(b.id());
            ctx.status(204);
        });
    }

    /** Lelantos' paging: limit (1-100, 100) and nextToken, the next page's first template id in X-Next-Token. */
    private void list(Context ctx) {
        List<TemplateReply> all = new ArrayList<>(templates.builtIn().stream().map(TemplateReply::builtIn).toList());
        templates.ofTeam(E2bApi.team(ctx).id()).forEach(t -> all.add(lookup.reply(t)));
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
            for (int i = 0; i < all.size(); i++) if (next.equals(all.get(i).templateId())) from = i;
        }
        if (from + limit < all.size()) ctx.header("X-Next-Token", all.get(from + limit).templateId());
        ctx.json(all.subList(from, Math.min(all.size(), from + limit)));
    }

    /** {@code POST /templates/tags {target: name[:tag], tags}}: names a build (the last ready one, or the target's tag). */
    private void tag(Context ctx) {
        JsonNode b = JsonHttp.body(ctx, JSON);
        String target = b.path("target").asText("");
        String name = target.split(":")[0];
        Templates.TeamTemplate t = templates.byName(E2bApi.team(ctx).id(), name)
                .orElseThrow(() -> new Problem.NotFound("template '" + name + "' not found"));
        String buildId = target.contains(":") ? templates.tags(t.id()).stream().filter(x -> x.tag().equals(target.substring(target.indexOf(':') + 1)))
                .map(Templates.Tag::buildId).findFirst().orElseThrow(() -> new Problem.NotFound("no build tagged " + target))
                : templates.lastReadyBuild(t.id()).orElseThrow(() -> new ApiError(409, "conflict", "template '" + name + "' has no ready build"));
        List<String> tags = new ArrayList<>();
        b.path("tags").forEach(x -> tags.add(TemplateLookup.validTag(x.asText())));
        if (tags.isEmpty()) throw ApiError.badRequest("tags are required");
        templates.tag(t.id(), buildId, tags);
        ctx.status(201).json(Map.of("buildID", buildId, "tags", tags));
    }

    private void untag(Context ctx) {
        JsonNode b = JsonHttp.body(ctx, JSON);
        String name = b.path("name").asText("").split(":")[0];
        Templates.TeamTemplate t = templates.byName(E2bApi.team(ctx).id(), name)
                .orElseThrow(() -> new Problem.NotFound("template '" + name + "' not found"));
        List<String> tags = new ArrayList<>();
        b.path("tags").forEach(x -> tags.add(x.asText()));
        templates.untag(t.id(), tags);
        ctx.status(204);
    }
}
