package dev.cella.server.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * GitHub's OAuth web flow (authorization code): where to send the user, and, with the
 * code GitHub sends back, who they are. The endpoints are GitHub's by default and can be
 * pointed elsewhere (GitHub Enterprise, or a test's fake speaking the same protocol).
 */
public final class GithubOAuth {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String clientId, clientSecret, webUrl, apiUrl;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER).build();

    /** @param webUrl https://github.com, @param apiUrl https://api.github.com */
    public GithubOAuth(String clientId, String clientSecret, String webUrl, String apiUrl) {
        this.clientId = clientId;
        this.clientSecret = clientSecret;
        this.webUrl = webUrl.replaceAll("/+$", "");
        this.apiUrl = apiUrl.replaceAll("/+$", "");
    }

    /** Who GitHub says the user is: their numeric id, a verified email, a name. */
    public record Profile(String githubId, String email, String name) {}

    /** A step of the exchange that failed, with the code the callback redirects with. */
    public static final class Failure extends Exception {
        public final String code;

        Failure(String code, String message) {
            super(message);
            this.code = code;
        }
    }

    public String authorizeUrl(String redirectUri, String state) {
        return webUrl + "/login/oauth/authorize?client_id=" + q(clientId) + "&redirect_uri=" + q(redirectUri)
                + "&scope=" + q("user:email") + "&state=" + q(state);
    }

    /** Trades the code for a token, then asks who it belongs to. */
    public Profile profile(String code, String redirectUri) throws Failure {
        String form = "client_id=" + q(clientId) + "&client_secret=" + q(clientSecret) + "&code=" + q(code) + "&redirect_uri=" + q(redirectUri);
        JsonNode token = call(HttpRequest.newBuilder(URI.create(webUrl + "/login/oauth/access_token"))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(form)), "exchange_failed");
        String accessToken = token.path("access_token").asText("");
        if (accessToken.isEmpty()) throw new Failure("exchange_failed", "GitHub gave no token: " + token.path("error").asText("?"));
        JsonNode user = call(api("/user", accessToken), "exchange_failed");
        String id = user.path("id").asText("");
        if (id.isEmpty()) throw new Failure("exchange_failed", "GitHub's profile has no id");
        String email = user.hasNonNull("email") ? user.get("email").asText() : null;
        if (email == null || email.isBlank()) {
            // a private address: the primary one, if verified
            email = null;
            for (JsonNode e : call(api("/user/emails", accessToken), "exchange_failed")) {
                if (e.path("primary").asBoolean() && e.path("verified").asBoolean()) email = e.path("email").asText();
            }
            if (email == null) throw new Failure("exchange_failed", "the GitHub account has no verified primary email");
        }
        String name = Optional.ofNullable(user.hasNonNull("name") ? user.get("name").asText() : null).filter(n -> !n.isBlank())
                .orElse(user.path("login").asText("GitHub user"));
        return new Profile(id, email, name);
    }

    private HttpRequest.Builder api(String path, String accessToken) {
        return HttpRequest.newBuilder(URI.create(apiUrl + path)).header("Authorization", "Bearer " + accessToken)
                .header("Accept", "application/vnd.github+json").GET();
    }

    private JsonNode call(HttpRequest.Builder req, String failureCode) throws Failure {
        try {
            HttpResponse<String> res = http.send(req.timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
            if (res.statusCode() != 200) throw new Failure(failureCode, "GitHub answered " + res.statusCode());
            return JSON.readTree(res.body());
        } catch (IOException e) {
            throw new Failure(failureCode, "GitHub did not answer: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("internal_error", "interrupted");
        }
    }

    private static String q(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
