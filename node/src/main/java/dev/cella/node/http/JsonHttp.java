package dev.cella.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.sandbox.SandboxException;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.json.JavalinJackson;

import java.io.IOException;
import org.slf4j.LoggerFactory;
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

    /** Input the caller got wrong: answered 400. */
    public static final class BadRequest extends RuntimeException {
        public BadRequest(String message) {
            super(message);
        }
    }

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
            if (json != null) { // a JSON API; a proxy (json == null) streams bodies of any size through
                config.http.maxRequestSize = MAX_BODY;
                config.jsonMapper(new JavalinJackson(json, true));
            }
            routes.accept(config);
            if (json != null) {
                // the answers every JSON API gives alike; an API adds its own before these
                config.routes.exception(BadRequest.class, (e, ctx) -> errors.write(ctx, 400, "invalid_request", e.getMessage()));
                config.routes.exception(IllegalArgumentException.class, (e, ctx) -> errors.write(ctx, 400, "invalid_request", e.getMessage()));
                config.routes.exception(SandboxException.NotFound.class, (e, ctx) -> errors.write(ctx, 404, "not_found", e.getMessage()));
                config.routes.exception(SandboxException.Busy.class, (e, ctx) -> {
                    ctx.header("Retry-After", Long.toString(e.retryAfterSeconds()));
                    errors.write(ctx, 429, "busy", e.getMessage());
                });
                config.routes.exception(SandboxException.Conflict.class, (e, ctx) -> errors.write(ctx, 409, "conflict", e.getMessage()));
                config.routes.exception(io.javalin.http.HttpResponseException.class,
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

    public static void error(Context ctx, int status, String message) {
        ctx.status(status).json(Map.of("code", status, "message", message));
    }

    /** The request body as a JSON object (an empty body is an empty object). */
    public static JsonNode body(Context ctx, ObjectMapper json) {
        String raw = ctx.body();
        if (raw.isBlank()) return json.createObjectNode();
        try {
            JsonNode n = json.readTree(raw);
            if (n == null || !n.isObject()) throw new BadRequest("the body must be a JSON object");
            return n;
        } catch (IOException e) {
            throw new BadRequest("the body is not valid JSON");
        }
    }
}
