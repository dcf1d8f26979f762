package dev.cella.server.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile read into a {@link BuildSpec} (the Lelantos dialect's front end): FROM,
 * RUN, ENV, WORKDIR, USER, ARG (substituted in what follows), and CMD or ENTRYPOINT as the
 * sandbox's start command. Comments and line continuations as Docker reads them.
 */
public final class Dockerfile {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}|\\$([A-Za-z_][A-Za-z0-9_]*)");

    private Dockerfile() {}

    public static BuildSpec parse(String text) {
        return parse(text, null);
    }

    /** With {@code contextHash}, the uploaded build context COPY and ADD take their files from. */
    public static BuildSpec parse(String text, String contextHash) {
        List<String> lines = logicalLines(text);
        String from = null, start = null, entrypoint = null;
        List<BuildSpec.Step> steps = new ArrayList<>();
        Map<String, String> args = new LinkedHashMap<>(), env = new LinkedHashMap<>();
        int n = 0;
        for (String line : lines) {
            n++;
            int sp = line.indexOf(' ');
            String op = (sp < 0 ? line : line.substring(0, sp)).toUpperCase(Locale.ROOT);
            String rest = sp < 0 ? "" : line.substring(sp + 1).trim();
            Map<String, String> vars = new LinkedHashMap<>(args);
            vars.putAll(env);
            if (!op.equals("RUN") && !op.equals("CMD") && !op.equals("ENTRYPOINT")) rest = substitute(rest, vars);
            switch (op) {
                case "FROM" -> {
                    if (from != null) throw new IllegalArgumentException("line " + n + ": one FROM only (multi-stage builds are not supported)");
                    String[] parts = rest.split("\\s+");
                    if (parts[0].isEmpty()) throw new IllegalArgumentException("line " + n + ": FROM needs a template or image");
                    from = parts[0];
                }
                case "ARG" -> {
                    int eq = rest.indexOf('=');
                    if (eq < 0) args.putIfAbsent(rest, "");
                    else args.put(rest.substring(0, eq).trim(), unquote(rest.substring(eq + 1).trim()));
                }
                case "RUN" -> {
                    if (rest.isEmpty()) throw new IllegalArgumentException("line " + n + ": RUN needs a command");
                    steps.add(new BuildSpec.Run(shellForm(rest), null, null));
                }
                case "ENV" -> {
                    Map<String, String> vs = keyValues(rest, n);
                    env.putAll(vs);
                    steps.add(new BuildSpec.Env(vs));
                }
                case "WORKDIR" -> steps.add(new BuildSpec.Workdir(rest));
                case "USER" -> steps.add(new BuildSpec.User(rest.split(":")[0]));
                case "CMD" -> start = shellForm(rest);
                case "ENTRYPOINT" -> entrypoint = shellForm(rest);
                case "COPY", "ADD" -> {
                    if (contextHash == null) {
                        throw new IllegalArgumentException("line " + n + ": " + op + " needs a build context: send the Dockerfile as multipart"
                                + " with a 'context' tar");
                    }
                    List<String> words = new ArrayList<>();
                    String chown = null;
                    for (String w : (rest.startsWith("[") ? shellWords(rest) : List.of(rest.split("\\s+")))) {
                        if (w.startsWith("--chown=")) chown = w.substring(8).split(":")[0];
                        else if (w.startsWith("--")) throw new IllegalArgumentException("line " + n + ": " + op + " option " + w + " is not supported");
                        else words.add(w);
                    }
                    if (words.size() < 2) throw new IllegalArgumentException("line " + n + ": " + op + " needs a source and a destination");
                    String dest = words.getLast();
                    for (String src : words.subList(0, words.size() - 1)) {
                        if (src.startsWith("/") || src.contains("..") || src.matches("https?://.*")) {
                            throw new IllegalArgumentException("line " + n + ": " + op + " takes paths inside the build context: " + src);
                        }
                        steps.add(new BuildSpec.Copy(contextHash, src.equals(".") ? "" : src, words.size() > 2 && !dest.endsWith("/") ? dest + "/" : dest, chown, null));
                    }
                }
                case "LABEL", "EXPOSE", "MAINTAINER", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "VOLUME", "ONBUILD" -> { } // no meaning for a sandbox
                default -> throw new IllegalArgumentException("line " + n + ": unknown instruction " + op);
            }
            if (from == null && !op.equals("ARG") && !op.equals("FROM")) throw new IllegalArgumentException("line " + n + ": the first instruction must be FROM");
        }
        if (from == null) throw new IllegalArgumentException("the Dockerfile has no FROM");
        String startCmd = entrypoint != null ? (start != null ? entrypoint + " " + start : entrypoint) : start;
        return new BuildSpec(from, steps, startCmd, null);
    }

    /** Joins continued lines, drops comments and blank lines. */
    static List<String> logicalLines(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String raw : text.split("\r?\n")) {
            String line = raw.strip();
            if (cur.isEmpty() && (line.isEmpty() || line.startsWith("#"))) continue;
            if (!cur.isEmpty() && line.startsWith("#")) continue;
            if (line.endsWith("\\")) {
                cur.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            cur.append(line);
            if (!cur.toString().isBlank()) out.add(cur.toString().strip());
            cur.setLength(0);
        }
        if (!cur.toString().isBlank()) out.add(cur.toString().strip());
        return out;
    }

    private static List<String> shellWords(String json) {
        List<String> out = new ArrayList<>();
        try {
            JSON.readTree(json).forEach(w -> out.add(w.asText()));
        } catch (IOException e) {
            throw new IllegalArgumentException("not a JSON array: " + json);
        }
        return out;
    }

    /** The exec form ["a","b"] as a shell command (each word quoted), or the shell form as it is. */
    static String shellForm(String rest) {
        if (!rest.startsWith("[")) return rest;
        try {
            JsonNode arr = JSON.readTree(rest);
            List<String> words = new ArrayList<>();
            for (JsonNode w : arr) words.add("'" + w.asText().replace("'", "'\\''") + "'");
            return String.join(" ", words);
        } catch (IOException e) {
            return rest; // not JSON: Docker runs it in a shell too
        }
    }

    private static Map<String, String> keyValues(String rest, int n) {
        Map<String, String> out = new LinkedHashMap<>();
        if (!rest.contains("=")) { // ENV key value
            int sp = rest.indexOf(' ');
            if (sp < 0) throw new IllegalArgumentException("line " + n + ": ENV needs a value");
            out.put(rest.substring(0, sp), rest.substring(sp + 1).trim());
            return out;
        }
        Matcher m = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"(?:[^\"\\\\]|\\\\.)*\"|'[^']*'|\\S*)").matcher(rest);
        while (m.find()) out.put(m.group(1), unquote(m.group(2)));
        if (out.isEmpty()) throw new IllegalArgumentException("line " + n + ": ENV takes KEY=value pairs");
        return out;
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
            return v.substring(1, v.length() - 1).replace("\\\"", "\"");
        }
        return v;
    }

    static String substitute(String s, Map<String, String> vars) {
        Matcher m = VAR.matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(4);
            String value = vars.get(name);
            if ((value == null || value.isEmpty()) && m.group(3) != null) value = m.group(3);
            m.appendReplacement(out, Matcher.quoteReplacement(value == null ? "" : value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
