package dev.cella.server.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How to build a template, whatever front end it came from (a Dockerfile, a Superserve
 * build_spec, an E2B template build): the template or image it starts from, its steps in
 * order, and the commands a sandbox of it runs at start and is ready after.
 */
public record BuildSpec(String from, List<Step> steps, String startCmd, String readyCmd) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public BuildSpec {
        steps = List.copyOf(steps);
    }

    /** One step. Only {@link Run} changes files; the others change what later steps and sandboxes run with. */
    public sealed interface Step permits Run, Env, Workdir, User, Copy {}

    /**
     * Files of an uploaded context (a tar, gzipped or not, named by its hash) copied to
     * {@code dest}: a directory's contents into it, a file to it (into it when dest ends
     * with /); owned by {@code user} and given {@code mode} when those are set.
     */
    public record Copy(String filesHash, String src, String dest, String user, String mode) implements Step {}

    /** A shell command; {@code workdir} and {@code user} apply to this step alone when given. */
    public record Run(String cmd, String workdir, String user) implements Step {}

    public record Env(Map<String, String> vars) implements Step {
        public Env {
            vars = Map.copyOf(vars);
        }
    }

    public record Workdir(String path) implements Step {}

    public record User(String name) implements Step {}

    /** The spec as stored (and hashed): a stable JSON form. */
    public String toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("from", from);
        ArrayNode arr = n.putArray("steps");
        for (Step s : steps) {
            ObjectNode o = arr.addObject();
            switch (s) {
                case Run r -> {
                    o.put("run", r.cmd());
                    if (r.workdir() != null) o.put("workdir", r.workdir());
                    if (r.user() != null) o.put("user", r.user());
                }
                case Env e -> o.set("env", JSON.valueToTree(new TreeMap<>(e.vars())));
                case Workdir w -> o.put("workdir", w.path());
                case User u -> o.put("user", u.name());
                case Copy c -> {
                    ObjectNode cp = o.putObject("copy");
                    cp.put("files_hash", c.filesHash()).put("src", c.src()).put("dest", c.dest());
                    if (c.user() != null) cp.put("user", c.user());
                    if (c.mode() != null) cp.put("mode", c.mode());
                }
            }
        }
        if (startCmd != null) n.put("start_cmd", startCmd);
        if (readyCmd != null) n.put("ready_cmd", readyCmd);
        return n.toString();
    }

    /** Reads the stored form back (it is also Superserve's build_spec). */
    public static BuildSpec fromJson(String json) {
        try {
            return parse(JSON.readTree(json), true);
        } catch (IOException e) {
            throw new IllegalArgumentException("not a build spec: " + e.getMessage());
        }
    }

    /**
     * Superserve's build_spec: {@code {from, steps: [{run, workdir?} | {env: {..}} | {workdir} | {user}], start_cmd, ready_cmd}}.
     * Bad input is an IllegalArgumentException with a message for a 400.
     */
    public static BuildSpec parse(JsonNode b) {
        return parse(b, false);
    }

    private static BuildSpec parse(JsonNode b, boolean withCopies) {
        if (b == null || !b.isObject()) throw new IllegalArgumentException("build_spec must be an object");
        String from = b.path("from").asText("");
        if (from.isBlank()) throw new IllegalArgumentException("build_spec.from is required");
        List<Step> steps = new ArrayList<>();
        JsonNode arr = b.get("steps");
        if (arr != null && !arr.isNull()) {
            if (!arr.isArray()) throw new IllegalArgumentException("build_spec.steps must be an array");
            int i = 0;
            for (JsonNode s : arr) {
                String where = "build_spec.steps[" + i++ + "]";
                if (!s.isObject()) throw new IllegalArgumentException(where + " must be an object");
                if (s.has("run")) {
                    if (!s.get("run").isTextual() || s.get("run").asText().isBlank()) throw new IllegalArgumentException(where + ".run must be a command");
                    steps.add(new Run(s.get("run").asText(), text(s, "workdir", where), text(s, "user", where)));
                } else if (withCopies && s.has("copy")) {
                    JsonNode c = s.get("copy");
                    steps.add(new Copy(c.path("files_hash").asText(), c.path("src").asText(), c.path("dest").asText(),
                            c.hasNonNull("user") ? c.get("user").asText() : null, c.hasNonNull("mode") ? c.get("mode").asText() : null));
                } else if (s.has("env")) {
                    if (!s.get("env").isObject()) throw new IllegalArgumentException(where + ".env must be an object of strings");
                    Map<String, String> vars = new LinkedHashMap<>();
                    s.get("env").properties().forEach(e -> {
                        if (!e.getValue().isValueNode()) throw new IllegalArgumentException(where + ".env." + e.getKey() + " must be a string");
                        if (!e.getKey().matches("[A-Za-z_][A-Za-z0-9_]*")) throw new IllegalArgumentException(where + ".env: bad variable name " + e.getKey());
                        vars.put(e.getKey(), e.getValue().asText());
                    });
                    steps.add(new Env(vars));
                } else if (s.has("workdir")) {
                    steps.add(new Workdir(requireText(s, "workdir", where)));
                } else if (s.has("user")) {
                    steps.add(new User(requireText(s, "user", where)));
                } else {
                    throw new IllegalArgumentException(where + " must be one of {run}, {env}, {workdir}, {user}");
                }
            }
        }
        return new BuildSpec(from.trim(), steps, optional(b, "start_cmd"), optional(b, "ready_cmd"));
    }

    private static String text(JsonNode s, String field, String where) {
        JsonNode n = s.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual() || n.asText().isBlank()) throw new IllegalArgumentException(where + "." + field + " must be a non-empty string");
        return n.asText();
    }

    private static String requireText(JsonNode s, String field, String where) {
        String v = text(s, field, where);
        if (v == null) throw new IllegalArgumentException(where + "." + field + " is required");
        return v;
    }

    private static String optional(JsonNode b, String field) {
        JsonNode n = b.get(field);
        return n == null || n.isNull() || n.asText().isBlank() ? null : n.asText();
    }
}
