package dev.cella.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Command-line options of the form {@code --name value}, some repeatable; an unknown one stops the program. */
record Options(String command, Map<String, List<String>> values) {

    static Options parse(String command, String[] args, Set<String> known) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || !known.contains(a.substring(2))) usage(command, "unknown option " + a + " (known: --" + String.join(", --", known) + ")");
            if (i + 1 >= args.length) usage(command, "option " + a + " needs a value");
            values.computeIfAbsent(a.substring(2), k -> new ArrayList<>()).add(args[++i]);
        }
        return new Options(command, values);
    }

    String get(String name, String fallback) {
        List<String> v = values.get(name);
        return v == null ? fallback : v.getLast();
    }

    String require(String name) {
        String v = get(name, null);
        if (v == null) usage(command, "--" + name + " is required");
        return v;
    }

    List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }

    int integer(String name, int fallback) {
        String v = get(name, null);
        if (v == null) return fallback;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            usage(command, "--" + name + " must be a number, not " + v);
            return fallback;
        }
    }

    static void usage(String command, String problem) {
        System.err.println(command + ": " + problem);
        System.exit(2);
    }
}
