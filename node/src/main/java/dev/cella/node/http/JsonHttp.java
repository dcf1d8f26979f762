package dev.cella.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.problem.Problem;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What every JSON API of Cella's does the same way: a Javalin server on virtual threads
 * with a bounded request size, bodies that must be JSON objects, and errors as
 * {@code {"code": status, "message": ...}} (E2B's form, which the node's API shares).
 */
public final class JsonHttp {
    private static final int MAX_BODY = 1 << 20;

    private JsonHttp() {}

    /**
     * Starts a server with the common settings; {@code routes} adds routes and error
     * mappings. With a JSON mapper it is a JSON API (bodies of at most 1 MiB).
     */
    public static Javalin start(String host, int port, ObjectMapper json, Consumer<JavalinConfig> routes) {
        return start(host, port, json, (ctx, status, code, message) -> error(ctx, status, message), routes);
    }

    /** How an API writes an error: its dialect's shape for a status, a short code and a message. */
    @FunctionalInterface
    public interface ErrorWriter {
        void write(Context ctx, int status, String code, String message);
    }

    /** As {@link #start(String, int, ObjectMapper, Consumer)}, with errors written by {@code errors}. */
    public static Javalin start(String host, int port, ObjectMapper json, ErrorWriter errors, Consumer<JavalinConfig> routes) {
        return Javalin.create(config -> {
            config.concurrency.useVirtualThreads = true;
            config.jetty.host = host;
            config.jetty.port = port;
            config.startup.showJavalinBanner = false;
            // what Jetty answers before any route (an unparsable path): JSON too, no body to a HEAD
            config.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorPage()));
            if (json != null) { // a JSON API; a proxy (json == null) streams bodies of any size through
                config.http.maxRequestSize = MAX_BODY;
                config.jsonMapper(new JavalinJackson(json, true));
            }
            routes.accept(config);
            if (json != null) {
                // the answers every JSON API gives alike; an API adds its own before these
                config.routes.exception(Problem.class, (e, ctx) -> {
                    Answer a = answer(e);
                    if (e instanceof Problem.Busy busy) ctx.header("Retry-After", Long.toString(busy.retryAfterSeconds()));
                    errors.write(ctx, a.status(), a.code(), e.getMessage());
                });
                config.routes.exception(HttpResponseException.class,
                        (e, ctx) -> errors.write(ctx, e.getStatus(), e.getStatus() == 413 ? "too_large" : "invalid_request", e.getMessage()));
                config.routes.exception(Exception.class, (e, ctx) -> {
                    LoggerFactory.getLogger(JsonHttp.class).warn("{} {} failed", ctx.method(), ctx.path(), e);
                    errors.write(ctx, 500, "internal_error", String.valueOf(e.getMessage()));
                });
                config.routes.error(404, ctx -> {
                    if (ctx.result() == null) errors.write(ctx, 404, "not_found", "no route " + ctx.method() + " " + ctx.path());
                });
            }
        }).start();
    }

    /** An HTTP answer to a problem: its status and its short code. */
    public record Answer(int status, String code) {}

    /**
     * The one mapping of the domain's problems to HTTP, which every dialect then writes in
     * its own error shape. Nothing else is mapped by type: an IllegalArgumentException from
     * a bug is a 500 that says so, not "invalid request".
     */
    public static Answer answer(Problem p) {
        return switch (p) {
            case Problem.Invalid i -> new Answer(400, "invalid_request");
            case Problem.Forbidden f -> new Answer(403, "forbidden");
            case Problem.NotFound n -> new Answer(404, "not_found");
            case Problem.Conflict c -> new Answer(409, c.code());
            case Problem.Busy b -> new Answer(429, "busy");
            case Problem.Upstream u -> new Answer(502, u.code());
            case Problem.Unavailable u -> new Answer(503, "host_unavailable");
            case Problem.NoSpace n -> new Answer(507, "insufficient_storage");
        };
    }

    public static void error(Context ctx, int status, String message) {
        ctx.status(status).json(Map.of("code", status, "message", message));
    }

    /** The request body as a JSON object (an empty body is an empty object). */
    public static JsonNode body(Context ctx, ObjectMapper json) {
        String raw = ctx.body();
        if (raw.isBlank()) return json.createObjectNode();
        try {
            JsonNode n = json.readTree(raw);
            if (n == null || !n.isObject()) throw new Problem.Invalid("the body must be a JSON object");
            return n;
        } catch (IOException e) {
            throw new Problem.Invalid("the body is not valid JSON");
        }
    }
}
