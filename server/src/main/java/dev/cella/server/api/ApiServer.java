package dev.cella.server.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.http.JsonHttp;
import dev.cella.server.db.Jdbc;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;

import java.util.List;

/**
 * One HTTP server for every API dialect: each owns its paths, authenticates them and
 * writes its errors in its own shape; the errors the domain raises are mapped here, once,
 * and written by the dialect that owns the request's path.
 */
public final class ApiServer {
    private ApiServer() {}

    /** One served route, as an OpenAPI document names it. */
    public record Route(String method, String path) {}

    /** An API dialect mounted on the server. */
    public interface Dialect {
        boolean owns(String path);

        void routes(JavalinConfig config);

        void writeError(Context ctx, int status, String code, String message);
    }

    public static Javalin start(String host, int port, List<Dialect> dialects) {
        ObjectMapper json = new ObjectMapper();
        JsonHttp.ErrorWriter errors = (ctx, status, code, message) -> dialects.stream().filter(d -> d.owns(ctx.path())).findFirst()
                .orElse(dialects.getFirst()).writeError(ctx, status, code, message);
        return JsonHttp.start(host, port, json, errors, config -> {
            for (Dialect d : dialects) d.routes(config);
            config.routes.exception(ApiError.class, (e, ctx) -> errors.write(ctx, e.status(), e.code(), e.getMessage()));
            config.routes.exception(Jdbc.Duplicate.class, (e, ctx) -> errors.write(ctx, 409, "conflict", "it exists already"));
        });
    }
}
