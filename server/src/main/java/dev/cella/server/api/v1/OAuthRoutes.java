package dev.cella.server.api.v1;

import dev.cella.server.Digests;
import dev.cella.server.Ids;
import dev.cella.server.api.ApiError;
import dev.cella.server.auth.GithubOAuth;
import dev.cella.server.auth.User;
import dev.cella.server.auth.Users;
import dev.cella.server.team.Teams;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpStatus;
import io.javalin.http.SameSite;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Logging in with GitHub (the Wrenn API): the start redirects to GitHub with a state that is
 * also set, signed, in a short-lived cookie; the callback checks the two match (CSRF),
 * trades the code for the user's profile, logs them in (by GitHub id), or makes their
 * account and team, and redirects to the front end with a token or an error code:
 * access_denied, invalid_state, missing_code, exchange_failed, email_taken, internal_error.
 */
public final class OAuthRoutes implements Consumer<V1Api> {
    static final String STATE_COOKIE = "oauth_state";
    private static final int STATE_SECONDS = 600;

    private final GithubOAuth github;
    private final Supplier<String> publicUrl;
    private final String frontendUrl;
    private final byte[] stateKey;
    private final Users users;
    private final Teams teams;
    private final AccountRoutes accounts;

    /**
     * @param github      null when GitHub login is not configured (its routes answer 404)
     * @param publicUrl   this server's address as browsers reach it (GitHub redirects back to it)
     * @param frontendUrl where the callback sends the browser on: {@code <frontendUrl>/auth/github/callback?...}
     */
    public OAuthRoutes(GithubOAuth github, Supplier<String> publicUrl, String frontendUrl, byte[] stateKey,
                       Users users, Teams teams, AccountRoutes accounts) {
        this.github = github;
        this.publicUrl = () -> publicUrl.get().replaceAll("/+$", "");
        this.frontendUrl = frontendUrl == null ? null : frontendUrl.replaceAll("/+$", "");
        this.stateKey = stateKey;
        this.users = users;
        this.teams = teams;
        this.accounts = accounts;
    }

    @Override
    public void accept(V1Api api) {
        api.route(HandlerType.GET, "/v1/auth/oauth/{provider}", V1Api.Access.PUBLIC, this::start);
        api.route(HandlerType.GET, "/v1/auth/oauth/{provider}/callback", V1Api.Access.PUBLIC, this::callback);
    }

    private void provider(Context ctx) {
        if (!"github".equals(ctx.pathParam("provider")) || github == null) {
            throw new ApiError(404, "provider_not_found", "login with " + ctx.pathParam("provider") + " is not configured");
        }
    }

    private String callbackUrl() {
        return publicUrl.get() + "/v1/auth/oauth/github/callback";
    }

    private void start(Context ctx) {
        provider(ctx);
        String nonce = Ids.hex(16);
        Cookie cookie = new Cookie(STATE_COOKIE, nonce + ":" + sign(nonce), "/", STATE_SECONDS, ctx.scheme().equals("https"), true,
                null, SameSite.LAX);
        ctx.cookie(cookie);
        ctx.redirect(github.authorizeUrl(callbackUrl(), nonce), HttpStatus.FOUND);
    }

    private void callback(Context ctx) {
        provider(ctx);
        String cookie = ctx.cookie(STATE_COOKIE);
        ctx.removeCookie(STATE_COOKIE, "/");
        String state = ctx.queryParam("state");
        if (ctx.queryParam("error") != null) {
            fail(ctx, "access_denied");
            return;
        }
        if (!validState(cookie, state)) {
            fail(ctx, "invalid_state");
            return;
        }
        String code = ctx.queryParam("code");
        if (code == null || code.isBlank()) {
            fail(ctx, "missing_code");
            return;
        }
        GithubOAuth.Profile p;
        try {
            p = github.profile(code, callbackUrl());
        } catch (GithubOAuth.Failure f) {
            fail(ctx, f.code);
            return;
        }
        User user;
        String teamId;
        var known = users.byGithubId(p.githubId());
        if (known.isPresent()) {
            user = known.get();
            var team = teams.firstTeamOf(user.id());
            if (team.isEmpty()) {
                fail(ctx, "internal_error");
                return;
            }
            teamId = team.get().team().id();
        } else {
            if (users.byEmail(p.email()).isPresent()) {
                fail(ctx, "email_taken"); // an account with a password has that address: no silent linking
                return;
            }
            String name = p.name().length() > 100 ? p.name().substring(0, 100) : p.name();
            AccountRoutes.Account made = accounts.newAccount(p.email(), name, null, p.githubId());
            user = made.user();
            teamId = made.team().id();
        }
        Map<String, Object> auth = accounts.auth(user, teamId);
        StringBuilder q = new StringBuilder();
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("token", auth.get("token"));
        params.put("user_id", user.id());
        params.put("team_id", teamId);
        params.put("email", user.email());
        for (var e : params.entrySet()) {
            q.append(q.isEmpty() ? "?" : "&").append(e.getKey()).append('=').append(URLEncoder.encode(String.valueOf(e.getValue()), StandardCharsets.UTF_8));
        }
        ctx.redirect(frontend() + "/auth/github/callback" + q, HttpStatus.FOUND);
    }

    private String frontend() {
        return frontendUrl != null ? frontendUrl : publicUrl.get();
    }

    private void fail(Context ctx, String code) {
        ctx.redirect(frontendUrl + "/auth/github/callback?error=" + code, HttpStatus.FOUND);
    }

    private boolean validState(String cookie, String state) {
        if (cookie == null || state == null) return false;
        int colon = cookie.indexOf(':');
        if (colon < 0) return false;
        String nonce = cookie.substring(0, colon), mac = cookie.substring(colon + 1);
        return Digests.same(sign(nonce), mac) && Digests.same(nonce, state);
    }

    private String sign(String nonce) {
        return Digests.hmacSha256Hex(stateKey, nonce);
    }
}
