package dev.cella.server.api.v1;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.http.JsonHttp;
import dev.cella.server.api.ApiError;
import dev.cella.server.api.ApiServer;
import dev.cella.server.api.RateLimiter;
import dev.cella.server.auth.ApiKeys;
import dev.cella.server.auth.Team;
import dev.cella.server.auth.Tokens;
import dev.cella.server.team.Teams;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.websocket.WsConfig;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The native dialect (the Wrenn API) at {@code /v1}: snake_case JSON, errors
 * {@code {"error": {"code", "message"}}}. Routes are declared through {@link #route} so
 * that the list of what is served is one value ({@link #servedRoutes()}), which the test
 * compares with the published OpenAPI document.
 *
 * <p>Authentication, per route: none (signup, login, OAuth), a login token only (accounts,
 * keys, teams), or an API key or a login token (capsules, snapshots). An API key is
 * checked first: a wrong key is refused even when a token is sent too.
 */
public final class V1Api implements ApiServer.Dialect {
    static final String CALLER = "v1.caller";
    /** For the WebSocket frames this dialect reads and writes (its answers are maps with snake_case keys already). */
    static final ObjectMapper JSON = new ObjectMapper();

    /** Who may call a route. */
    enum Access { PUBLIC, USER, TEAM }

    private final ApiKeys keys;
    private final Tokens tokens;
    private final Teams teams;
    private final RateLimiter perTeam;
    private final RateLimiter failedAuth = new RateLimiter(3);
    private final List<Consumer<V1Api>> groups;
    private final List<ApiServer.Route> routes = new ArrayList<>();
    private JavalinConfig config;

    public V1Api(ApiKeys keys, Tokens tokens, Teams teams, int requestsPerSecond, List<Consumer<V1Api>> groups) {
        this.keys = keys;
        this.tokens = tokens;
        this.teams = teams;
        this.perTeam = new RateLimiter(requestsPerSecond);
        this.groups = groups;
    }

    @Override
    public boolean owns(String path) {
        return path.equals("/v1") || path.startsWith("/v1/");
    }

    @Override
    public void writeError(Context ctx, int status, String code, String message) {
        ctx.status(status).json(Map.of("error", Map.of("code", code, "message", message == null ? "" : message)));
    }

    @Override
    public void routes(JavalinConfig config) {
        this.config = config;
        route(HandlerType.GET, "/v1/openapi.yaml", Access.PUBLIC, ctx -> {
            try (var in = V1Api.class.getResourceAsStream("/openapi/v1.yaml")) {
                ctx.contentType("application/yaml").result(in.readAllBytes());
            }
        });
        for (Consumer<V1Api> g : groups) g.accept(this);
    }

    /** What this dialect serves. */
    public List<ApiServer.Route> servedRoutes() {
        return List.copyOf(routes);
    }

    void route(HandlerType method, String path, Access access, Handler handler) {
        routes.add(new ApiServer.Route(method.name(), path));
        config.routes.addHttpHandler(method, path, ctx -> {
            if (access != Access.PUBLIC) authenticate(ctx, access);
            handler.handle(ctx);
        });
    }

    /** A WebSocket route (documented as a GET that upgrades); it authenticates in its handler. */
    void socket(String path, Consumer<WsConfig> ws) {
        routes.add(new ApiServer.Route("GET", path));
        config.routes.ws(path, ws);
    }

    private void authenticate(Context ctx, Access access) {
        Caller caller = resolve(ctx.header("X-API-Key"), ctx.header("Authorization"), access, ctx.ip());
        long wait = perTeam.acquire(caller.team().id());
        if (wait > 0) {
            ctx.header("Retry-After", Long.toString(wait));
            throw new ApiError(429, "rate_limited", "too many requests");
        }
        ctx.attribute(CALLER, caller);
    }

    /** The caller of a request, from its API key or login token; 401 when there is none that is valid. */
    Caller resolve(String apiKey, String authorization, Access access, String clientIp) {
        if (access == Access.TEAM && apiKey != null && !apiKey.isBlank()) {
            Optional<Team> team = keys.authenticate(apiKey.trim());
            if (team.isEmpty()) throw refuse(clientIp, "invalid API key");
            return new Caller(team.get(), null, null);
        }
        if (authorization != null && authorization.startsWith("Bearer ")) {
            Optional<Tokens.Claims> claims = tokens.verify(authorization.substring(7).trim());
            if (claims.isEmpty()) throw refuse(clientIp, "invalid or expired token");
            // the token's team must still exist and the user still be in it
            var team = teams.get(claims.get().teamId());
            if (team.isEmpty() || teams.roleOf(team.get().id(), claims.get().userId()).isEmpty()) {
                throw refuse(clientIp, "the token's team no longer exists or you are no longer in it: log in again");
            }
            return new Caller(Teams.team(team.get()), claims.get().userId(), claims.get().email());
        }
        throw refuse(clientIp, access == Access.TEAM ? "X-API-Key or Authorization: Bearer <token> required"
                : "Authorization: Bearer <token> required");
    }

    /**
     * Takes a failed authentication's token before a check that costs (a password hash): a
     * client over its limit is refused before any hashing, and a burst of guesses at once is
     * held to the limit however long the hashes take (429 past it). A check that passes gives
     * the token back ({@link #authenticated}).
     */
    void beforeCostlyCheck(String clientIp) {
        if (failedAuth.acquire(clientIp) > 0) throw new ApiError(429, "rate_limited", "too many failed authentications");
    }

    /** The check after {@link #beforeCostlyCheck} passed: its token was not a failure's. */
    void authenticated(String clientIp) {
        failedAuth.refund(clientIp);
    }

    ApiError refuse(String clientIp, String message) {
        long wait = failedAuth.acquire(clientIp);
        return wait > 0 ? new ApiError(429, "rate_limited", "too many failed authentications") : ApiError.unauthorized(message);
    }

    static Caller caller(Context ctx) {
        return ctx.attribute(CALLER);
    }

    /** The request body as a JSON object: 400 when it is not one (JsonHttp's rule, written in this dialect's shape). */
    static JsonNode body(Context ctx) {
        return JsonHttp.body(ctx, JSON);
    }

    /** A string field; required ones must be present and not blank. */
    static String text(JsonNode body, String field, boolean required) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            if (required) throw ApiError.badRequest(field + " is required");
            return null;
        }
        if (!n.isTextual()) throw ApiError.badRequest(field + " must be a string");
        if (required && n.asText().isBlank()) throw ApiError.badRequest(field + " is required");
        return n.asText();
    }

    static Integer integer(JsonNode body, String field, int min, int max) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.canConvertToInt() || !n.isIntegralNumber()) throw ApiError.badRequest(field + " must be a whole number");
        int v = n.asInt();
        if (v < min || v > max) throw ApiError.badRequest(field + " must be from " + min + " to " + max);
        return v;
    }

    static void json(Context ctx, int status, Object value) {
        ctx.status(status).json(value);
    }

    static String iso(long epochMillis) {
        return Instant.ofEpochMilli(epochMillis).toString();
    }
}
