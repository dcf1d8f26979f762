package dev.cella.server.api.template;

import dev.cella.node.problem.Problem;
import dev.cella.server.api.ApiError;
import dev.cella.server.api.E2bApi;
import dev.cella.server.auth.Team;
import dev.cella.server.template.Builds;
import dev.cella.server.template.Templates;
import io.javalin.http.Context;

/** What the template routes look up the same way: the caller's template, its build, built-in names. */
final class TemplateLookup {
    private final Templates templates;
    private final Builds builds;

    TemplateLookup(Templates templates, Builds builds) {
        this.templates = templates;
        this.builds = builds;
    }

    /** The team's template named by the path's {@code id} (an id or a name): another team's is not found. */
    Templates.TeamTemplate own(Context ctx) {
        String id = ctx.pathParam("id");
        Team team = E2bApi.team(ctx);
        return templates.byId(id).filter(t -> t.teamId().equals(team.id())).or(() -> templates.byName(team.id(), id))
                .orElseThrow(() -> new Problem.NotFound("template '" + id + "' not found"));
    }

    /** The path's {@code buildID}, a build of the caller's template. */
    Builds.Build build(Context ctx) {
        return build(ctx, own(ctx));
    }

    /** The path's {@code buildID}, a build of {@code t} (the caller's, looked up already). */
    Builds.Build build(Context ctx, Templates.TeamTemplate t) {
        return builds.get(ctx.pathParam("buildID")).filter(b -> b.templateId().equals(t.id()))
                .orElseThrow(() -> new Problem.NotFound("build '" + ctx.pathParam("buildID") + "' not found"));
    }

    void refuseBuiltIn(Context ctx, String what) {
        if (templates.builtIn().contains(ctx.pathParam("id"))) {
            throw ApiError.badRequest("template '" + ctx.pathParam("id") + "' is built into this server and cannot be " + what);
        }
    }

    TemplateReply reply(Templates.TeamTemplate t) {
        return TemplateReply.of(t, templates.stats(t.id()));
    }

    /** The template naming a build just started as its build (what a create or rebuild answers). */
    TemplateReply building(Templates.TeamTemplate t, String buildId) {
        Templates.Stats s = templates.stats(t.id());
        return TemplateReply.of(t, new Templates.Stats(s.isPublic(), s.spawnCount(), s.lastSpawnedAt(), s.buildCount(), s.updatedAt(), buildId));
    }

    /** Names the server keeps for itself: its built-in templates and the minimal root. */
    void refuseReserved(String name) {
        if (templates.builtIn().contains(name) || name.equals(Templates.MINIMAL)) {
            throw new ApiError(409, "conflict", "template name '" + name + "' is reserved");
        }
    }

    static String validTag(String tag) {
        if (!tag.matches("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")) throw ApiError.badRequest("a tag is 1 to 128 letters, digits, . _ or -");
        return tag;
    }
}
