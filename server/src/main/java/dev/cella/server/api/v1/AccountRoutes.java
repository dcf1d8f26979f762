package dev.cella.server.api.v1;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cella.server.api.ApiError;
import dev.cella.server.auth.ApiKeys;
import dev.cella.server.auth.Passwords;
import dev.cella.server.auth.Tokens;
import dev.cella.server.auth.User;
import dev.cella.server.auth.Users;
import dev.cella.server.db.Jdbc;
import dev.cella.server.team.TeamInfo;
import dev.cella.server.team.Teams;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Accounts: signup (a user, their own team, its owner), login, switching the team a token
 * acts for, searching users by email prefix, and the team's API keys (one key store for
 * both dialects: a key made here works for the E2B SDK too).
 */
public final class AccountRoutes implements Consumer<V1Api> {
    private final Jdbc db;
    private final Users users;
    private final Teams teams;
    private final Tokens tokens;
    private final ApiKeys keys;

    public AccountRoutes(Jdbc db, Users users, Teams teams, Tokens tokens, ApiKeys keys) {
        this.db = db;
        this.users = users;
        this.teams = teams;
        this.tokens = tokens;
        this.keys = keys;
    }

    private V1Api api;

    @Override
    public void accept(V1Api api) {
        this.api = api;
        api.route(HandlerType.POST, "/v1/auth/signup", V1Api.Access.PUBLIC, this::signup);
        api.route(HandlerType.POST, "/v1/auth/login", V1Api.Access.PUBLIC, this::login);
        api.route(HandlerType.POST, "/v1/auth/switch-team", V1Api.Access.USER, this::switchTeam);
        api.route(HandlerType.GET, "/v1/users/search", V1Api.Access.USER, this::search);
        api.route(HandlerType.POST, "/v1/api-keys", V1Api.Access.USER, this::createKey);
        api.route(HandlerType.GET, "/v1/api-keys", V1Api.Access.USER, ctx -> V1Api.json(ctx, 200,
                keys.list(V1Api.caller(ctx).team().id()).stream().map(k -> key(k, null)).toList()));
        api.route(HandlerType.DELETE, "/v1/api-keys/{id}", V1Api.Access.USER, ctx -> {
            keys.delete(V1Api.caller(ctx).team().id(), ctx.pathParam("id")); // deleting what is not there is done too
            ctx.status(204);
        });
    }

    /** The Wrenn API's AuthResponse. */
    Map<String, Object> auth(User u, String teamId) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("token", tokens.issue(u.id(), teamId, u.email()));
        m.put("user_id", u.id());
        m.put("team_id", teamId);
        m.put("email", u.email());
        m.put("name", u.name());
        return m;
    }

    static String validEmail(String email) {
        String e = Users.normalise(email);
        if (e.length() < 3 || e.length() > 320 || !e.matches("[^@\\s]+@[^@\\s]+")) throw ApiError.badRequest("invalid email address");
        return e;
    }

    static String validName(String name) {
        String n = name == null ? "" : name.trim();
        if (n.isEmpty() || n.length() > 100) throw ApiError.badRequest("name must be between 1 and 100 characters");
        return n;
    }

    private void signup(Context ctx) {
        JsonNode b = V1Api.body(ctx);
        String email = validEmail(V1Api.text(b, "email", true));
        String password = V1Api.text(b, "password", true);
        if (password.length() < 8) throw ApiError.badRequest("password must be at least 8 characters");
        if (password.length() > 1024) throw ApiError.badRequest("password must be at most 1024 characters");
        String name = validName(V1Api.text(b, "name", true));
        if (users.byEmail(email).isPresent()) throw new ApiError(409, "email_taken", "an account with this email already exists");
        String hash = Passwords.hash(password);
        Account made;
        try {
            made = newAccount(email, name, hash, null);
        } catch (Jdbc.Duplicate raced) {
            throw new ApiError(409, "email_taken", "an account with this email already exists");
        }
        V1Api.json(ctx, 201, auth(made.user(), made.team().id()));
    }

    /** A user and the team of their own they own. */
    record Account(User user, TeamInfo team) {}

    /**
     * Makes a user (with a password hash, or a GitHub id) and their own team, of which they
     * are the owner: both or neither, in one transaction. Signup and sign-in with GitHub.
     */
    Account newAccount(String email, String name, String passwordHash, String githubId) {
        return db.transaction(tx -> {
            User u = new Users(tx).create(email, name, passwordHash, githubId);
            return new Account(u, teams.create(tx, personalTeamName(name), u.id()));
        });
    }

    /** "<name>'s Team", kept to the characters a team name may have. */
    static String personalTeamName(String name) {
        String clean = name.replaceAll("[^A-Za-z0-9 _]", "").trim();
        return (clean.isEmpty() ? "My" : clean.length() > 100 ? clean.substring(0, 100) : clean) + " Team";
    }

    private void login(Context ctx) {
        JsonNode b = V1Api.body(ctx);
        String email = V1Api.text(b, "email", false), password = V1Api.text(b, "password", false);
        if (email == null || password == null || email.isBlank() || password.isEmpty()) {
            throw ApiError.badRequest("email and password are required");
        }
        api.beforeCostlyCheck(ctx.ip());
        User u = users.byEmail(email).orElse(null);
        // the hash is checked even without a user, so that timing does not tell which emails have accounts
        String hash = u == null ? null : users.passwordHash(u.id()).orElse(null);
        boolean ok;
        if (hash == null) {
            Passwords.matches(password, DUMMY);
            ok = false;
        } else {
            ok = Passwords.matches(password, hash);
        }
        // a wrong password counts as a failed authentication, limited per client as the others (3 per second)
        if (!ok) throw ApiError.unauthorized("invalid email or password");
        api.authenticated(ctx.ip());
        var team = teams.firstTeamOf(u.id()).orElseThrow(() -> new ApiError(403, "no_team", "this account belongs to no team"));
        V1Api.json(ctx, 200, auth(u, team.team().id()));
    }

    private static final String DUMMY = Passwords.hash("not a password of anyone's");

    private void switchTeam(Context ctx) {
        String teamId = V1Api.text(V1Api.body(ctx), "team_id", true);
        Caller c = V1Api.caller(ctx);
        teams.get(teamId).orElseThrow(() -> ApiError.notFound("team not found"));
        if (teams.roleOf(teamId, c.userId()).isEmpty()) throw ApiError.forbidden("not a member of this team");
        User u = users.byId(c.userId()).orElseThrow(() -> ApiError.unauthorized("no such user"));
        V1Api.json(ctx, 200, auth(u, teamId));
    }

    private void search(Context ctx) {
        String prefix = ctx.queryParam("email");
        if (prefix == null || !prefix.contains("@")) throw ApiError.badRequest("the email prefix must contain \"@\"");
        V1Api.json(ctx, 200, users.searchByEmailPrefix(prefix).stream()
                .map(u -> Map.of("user_id", u.id(), "email", u.email())).toList());
    }

    private void createKey(Context ctx) {
        JsonNode b = V1Api.body(ctx);
        String name = V1Api.text(b, "name", false);
        if (name == null || name.isBlank()) name = "Unnamed API Key";
        if (name.length() > 200) throw ApiError.badRequest("name must be at most 200 characters");
        Caller c = V1Api.caller(ctx);
        var made = keys.create(c.team().id(), name, c.userId());
        V1Api.json(ctx, 201, key(made.info(), made.key()));
    }

    /** The Wrenn API's APIKeyResponse: the key itself only when just made. */
    static Map<String, Object> key(ApiKeys.KeyInfo k, String plaintext) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", k.id());
        m.put("team_id", k.teamId());
        m.put("name", k.name());
        m.put("key_prefix", k.prefix());
        m.put("created_at", V1Api.iso(k.createdAt()));
        m.put("last_used", k.lastUsedAt() == null ? null : V1Api.iso(k.lastUsedAt()));
        if (plaintext != null) m.put("key", plaintext);
        return m;
    }
}
