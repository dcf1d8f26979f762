package dev.cella.envd.process;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cella.envd.connect.ConnectCode;
import dev.cella.envd.connect.ConnectException;
import dev.cella.envd.connect.ConnectRouter;
import dev.cella.envd.connect.RpcCall;
import dev.cella.envd.connect.StreamWriter;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** The {@code process.Process} Connect service of E2B's envd. */
public final class ProcessService {
    private static final String PREFIX = "/process.Process/";

    private final ProcessManager manager;
    private final Launcher launcher;
    private final ObjectMapper json;

    public ProcessService(ProcessManager manager, Launcher launcher, ObjectMapper json) {
        this.manager = manager;
        this.launcher = launcher;
        this.json = json;
    }

    public void register(ConnectRouter router) {
        router.stream(PREFIX + "Start", this::start)
              .stream(PREFIX + "Connect", this::connect)
              .unary(PREFIX + "List", this::list)
              .unary(PREFIX + "SendInput", this::sendInput)
              .unary(PREFIX + "SendSignal", this::sendSignal)
              .unary(PREFIX + "CloseStdin", this::closeStdin)
              .unary(PREFIX + "Update", this::update);
    }

    // --- streams ---

    private void start(RpcCall call, StreamWriter out) {
        JsonNode process = call.node("process", "process");
        if (process == null) throw ConnectException.invalid("process is required");
        ProcessConfig config = new ProcessConfig(
                process.path("cmd").asText(""), strings(process.get("args")), stringMap(process.get("envs")),
                process.hasNonNull("cwd") ? process.get("cwd").asText() : null);
        JsonNode ptyNode = call.node("pty", "pty");
        StartSpec.PtySize pty = null;
        if (ptyNode != null) {
            JsonNode size = ptyNode.path("size");
            int cols = size.path("cols").asInt(80), rows = size.path("rows").asInt(24);
            pty = new StartSpec.PtySize(cols > 0 ? cols : 80, rows > 0 ? rows : 24);
        }
        JsonNode stdinNode = call.node("stdin", "stdin");
        boolean stdin = stdinNode == null || stdinNode.asBoolean(true); // absent means a pipe, as in E2B
        String tag = call.text("tag", "tag");

        StartSpec spec = launcher.resolve(config, call.user(), pty, stdin, tag);
        EventStream events = new EventStream(out);
        ManagedProcess p = manager.start(spec, events);
        events.begin(p.pid());
        follow(call, p, events, true);
    }

    private void connect(RpcCall call, StreamWriter out) {
        ManagedProcess p = select(call.node("process", "process"), true);
        EventStream events = new EventStream(out);
        if (!p.listen(events)) {
            events.begin(p.pid()); // ended moments ago: the client still learns how
            events.onEnd(p.exitStatus());
            return;
        }
        events.begin(p.pid());
        follow(call, p, events, false);
    }

    /**
     * Keeps the stream open until the process ends, sending keepalives while it is quiet.
     * A client that goes away stops receiving but does not stop the process (the SDK's
     * disconnect()); the deadline of the call that started it does kill it, as E2B's
     * command timeout does.
     */
    private void follow(RpcCall call, ManagedProcess p, EventStream events, boolean killAtDeadline) {
        try {
            while (true) {
                long wait = Math.min(call.keepaliveMillis(), call.millisLeft());
                if (p.awaitEnd(wait, TimeUnit.MILLISECONDS)) return;
                if (call.hasDeadline() && call.millisLeft() == 0) {
                    p.unlisten(events);
                    if (killAtDeadline) p.signal(9);
                    throw new ConnectException(ConnectCode.DEADLINE_EXCEEDED, "the process did not end within the call's timeout");
                }
                if (!events.keepalive()) {
                    p.unlisten(events);
                    if (!killAtDeadline || !call.hasDeadline()) return;
                    // nobody listens, but the command's timeout still applies
                    if (!p.awaitEnd(call.millisLeft(), TimeUnit.MILLISECONDS)) p.signal(9);
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.unlisten(events);
        }
    }

    /** Forwards one process's events to one client stream, start event first. */
    private final class EventStream implements ProcessListener {
        private final StreamWriter out;
        private final CountDownLatch begun = new CountDownLatch(1);

        EventStream(StreamWriter out) {
            this.out = out;
        }

        void begin(int pid) {
            ObjectNode ev = json.createObjectNode();
            ev.putObject("event").putObject("start").put("pid", pid);
            out.send(ev);
            begun.countDown();
        }

        boolean keepalive() {
            ObjectNode ev = json.createObjectNode();
            ev.putObject("event").putObject("keepalive");
            return out.send(ev);
        }

        @Override
        public boolean onOutput(Output output, byte[] data) {
            awaitBegun();
            ObjectNode ev = json.createObjectNode();
            ev.putObject("event").putObject("data").put(output.field, Base64.getEncoder().encodeToString(data));
            return out.send(ev);
        }

        @Override
        public void onEnd(ExitStatus status) {
            awaitBegun();
            ObjectNode ev = json.createObjectNode();
            ObjectNode end = ev.putObject("event").putObject("end");
            end.put("exitCode", status.exitCode()).put("exited", status.exited()).put("status", status.status());
            if (status.error() != null) end.put("error", status.error());
            out.send(ev);
        }

        private void awaitBegun() {
            try {
                begun.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // --- unary ---

    private ObjectNode list(RpcCall call) {
        ObjectNode res = json.createObjectNode();
        ArrayNode arr = res.putArray("processes");
        for (ManagedProcess p : manager.list()) {
            ObjectNode info = arr.addObject();
            ObjectNode cfg = info.putObject("config");
            cfg.put("cmd", p.config().cmd());
            ArrayNode args = cfg.putArray("args");
            p.config().args().forEach(args::add);
            ObjectNode envs = cfg.putObject("envs");
            p.config().envs().forEach(envs::put);
            if (p.config().cwd() != null) cfg.put("cwd", p.config().cwd());
            info.put("pid", p.pid());
            if (p.tag() != null) info.put("tag", p.tag());
        }
        return res;
    }

    private ObjectNode sendInput(RpcCall call) {
        ManagedProcess p = select(call.node("process", "process"));
        JsonNode input = call.node("input", "input");
        if (input == null) throw ConnectException.invalid("input is required");
        if (input.hasNonNull("pty")) {
            p.writePty(bytes(input.get("pty")));
        } else if (input.hasNonNull("stdin")) {
            p.writeStdin(bytes(input.get("stdin")));
        } else {
            throw ConnectException.invalid("input must carry stdin or pty");
        }
        return json.createObjectNode();
    }

    private ObjectNode sendSignal(RpcCall call) {
        ManagedProcess p = select(call.node("process", "process"));
        JsonNode signal = call.node("signal", "signal");
        int number = signalNumber(signal);
        p.signal(number);
        return json.createObjectNode();
    }

    private ObjectNode closeStdin(RpcCall call) {
        select(call.node("process", "process")).closeStdin();
        return json.createObjectNode();
    }

    private ObjectNode update(RpcCall call) {
        ManagedProcess p = select(call.node("process", "process"));
        JsonNode pty = call.node("pty", "pty");
        if (pty != null) {
            JsonNode size = pty.path("size");
            int cols = size.path("cols").asInt(0), rows = size.path("rows").asInt(0);
            if (cols <= 0 || rows <= 0) throw ConnectException.invalid("pty.size needs cols and rows above 0");
            p.resize(cols, rows);
        }
        return json.createObjectNode();
    }

    // --- helpers ---

    private ManagedProcess select(JsonNode selector) {
        return select(selector, false);
    }

    private ManagedProcess select(JsonNode selector, boolean includeEnded) {
        if (selector == null) throw ConnectException.invalid("process selector is required");
        if (selector.hasNonNull("pid")) {
            int pid = selector.get("pid").asInt();
            return (includeEnded ? manager.byPidIncludingEnded(pid) : manager.byPid(pid))
                    .orElseThrow(() -> ConnectException.notFound("process with pid " + pid + " not found"));
        }
        if (selector.hasNonNull("tag")) {
            String tag = selector.get("tag").asText();
            return (includeEnded ? manager.byTagIncludingEnded(tag) : manager.byTag(tag))
                    .orElseThrow(() -> ConnectException.notFound("process with tag " + tag + " not found"));
        }
        throw ConnectException.invalid("process selector needs pid or tag");
    }

    static int signalNumber(JsonNode signal) {
        if (signal == null) throw ConnectException.invalid("signal is required");
        if (signal.isNumber()) {
            int n = signal.asInt();
            if (n == 9 || n == 15) return n;
        } else {
            switch (signal.asText()) {
                case "SIGNAL_SIGKILL": return 9;
                case "SIGNAL_SIGTERM": return 15;
                default: break;
            }
        }
        throw new ConnectException(ConnectCode.UNIMPLEMENTED, "invalid signal " + signal);
    }

    private static byte[] bytes(JsonNode node) {
        try {
            String s = node.asText();
            return s.indexOf('-') >= 0 || s.indexOf('_') >= 0 ? Base64.getUrlDecoder().decode(s) : Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw ConnectException.invalid("input is not base64");
        }
    }

    private static List<String> strings(JsonNode node) {
        List<String> out = new ArrayList<>();
        if (node != null && node.isArray()) node.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static Map<String, String> stringMap(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        if (node != null && node.isObject()) node.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }
}
