package dev.cella.server.api.v1;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cella.node.problem.Problem;
import dev.cella.server.Ids;
import dev.cella.server.api.ApiError;
import dev.cella.server.envd.Envd;
import dev.cella.server.sandbox.SandboxService;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The native API's WebSockets (the Wrenn API): re-attaching to a background process's output,
 * streaming a command, and terminals (PTY) that outlive the socket and are found again by
 * tag. A socket authenticates with its headers (X-API-Key or a Bearer token) or, where a
 * browser cannot set headers, with a first frame {@code {"type":"auth","token":...}}
 * within 5 s. Errors are frames {@code {"type":"error","data":...}}.
 */
public final class ProcessSockets implements Consumer<V1Api> {
    private static final Logger log = LoggerFactory.getLogger(ProcessSockets.class);
    /** A terminal nobody types into or resizes for this long is ended (the Wrenn API). */
    static final Duration PTY_IDLE = Duration.ofSeconds(120);
    static final Duration PING = Duration.ofSeconds(30);
    private static final Duration AUTH_WAIT = Duration.ofSeconds(5);

    private final SandboxService sandboxes;
    private final Duration ptyIdle;
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("ws-timers").factory());
    private final Map<String, Socket> sockets = new ConcurrentHashMap<>();
    /** Terminals by capsule and tag, with when they were last used: they outlive their sockets. */
    private final Map<String, Terminal> terminals = new ConcurrentHashMap<>();
    private V1Api api;

    public ProcessSockets(SandboxService sandboxes) {
        this(sandboxes, PTY_IDLE);
    }

    public ProcessSockets(SandboxService sandboxes, Duration ptyIdle) {
        this.sandboxes = sandboxes;
        this.ptyIdle = ptyIdle;
        timers.scheduleAtFixedRate(this::endIdleTerminals, 1, 1, TimeUnit.SECONDS);
        timers.scheduleAtFixedRate(this::ping, PING.toSeconds(), PING.toSeconds(), TimeUnit.SECONDS);
    }

    enum Kind { PROCESS_STREAM, EXEC_STREAM, PTY }

    /** A terminal's process, and when someone last typed into it or resized it. */
    record Terminal(Envd envd, String tag, long lastUsedNanos) {}

    /** One open socket. */
    final class Socket {
        final WsContext ws;
        final Kind kind;
        volatile Caller caller;
        volatile Envd envd;
        volatile Envd.Stream stream;
        volatile Envd.Selector process;
        volatile String terminalKey;
        volatile boolean began;

        Socket(WsContext ws, Kind kind) {
            this.ws = ws;
            this.kind = kind;
        }

        synchronized void send(Map<String, Object> frame) {
            try {
                ws.send(V1Api.JSON.writeValueAsString(frame));
            } catch (Exception e) {
                log.debug("socket {} gone: {}", ws.sessionId(), e.toString());
            }
        }

        void error(String message, boolean fatal) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("type", "error");
            f.put("data", message);
            if (kind == Kind.PTY && fatal) f.put("fatal", true);
            send(f);
            if (fatal) close();
        }

        void close() {
            try {
                ws.closeSession(1000, "done");
            } catch (RuntimeException ignored) {
                // closed already
            }
        }

        String capsule() {
            return ws.pathParam("id");
        }
    }

    @Override
    public void accept(V1Api api) {
        this.api = api;
        api.socket("/v1/capsules/{id}/processes/{selector}/stream", ws -> socket(ws, Kind.PROCESS_STREAM));
        api.socket("/v1/capsules/{id}/exec/stream", ws -> socket(ws, Kind.EXEC_STREAM));
        api.socket("/v1/capsules/{id}/pty", ws -> socket(ws, Kind.PTY));
    }

    private void socket(WsConfig ws, Kind kind) {
        ws.onConnect(ctx -> {
            ctx.session.setIdleTimeout(Duration.ofHours(1));
            Socket s = new Socket(ctx, kind);
            sockets.put(ctx.sessionId(), s);
            if (ctx.header("X-API-Key") != null || ctx.header("Authorization") != null) {
                authenticate(s, ctx.header("X-API-Key"), ctx.header("Authorization"));
            } else {
                timers.schedule(() -> {
                    if (s.caller == null && sockets.containsKey(ctx.sessionId())) s.error("authentication failed: no credentials within 5 s", true);
                }, AUTH_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        });
        ws.onMessage(ctx -> {
            Socket s = sockets.get(ctx.sessionId());
            if (s == null) return;
            JsonNode m;
            try {
                m = V1Api.JSON.readTree(ctx.message());
            } catch (Exception e) {
                s.error("frames are JSON objects", false);
                return;
            }
            String type = m.path("type").asText("");
            try {
                if (s.caller == null) {
                    if (!type.equals("auth")) {
                        s.error("authentication failed: send {\"type\":\"auth\",\"token\":...} first", true);
                        return;
                    }
                    String token = m.path("token").asText("");
                    if (token.startsWith("e2b_")) authenticate(s, token, null);
                    else authenticate(s, null, "Bearer " + token);
                    return;
                }
                switch (kind) {
                    case PROCESS_STREAM -> { } // frames from the client only tell that it is still there
                    case EXEC_STREAM -> execFrame(s, type, m);
                    case PTY -> ptyFrame(s, type, m);
                }
            } catch (ApiError | Problem e) {
                s.error(e.getMessage(), s.stream == null);
            }
        });
        ws.onClose(ctx -> ended(ctx.sessionId()));
        ws.onError(ctx -> ended(ctx.sessionId()));
    }

    private void ended(String sessionId) {
        Socket s = sockets.remove(sessionId);
        if (s == null) return;
        if (s.stream != null) s.stream.close();
        // a streamed command ends with its socket; a terminal and a background process go on
        if (s.kind == Kind.EXEC_STREAM && s.process != null && s.envd != null) {
            try {
                s.envd.signal(s.process, 9);
            } catch (ApiError | Problem ignored) {
                // it ended already
            }
        }
    }

    private void authenticate(Socket s, String apiKey, String authorization) {
        try {
            s.caller = api.resolve(apiKey, authorization, V1Api.Access.TEAM, s.ws.session.getRemoteSocketAddress().toString());
        } catch (ApiError | Problem e) {
            s.error("authentication failed", true);
            return;
        }
        try {
            // the capsule must be the caller's and running: an error frame otherwise
            var access = sandboxes.envd(s.caller.team(), s.capsule());
            s.envd = new Envd(access.route(), access.accessToken());
        } catch (Problem.NotFound e) {
            s.error("capsule " + s.capsule() + " not found", true);
            return;
        } catch (ApiError | Problem e) {
            s.error(e.getMessage(), true);
            return;
        }
        if (s.kind == Kind.PROCESS_STREAM) {
            String sel = s.ws.pathParam("selector");
            s.process = Envd.Selector.parse(sel);
            try {
                follow(s, s.envd.connect(s.process), "stdout", "stderr");
            } catch (ApiError | Problem e) {
                s.error(e.getMessage(), true);
            }
        }
    }

    /** Forwards a process's events to the socket on a thread of its own, then closes the socket. */
    private void follow(Socket s, Envd.Stream stream, String... textStreams) {
        s.stream = stream;
        Thread.ofVirtual().name("ws-" + s.ws.sessionId()).start(() -> {
            boolean ended;
            try {
                ended = stream.follow(new Envd.Events() {
                    @Override
                    public void started(int pid) {
                        if (s.kind == Kind.PTY) {
                            if (s.process == null || s.process.pid() == null) {
                                Map<String, Object> f = new LinkedHashMap<>();
                                f.put("type", "started");
                                f.put("tag", s.process == null ? null : s.process.tag());
                                f.put("pid", pid);
                                s.send(f);
                            }
                        } else {
                            s.send(Map.of("type", "start", "pid", pid));
                        }
                        if (s.process == null) s.process = new Envd.Selector(pid, null);
                    }

                    @Override
                    public void output(String stream, byte[] data) {
                        if (s.kind == Kind.PTY) {
                            s.send(Map.of("type", "output", "data", Base64.getEncoder().encodeToString(data)));
                        } else {
                            s.send(Map.of("type", stream.equals("stderr") ? "stderr" : "stdout", "data", new String(data, StandardCharsets.UTF_8)));
                        }
                    }

                    @Override
                    public void ended(int exitCode, String error) {
                        if (error != null && exitCode == -1) s.error(error, false);
                        s.send(Map.of("type", "exit", "exit_code", exitCode));
                        if (s.terminalKey != null) terminals.remove(s.terminalKey);
                    }
                });
            } catch (ApiError | Problem e) {
                s.error(e.getMessage(), true);
                return;
            }
            if (ended) s.close();
        });
    }

    private void execFrame(Socket s, String type, JsonNode m) {
        switch (type) {
            case "start" -> {
                if (s.stream != null) throw ApiError.badRequest("the command is started already");
                String cmd = V1Api.text(m, "cmd", true);
                follow(s, s.envd.start(new Envd.Command(cmd, strings(m.get("args")), Map.of(), null, null), null, null, null));
                sandboxes.touch(s.caller.team(), s.capsule());
            }
            case "stop" -> {
                if (s.process != null) s.envd.signal(s.process, 9);
                s.close();
            }
            default -> throw ApiError.badRequest("unknown frame type '" + type + "': start or stop");
        }
    }

    private void ptyFrame(Socket s, String type, JsonNode m) {
        switch (type) {
            case "start" -> {
                if (s.stream != null) throw ApiError.badRequest("the terminal is started already");
                String tag = "pty-" + Ids.hex(4);
                Map<String, String> envs = new LinkedHashMap<>();
                envs.put("TERM", "xterm-256color");
                m.path("envs").properties().forEach(e -> envs.put(e.getKey(), e.getValue().asText()));
                String cmd = m.hasNonNull("cmd") ? m.get("cmd").asText() : "/bin/bash";
                String cwd = m.hasNonNull("cwd") ? m.get("cwd").asText() : null;
                int cols = positive(m, "cols", 80), rows = positive(m, "rows", 24);
                Envd as = m.hasNonNull("user") ? s.envd.as(m.get("user").asText()) : s.envd;
                s.process = new Envd.Selector(null, tag);
                s.terminalKey = s.capsule() + "/" + tag;
                terminals.put(s.terminalKey, new Terminal(s.envd, tag, System.nanoTime()));
                follow(s, as.start(new Envd.Command(cmd, strings(m.get("args")), envs, cwd, tag), cols, rows, null));
                sandboxes.touch(s.caller.team(), s.capsule());
            }
            case "connect" -> {
                if (s.stream != null) throw ApiError.badRequest("the terminal is started already");
                String tag = V1Api.text(m, "tag", true);
                String key = s.capsule() + "/" + tag;
                if (!terminals.containsKey(key)) throw ApiError.notFound("no terminal " + tag + " in this capsule");
                s.process = new Envd.Selector(null, tag);
                s.terminalKey = key;
                touchTerminal(s);
                follow(s, s.envd.connect(s.process));
            }
            case "input" -> {
                requireStarted(s);
                byte[] data;
                try {
                    data = Base64.getDecoder().decode(m.path("data").asText(""));
                } catch (IllegalArgumentException e) {
                    throw ApiError.badRequest("input data must be base64");
                }
                s.envd.ptyInput(s.process, data);
                touchTerminal(s);
            }
            case "resize" -> {
                requireStarted(s);
                int cols = m.path("cols").asInt(0), rows = m.path("rows").asInt(0);
                if (cols <= 0 || rows <= 0) throw ApiError.badRequest("cols and rows must be positive");
                s.envd.resize(s.process, cols, rows);
                touchTerminal(s);
            }
            case "kill" -> {
                requireStarted(s);
                s.envd.signal(s.process, 9);
            }
            default -> throw ApiError.badRequest("unknown frame type '" + type + "': start, connect, input, resize or kill");
        }
    }

    private static void requireStarted(Socket s) {
        if (s.process == null || s.stream == null) throw ApiError.badRequest("start or connect a terminal first");
    }

    private void touchTerminal(Socket s) {
        terminals.computeIfPresent(s.terminalKey, (k, t) -> new Terminal(t.envd(), t.tag(), System.nanoTime()));
    }

    /** Ends the terminals nobody used for the idle time, whether a socket is attached or not. */
    private void endIdleTerminals() {
        long now = System.nanoTime();
        terminals.forEach((key, t) -> {
            if (now - t.lastUsedNanos() < ptyIdle.toNanos()) return;
            terminals.remove(key);
            try {
                t.envd().signal(new Envd.Selector(null, t.tag()), 9);
                log.info("terminal {} ended after {} s without input", key, ptyIdle.toSeconds());
            } catch (RuntimeException e) {
                log.debug("terminal {} was gone: {}", key, e.toString());
            }
        });
    }

    private void ping() {
        for (Socket s : sockets.values()) {
            if (s.kind == Kind.PTY && s.stream != null) s.send(Map.of("type", "ping"));
        }
    }

    private static int positive(JsonNode m, String field, int fallback) {
        int v = m.path(field).asInt(0);
        return v > 0 ? Math.min(v, 1000) : fallback;
    }

    private static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n == null || n.isNull()) return out;
        if (!n.isArray()) throw ApiError.badRequest("args must be an array of strings");
        n.forEach(x -> out.add(x.asText()));
        return out;
    }

    /** Stops the timers (the server is closing). */
    public void close() {
        timers.shutdownNow();
    }
}
