package dev.cella.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * GitHub's OAuth and user endpoints as the web flow uses them, on loopback: the token
 * exchange (form in, JSON out, errors in a 200 as GitHub does), {@code /user} and
 * {@code /user/emails} with a Bearer token. Codes name the accounts it knows.
 */
final class FakeGithub implements AutoCloseable {
    static final String CLIENT_ID = "cella-test-client", CLIENT_SECRET = "cella-test-secret";
    /** code -> {id, login, name, public email (or null), primary verified email} */
    final Map<String, String[]> accounts = new HashMap<>();
    private final Map<String, String[]> byToken = new HashMap<>();
    private final HttpServer server;

    FakeGithub() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/login/oauth/access_token", this::token);
        server.createContext("/user", this::user);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void token(HttpExchange ex) throws IOException {
        Map<String, String> form = new HashMap<>();
        for (String pair : new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) form.put(pair.substring(0, eq), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        String[] account = accounts.get(form.get("code"));
        if (!ex.getRequestMethod().equals("POST") || !CLIENT_ID.equals(form.get("client_id")) || !CLIENT_SECRET.equals(form.get("client_secret"))
                || account == null || !String.valueOf(ex.getRequestHeaders().getFirst("Accept")).contains("json")) {
            send(ex, 200, "{\"error\":\"bad_verification_code\"}");
            return;
        }
        String token = "gho_" + form.get("code");
        byToken.put(token, account);
        send(ex, 200, "{\"access_token\":\"" + token + "\",\"token_type\":\"bearer\",\"scope\":\"user:email\"}");
    }

    private void user(HttpExchange ex) throws IOException {
        String auth = String.valueOf(ex.getRequestHeaders().getFirst("Authorization"));
        String[] a = auth.startsWith("Bearer ") ? byToken.get(auth.substring(7)) : null;
        if (a == null) {
            send(ex, 401, "{\"message\":\"Bad credentials\"}");
            return;
        }
        if (ex.getRequestURI().getPath().equals("/user/emails")) {
            send(ex, 200, "[{\"email\":\"other@example.com\",\"primary\":false,\"verified\":true},"
                    + "{\"email\":\"" + a[4] + "\",\"primary\":true,\"verified\":true}]");
        } else {
            send(ex, 200, "{\"id\":" + a[0] + ",\"login\":\"" + a[1] + "\",\"name\":\"" + a[2] + "\",\"email\":"
                    + (a[3] == null ? "null" : "\"" + a[3] + "\"") + "}");
        }
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
