package dev.cella.node.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The command line of every Cella process: options {@code --name value} (or
 * {@code --name=value}), some repeatable. Strict: an unknown option, a missing value, a
 * number that is not one or is out of range, a malformed {@code HOST:PORT} or
 * {@code ID=VALUE} is an {@link Invalid} with a message for the user, never a stack trace
 * or a silently taken default.
 */
public record Options(String command, Map<String, List<String>> values) {

    /** What is wrong with a command line, said for the user; the process prints it and exits 2. */
    public static final class Invalid extends RuntimeException {
        public Invalid(String command, String problem) {
            super(command + ": " + problem);
        }
    }

    /** A listening address. */
    public record HostPort(String host, int port) {}

    public static Options parse(String command, String[] args, Set<String> known) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new Invalid(command, "unexpected argument '" + a + "' (options are --name value)");
            int eq = a.indexOf('=');
            String name = a.substring(2, eq < 0 ? a.length() : eq);
            if (!known.contains(name)) {
                throw new Invalid(command, "unknown option --" + name + " (known: --" + String.join(", --", new TreeSet<>(known)) + ")");
            }
            String value;
            if (eq >= 0) {
                value = a.substring(eq + 1);
            } else {
                if (i + 1 >= args.length || args[i + 1].startsWith("--")) throw new Invalid(command, "option --" + name + " needs a value");
                value = args[++i];
            }
            values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return new Options(command, values);
    }

    /** Prints a command line's problem and ends the process as a usage error does (exit 2). */
    public static void exitWith(Invalid problem) {
        System.err.println(problem.getMessage());
        System.exit(2);
    }

    public Invalid invalid(String problem) {
        return new Invalid(command, problem);
    }

    /** The last value given, or the fallback. */
    public String get(String name, String fallback) {
        List<String> v = values.get(name);
        return v == null ? fallback : v.getLast();
    }

    public String require(String name) {
        String v = get(name, null);
        if (v == null) throw invalid("--" + name + " is required");
        return v;
    }

    public Path path(String name, Path fallback) {
        String v = get(name, null);
        return v == null ? fallback : Path.of(v);
    }

    public List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }

    /** A whole number in [min, max]. */
    public int integer(String name, int fallback, int min, int max) {
        String v = get(name, null);
        if (v == null) return fallback;
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw invalid("--" + name + " takes a number, not '" + v + "'");
        }
        if (n < min || n > max) throw invalid("--" + name + " takes a number from " + min + " to " + max + ", not " + n);
        return n;
    }

    /** {@code HOST:PORT} (an IPv6 host in brackets), the port in 0..65535 (0: any free one). */
    public HostPort hostPort(String name, HostPort fallback) {
        String v = get(name, null);
        if (v == null) return fallback;
        int colon = v.lastIndexOf(':');
        String host = colon < 0 ? "" : v.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        String port = colon < 0 ? "" : v.substring(colon + 1);
        if (host.isBlank() || !port.matches("\\d{1,5}") || Integer.parseInt(port) > 65535) {
            throw invalid("--" + name + " takes HOST:PORT (such as 127.0.0.1:7301), not '" + v + "'");
        }
        return new HostPort(host, Integer.parseInt(port));
    }

    /** The repeatable {@code --name ID=VALUE}, by id; {@code what} names the value in the message. */
    public Map<String, String> assignments(String name, String what) {
        Map<String, String> byId = new LinkedHashMap<>();
        for (String a : all(name)) {
            int eq = a.indexOf('=');
            if (eq < 1 || eq == a.length() - 1) throw invalid("--" + name + " takes ID=" + what + ", not '" + a + "'");
            byId.put(a.substring(0, eq), a.substring(eq + 1));
        }
        return byId;
    }

    /** As {@link #assignments}, each value a whole number in [min, max]. */
    public Map<String, Integer> numberedAssignments(String name, int min, int max) {
        Map<String, Integer> byId = new LinkedHashMap<>();
        assignments(name, "N").forEach((id, v) -> {
            if (!v.matches("\\d{1,9}") || Integer.parseInt(v) < min || Integer.parseInt(v) > max) {
                throw invalid("--" + name + " takes ID=N with N from " + min + " to " + max + ", not '" + id + "=" + v + "'");
            }
            byId.put(id, Integer.parseInt(v));
        });
        return byId;
    }
}
