package dev.cella.envd.files;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The small parts of reading a multipart/form-data body that commons-fileupload's stream API leaves to its caller. */
public final class MultipartParts {
    private MultipartParts() {}

    /** The boundary of a multipart Content-Type (quotes removed); empty when it has none. */
    public static Optional<String> boundary(String contentType) {
        if (contentType == null) return Optional.empty();
        for (String p : contentType.split(";")) {
            String t = p.trim();
            if (t.toLowerCase(Locale.ROOT).startsWith("boundary=")) {
                String b = t.substring(9);
                if (b.startsWith("\"") && b.endsWith("\"") && b.length() >= 2) b = b.substring(1, b.length() - 1);
                if (!b.isEmpty()) return Optional.of(b);
            }
        }
        return Optional.empty();
    }

    /** A part's headers, names in lower case. */
    public static Map<String, String> headers(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : raw.split("\r\n")) {
            int c = line.indexOf(':');
            if (c > 0) out.put(line.substring(0, c).trim().toLowerCase(Locale.ROOT), line.substring(c + 1).trim());
        }
        return out;
    }

    /** A parameter of a Content-Disposition header ({@code name}, {@code filename}), unquoted; null when absent. */
    public static String dispositionParam(String disposition, String param) {
        for (String p : disposition.split(";")) {
            String t = p.trim();
            int eq = t.indexOf('=');
            if (eq < 0 || !t.substring(0, eq).trim().equalsIgnoreCase(param)) continue;
            String v = t.substring(eq + 1).trim();
            if (v.startsWith("\"") && v.endsWith("\"") && v.length() >= 2) v = v.substring(1, v.length() - 1).replace("\\\"", "\"");
            return v;
        }
        return null;
    }
}
