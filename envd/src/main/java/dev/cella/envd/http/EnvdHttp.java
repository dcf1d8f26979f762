package dev.cella.envd.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.cella.envd.EnvdState;
import dev.cella.envd.connect.ConnectCode;
import dev.cella.envd.connect.ConnectException;
import dev.cella.envd.connect.ConnectRouter;
import dev.cella.envd.files.FileTransfer;
import dev.cella.envd.metrics.SandboxMetrics;
import dev.cella.envd.user.UserAccount;
import dev.cella.envd.user.UserResolver;
import dev.cella.envd.user.Users;
import dev.cella.protocol.envd.EnvdProtocol;
import dev.cella.protocol.envd.FileSignature;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * envd's HTTP front: routes to the Connect services, the files endpoints and the
 * control endpoints, and checks the access token.
 *
 * <p>Built on the JDK's own HTTP server (module jdk.httpserver): it starts in a few
 * milliseconds and costs a few MB, which matters with one envd per sandbox; each
 * exchange runs on a virtual thread.
 */
public final class EnvdHttp {
    private static final Logger log = LoggerFactory.getLogger(EnvdHttp.class);
    /** The version of E2B's envd protocol this daemon honestly implements (see the notes). */
    public static final String VERSION = EnvdProtocol.VERSION;

    private final ObjectMapper json;
    private final EnvdState state;
    private final Users users;
    private final UserResolver userResolver;
    private final ConnectRouter rpc;
    private final FileTransfer files;
    private final SandboxMetrics metrics;
    private HttpServer server;

    public EnvdHttp(ObjectMapper json, EnvdState state, Users users, UserResolver userResolver, ConnectRouter rpc,
                    FileTransfer files, SandboxMetrics metrics) {
        this.json = json;
        this.state = state;
        this.users = users;
        this.userResolver = userResolver;
        this.rpc = rpc;
        this.files = files;
        this.metrics = metrics;
    }

    public void start(String host, int port) throws IOException {
        System.setProperty("sun.net.httpserver.nodelay", "true");
        server = HttpServer.create(new InetSocketAddress(host, port), 1024);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::route);
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public void stop() {
        if (server != null) server.stop(0);
    }

    private void route(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            try {
                switch (path) {
                    case "/health" -> {
                        ex.getResponseHeaders().set("Cache-Control", "no-store");
                        Exchanges.empty(ex, 204);
                    }
                    case "/init" -> init(ex);
                    case "/files" -> files.handle(ex);
                    case "/envs" -> {
                        requireToken(ex);
                        Exchanges.json(ex, json, 200, state.envVars());
                    }
                    case "/metrics" -> {
                        requireToken(ex);
                        Exchanges.json(ex, json, 200, metrics.sample());
                    }
                    default -> {
                        if (rpc.handles(path)) {
                            if (!tokenValid(ex)) {
                                rpc.unaryError(ex, new ConnectException(ConnectCode.UNAUTHENTICATED, "invalid access token"));
                            } else {
                                rpc.serve(ex, this::rpcUser);
                            }
                        } else {
                            throw HttpError.notFound("no route " + path);
                        }
                    }
                }
            } catch (HttpError e) {
                Exchanges.error(ex, json, e);
            } catch (IOException e) {
                log.debug("{} {}: {}", ex.getRequestMethod(), path, e.toString()); // the client went away
            } catch (RuntimeException e) {
                log.error("{} {}", ex.getRequestMethod(), path, e);
                try {
                    Exchanges.error(ex, json, new HttpError(500, "internal error: " + e.getMessage()));
                } catch (IOException | RuntimeException ignored) {
                    // headers were already sent
                }
            }
        }
    }

    private boolean tokenValid(HttpExchange ex) {
        String token = state.accessToken();
        return token == null || FileSignature.matches(ex.getRequestHeaders().getFirst("X-Access-Token"), token);
    }

    private void requireToken(HttpExchange ex) {
        if (!tokenValid(ex)) throw HttpError.unauthorized("invalid access token");
    }

    /** The user an RPC acts as: {@code Authorization: Basic base64(user:)}, else the default user. */
    private UserAccount rpcUser(HttpExchange ex) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        String name = null;
        if (auth != null && auth.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                String decoded = new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
                int colon = decoded.indexOf(':');
                name = colon < 0 ? decoded : decoded.substring(0, colon);
            } catch (IllegalArgumentException e) {
                throw new ConnectException(ConnectCode.UNAUTHENTICATED, "malformed Authorization header");
            }
        }
        return userResolver.resolve(name);
    }

    /**
     * {@code POST /init}, the node's call: replaces the sandbox's variables, sets (or, when
     * absent, clears) the access token, the default user and working directory. Once a
     * token is set, only a caller that knows it may call again: a process inside the
     * sandbox cannot take envd over.
     */
    private void init(HttpExchange ex) throws IOException {
        if (!"POST".equals(ex.getRequestMethod())) throw new HttpError(405, "use POST");
        byte[] body = ex.getRequestBody().readNBytes(1024 * 1024);
        JsonNode req;
        try {
            req = body.length == 0 ? json.createObjectNode() : json.readTree(body);
        } catch (IOException e) {
            throw HttpError.badRequest("body is not valid JSON");
        }
        if (req == null || !req.isObject()) throw HttpError.badRequest("body must be a JSON object");
        String current = state.accessToken();
        String offered = req.hasNonNull("accessToken") ? req.get("accessToken").asText() : null;
        if (current != null && !FileSignature.matches(offered, current) && !tokenValid(ex)) {
            throw HttpError.unauthorized("access token reset not authorized");
        }
        if (offered != null && offered.isEmpty()) throw HttpError.badRequest("accessToken must not be empty");
        String user = req.path("defaultUser").asText("");
        if (!user.isEmpty() && users.byName(user).isEmpty()) throw HttpError.badRequest("user '" + user + "' does not exist in the sandbox");
        JsonNode envs = req.get("envVars");
        if (envs != null && envs.isObject()) {
            Map<String, String> vars = new HashMap<>();
            envs.properties().forEach(e -> vars.put(e.getKey(), e.getValue().asText()));
            state.envVars().clear();
            state.envVars().putAll(vars);
        }
        state.accessToken(offered);
        if (!user.isEmpty()) state.defaultUser(user);
        String workdir = req.path("defaultWorkdir").asText("");
        if (!workdir.isEmpty()) state.defaultWorkdir(workdir);
        ex.getResponseHeaders().set("X-Envd-Version", VERSION);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        Exchanges.empty(ex, 204);
    }
}
