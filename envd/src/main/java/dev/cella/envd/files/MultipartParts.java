package dev.cella.envd.files;

import org.apache.commons.fileupload2.core.MultipartInput;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The small parts of reading a multipart/form-data body that commons-fileupload's stream API leaves to its caller. */
public final class MultipartParts {
    private MultipartParts() {}

    /** One part: its field name, its file name (null for a plain field), its bytes as they arrive. */
    @FunctionalInterface
    public interface PartReader {
        void read(String field, String filename, InputStream body) throws IOException;
    }

    /**
     * Reads a multipart body part by part, in order, as it arrives: what the reader leaves
     * unread of a part is skipped. A reader that throws stops the reading at once (nothing
     * more of the body is read). Malformed input throws commons-fileupload's FileUploadException.
     */
    public static void read(InputStream body, String boundary, int maxPartHeader, PartReader reader) throws IOException {
        MultipartInput in = MultipartInput.builder().setInputStream(body).setBoundary(boundary.getBytes(StandardCharsets.ISO_8859_1))
                .setMaxPartHeaderSize(maxPartHeader).get();
        boolean more = in.skipPreamble();
        while (more) {
            String disposition = headers(in.readHeaders()).getOrDefault("content-disposition", "");
            InputStream part = in.newInputStream();
            reader.read(dispositionParam(disposition, "name"), dispositionParam(disposition, "filename"), part);
            part.close(); // skips the rest of the part
            more = in.readBoundary();
        }
    }

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
