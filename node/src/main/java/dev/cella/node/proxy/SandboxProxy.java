package dev.cella.node.proxy;

import dev.cella.node.envd.EnvdRuntime;
import dev.cella.node.http.JsonHttp;
import io.javalin.Javalin;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsContext;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Forwards traffic to any port inside a sandbox: plain and streaming HTTP (each chunk
 * is passed on as it arrives, by {@link HttpForwarder}) and WebSocket upgrades (frame by
 * frame, here). The target is
 * named as the E2B SDK names it, by the headers {@code E2b-Sandbox-Id} and
 * {@code E2b-Sandbox-Port}, or by a host name {@code <port>-<sandbox id>.<domain>}. Where
 * it goes from there is the {@link SandboxRoutes}' business: the sandbox itself on a node,
 * the hosting node's proxy on the server.
 *
 * <p>envd's internal routes ({@code /init}) are never reachable through it.
 */
public final class SandboxProxy {
    private static final Pattern HOST = Pattern.compile("^(\\d{1,5})-([a-z0-9]+)\\..*");
    /** envd's routes that only its node may call (the JDK server envd runs on gives a context every path below it too). */
    private static final Set<String> INTERNAL_ENVD_PATHS = Set.of("/init");
    /** The header carrying a non-public sandbox's traffic token (E2B's name). */
    public static final String TRAFFIC_TOKEN_HEADER = "e2b-traffic-access-token";

    private final SandboxRoutes routes;
    /** For WebSockets only: plain HTTP goes through {@link HttpForwarder}'s Jetty client. */
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NEVER).build();
    private final Map<String, WebSocket> upstreams = new ConcurrentHashMap<>();
    private Javalin app;

    public SandboxProxy(SandboxRoutes routes) {
        this.routes = routes;
    }

    public SandboxProxy start(String host, int port) {
        HttpForwarder forwarder = new HttpForwarder(this);
        app = JsonHttp.start(host, port, null, config -> {
            config.jetty.modifyServer(forwarder::install);
            config.routes.ws("/<path>", this::webSocket);
            config.routes.ws("/", this::webSocket);
        });
        return this;
    }

    SandboxRoutes routes() {
        return routes;
    }

    public int port() {
        return app.port();
    }

    public void stop() {
        if (app != null) app.stop();
    }

    /** A request's target: the sandbox and the port inside it. */
    record Target(String sandboxId, int port) {}

    static Optional<Target> target(Function<String, String> header) {
        String id = header.apply("E2b-Sandbox-Id");
        String port = header.apply("E2b-Sandbox-Port");
        if (id != null && !id.isBlank()) {
            try {
                return Optional.of(new Target(id.trim(), port == null ? EnvdRuntime.PORT : Integer.parseInt(port.trim())));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        String host = header.apply("Host");
        if (host != null) {
            Matcher m = HOST.matcher(host.toLowerCase(Locale.ROOT));
            if (m.matches()) return Optional.of(new Target(m.group(2), Integer.parseInt(m.group(1))));
        }
        return Optional.empty();
    }

    /**
     * The route for a target, or an answer saying why there is none. envd's own port
     * checks its access token itself; every other port of a sandbox whose traffic is not
     * public needs the sandbox's traffic token in {@code e2b-traffic-access-token}.
     */
    Optional<SandboxRoutes.Route> route(Target t, String path, String trafficToken,
                                                BiConsumer<Integer, String> refuse) {
        if (t.port() < 1 || t.port() > 65535) {
            refuse.accept(400, "invalid port " + t.port());
            return Optional.empty();
        }
        if (t.port() == EnvdRuntime.PORT && internalEnvdPath(path)) {
            refuse.accept(403, "this route of the sandbox's daemon is not reachable from outside");
            return Optional.empty();
        }
        Optional<SandboxRoutes.Route> r = routes.route(t.sandboxId(), t.port());
        if (r.isEmpty()) {
            refuse.accept(502, "The sandbox was not found");
            return Optional.empty();
        }
        String required = r.get().trafficAccessToken();
        if (required != null && t.port() != EnvdRuntime.PORT && (trafficToken == null
                || !MessageDigest.isEqual(required.getBytes(StandardCharsets.UTF_8), trafficToken.getBytes(StandardCharsets.UTF_8)))) {
            refuse.accept(403, "this sandbox's traffic is not public: send its traffic access token in " + TRAFFIC_TOKEN_HEADER);
            return Optional.empty();
        }
        return r;
    }

    /**
     * Whether a request's path, as it arrives (percent-encoded), reaches one of envd's
     * internal routes once envd has read it: envd decodes it once and matches contexts by
     * prefix, so {@code /%69nit} and {@code /init/x} are {@code /init} to it. A path that does
     * not decode, or that a normalisation ({@code //}, {@code .}, {@code ..}) brings there,
     * is refused as well: nothing legitimate is written so.
     */
    static boolean internalEnvdPath(String rawPath) {
        String decoded;
        try {
            decoded = URLDecoder.decode(rawPath.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return true;
        }
        for (String p : List.of(decoded, normalized(decoded))) {
            for (String internal : INTERNAL_ENVD_PATHS) {
                if (p.equals(internal) || p.startsWith(internal + "/")) return true;
            }
        }
        return false;
    }

    /** The path with empty and {@code .} segments dropped and {@code ..} applied (never above the root). */
    private static String normalized(String path) {
        Deque<String> segments = new ArrayDeque<>();
        for (String seg : path.split("/")) {
            if (seg.isEmpty() || seg.equals(".")) continue;
            if (seg.equals("..")) segments.pollLast();
            else segments.addLast(seg);
        }
        return "/" + String.join("/", segments);
    }

    private void webSocket(WsConfig ws) {
        ws.onConnect(ctx -> {
            Optional<Target> target = target(ctx::header);
            if (target.isEmpty()) {
                ctx.closeSession(1008, "name the sandbox");
                return;
            }
            String path = URI.create(ctx.session.getUpgradeRequest().getRequestURI().toString()).getPath();
            Optional<SandboxRoutes.Route> route = route(target.get(), path, ctx.header(TRAFFIC_TOKEN_HEADER),
                    (status, message) -> ctx.closeSession(status == 403 ? 1008 : 1011, message));
            if (route.isEmpty()) return;
            String query = ctx.queryString();
            URI uri = URI.create("ws" + route.get().base().toString().substring(4) + path + (query == null ? "" : "?" + query));
            ctx.session.setIdleTimeout(Duration.ofHours(1));
            try {
                WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
                route.get().headers().forEach(builder::header);
                String token = ctx.header(TRAFFIC_TOKEN_HEADER);
                if (token != null) builder.header(TRAFFIC_TOKEN_HEADER, token);
                WebSocket up = builder.buildAsync(uri, new Relay(ctx)).join();
                upstreams.put(ctx.sessionId(), up);
            } catch (RuntimeException e) {
                ctx.closeSession(1011, "the sandbox did not accept the WebSocket on port " + target.get().port());
            }
        });
        ws.onMessage(ctx -> {
            WebSocket up = upstreams.get(ctx.sessionId());
            if (up != null) up.sendText(ctx.message(), true).join();
        });
        ws.onBinaryMessage(ctx -> {
            WebSocket up = upstreams.get(ctx.sessionId());
            if (up != null) up.sendBinary(ctx.data(), true).join();
        });
        ws.onClose(ctx -> {
            WebSocket up = upstreams.remove(ctx.sessionId());
            if (up != null) up.sendClose(WebSocket.NORMAL_CLOSURE, "").exceptionally(e -> null);
        });
        ws.onError(ctx -> {
            WebSocket up = upstreams.remove(ctx.sessionId());
            if (up != null) up.abort();
        });
    }

    /** Passes the sandbox's frames back to the client. */
    private final class Relay implements WebSocket.Listener {
        private final WsContext client;
        private final StringBuilder text = new StringBuilder();
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

        Relay(WsContext client) {
            this.client = client;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                client.send(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            binary.writeBytes(b);
            if (last) {
                client.send(ByteBuffer.wrap(binary.toByteArray()));
                binary.reset();
            }
            ws.request(1);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            upstreams.remove(client.sessionId());
            // 1005, 1006 and 1015 describe a close, they may not be sent in one
            client.closeSession(status == 1005 || status == 1006 || status == 1015 ? 1000 : status, reason);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            upstreams.remove(client.sessionId());
            client.closeSession(1011, "the sandbox's WebSocket failed");
        }
    }
}
