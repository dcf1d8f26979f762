package dev.cella.server.api.v1;

import dev.cella.server.api.ApiError;
import dev.cella.server.auth.User;
import dev.cella.server.auth.Users;
import dev.cella.server.team.Member;
import dev.cella.server.team.Role;
import dev.cella.server.team.TeamInfo;
import dev.cella.server.team.Teams;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Teams and their members with the Wrenn API's rules. Every {@code /v1/teams/{id}} route acts
 * on the team the token names (403 otherwise: switch team first); roles are read from the
 * database at each request, never trusted from the token.
 */
public final class TeamRoutes implements Consumer<V1Api> {
    private final Teams teams;
    private final Users users;
    /** Destroys the team's capsules when it is deleted. */
    private final Consumer<TeamInfo> destroyCapsules;

    public TeamRoutes(Teams teams, Users users, Consumer<TeamInfo> destroyCapsules) {
        this.teams = teams;
        this.users = users;
        this.destroyCapsules = destroyCapsules;
    }

    @Override
    public void accept(V1Api api) {
        api.route(HandlerType.GET, "/v1/teams", V1Api.Access.USER, ctx -> V1Api.json(ctx, 200,
                teams.teamsOf(V1Api.caller(ctx).userId()).stream().map(t -> withRole(t.team(), t.role())).toList()));
        api.route(HandlerType.POST, "/v1/teams", V1Api.Access.USER, ctx -> {
            String name = V1Api.text(V1Api.body(ctx), "name", true);
            V1Api.json(ctx, 201, withRole(teams.create(name.trim(), V1Api.caller(ctx).userId()), Role.OWNER));
        });
        api.route(HandlerType.GET, "/v1/teams/{id}", V1Api.Access.USER, ctx -> {
            TeamInfo t = ownTeam(ctx);
            V1Api.json(ctx, 200, Map.of("team", team(t), "members", teams.members(t.id()).stream().map(TeamRoutes::member).toList()));
        });
        api.route(HandlerType.PATCH, "/v1/teams/{id}", V1Api.Access.USER, ctx -> {
            TeamInfo t = ownTeam(ctx);
            String name = V1Api.text(V1Api.body(ctx), "name", true);
            requireManager(t, ctx);
            teams.rename(t.id(), name.trim());
            ctx.status(204);
        });
        api.route(HandlerType.DELETE, "/v1/teams/{id}", V1Api.Access.USER, ctx -> {
            TeamInfo t = ownTeam(ctx);
            if (role(t, ctx) != Role.OWNER) throw ApiError.forbidden("only the team's owner may delete it");
            teams.delete(t.id());
            destroyCapsules.accept(t);
            ctx.status(204);
        });
        api.route(HandlerType.GET, "/v1/teams/{id}/members", V1Api.Access.USER, ctx ->
                V1Api.json(ctx, 200, teams.members(ownTeam(ctx).id()).stream().map(TeamRoutes::member).toList()));
        api.route(HandlerType.POST, "/v1/teams/{id}/members", V1Api.Access.USER, ctx -> {
            TeamInfo t = ownTeam(ctx);
            String email = V1Api.text(V1Api.body(ctx), "email", true);
            requireManager(t, ctx);
            User u = users.byEmail(email).orElseThrow(() -> ApiError.notFound("no account with that email"));
            V1Api.json(ctx, 201, member(teams.add(t.id(), u)));
        });
        api.route(HandlerType.PATCH, "/v1/teams/{id}/members/{uid}", V1Api.Access.USER, ctx -> {
            TeamInfo t = ownTeam(ctx);
            String raw = V1Api.text(V1Api.body(ctx), "role", true);
            Role role = Role.parse(raw).filter(r -> r != Role.OWNER)
                    .orElseThrow(() -> ApiError.badRequest("role must be admin or member"));
            requireManager(t, ctx);
            Member target = teams.member(t.id(), ctx.pathParam("uid")).orElseThrow(() -> ApiError.notFound("user is not a member"));
            if (target.role() == Role.OWNER) throw ApiError.forbidden("the owner's role cannot be changed");
            teams.setRole(t.id(), target.userId(), role);
            ctx.status(204);
        });
        api.route(HandlerType.DELETE, "/v1/teams/{id}/members/{uid}", V1Api.Access.USER, ctx -> {
            TeamInfo t = ownTeam(ctx);
            requireManager(t, ctx);
            Member target = teams.member(t.id(), ctx.pathParam("uid")).orElseThrow(() -> ApiError.notFound("user is not a member"));
            if (target.role() == Role.OWNER) throw ApiError.forbidden("the owner cannot be removed");
            teams.remove(t.id(), target.userId());
            ctx.status(204);
        });
        api.route(HandlerType.POST, "/v1/teams/{id}/leave", V1Api.Access.USER, ctx -> {
            TeamInfo t = ownTeam(ctx);
            if (role(t, ctx) == Role.OWNER) throw ApiError.forbidden("the owner cannot leave the team: delete it instead");
            teams.remove(t.id(), V1Api.caller(ctx).userId());
            ctx.status(204);
        });
    }

    /** The team of the path, which must be the token's. */
    private TeamInfo ownTeam(Context ctx) {
        String id = ctx.pathParam("id");
        if (!id.equals(V1Api.caller(ctx).team().id())) {
            throw ApiError.forbidden("your token acts for another team: use switch-team first");
        }
        return teams.get(id).orElseThrow(() -> ApiError.notFound("team not found"));
    }

    private Role role(TeamInfo t, Context ctx) {
        return teams.roleOf(t.id(), V1Api.caller(ctx).userId()).orElseThrow(() -> ApiError.forbidden("not a member of this team"));
    }

    private void requireManager(TeamInfo t, Context ctx) {
        if (!role(t, ctx).canManage()) throw ApiError.forbidden("the team's admin or owner role is required");
    }

    static Map<String, Object> team(TeamInfo t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id());
        m.put("name", t.name());
        m.put("slug", t.slug());
        m.put("created_at", V1Api.iso(t.createdAt()));
        return m;
    }

    static Map<String, Object> withRole(TeamInfo t, Role role) {
        Map<String, Object> m = team(t);
        m.put("role", role.wire());
        return m;
    }

    static Map<String, Object> member(Member m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("user_id", m.userId());
        out.put("email", m.email());
        out.put("role", m.role().wire());
        out.put("joined_at", V1Api.iso(m.joinedAt()));
        return out;
    }
}
