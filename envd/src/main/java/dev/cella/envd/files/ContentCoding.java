package dev.cella.envd.files;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Chooses the response coding of a download from {@code Accept-Encoding} (q-values and
 * {@code *} honoured).
 *
 * <p>gzip is chosen only when the client asks for it explicitly: it names gzip as the one
 * coding it wants ({@code gzip}, what the E2B SDKs send for {@code gzip: true}), prefers
 * gzip to an identity it names with a lower q, or refuses identity. The list an HTTP
 * client sends by itself ({@code gzip, deflate} from Node's fetch and Python's httpx,
 * {@code gzip, deflate, br, zstd} from browsers, {@code *}) only says what it can decode:
 * identity stays acceptable, so the file goes as it is stored, at disk speed. Compressing
 * a file costs envd's CPU and, for incompressible data, gains nothing.
 */
enum ContentCoding {
    /** The file as it is stored. */
    IDENTITY,
    /** gzip asked for, identity acceptable too: gzip when it makes the body clearly smaller, else identity. */
    GZIP_IF_SMALLER,
    /** Identity refused: gzip whatever the data. */
    GZIP;

    /** The coding to answer with, or null when neither gzip nor identity is acceptable (406). */
    static ContentCoding negotiate(String acceptEncoding) {
        if (acceptEncoding == null || acceptEncoding.isBlank()) return IDENTITY;
        Map<String, Double> q = new HashMap<>();
        for (String part : acceptEncoding.split(",")) {
            String[] f = part.trim().split(";");
            String coding = f[0].trim().toLowerCase(Locale.ROOT);
            if (coding.isEmpty()) continue;
            if (coding.equals("x-gzip")) coding = "gzip"; // RFC 9110 8.4.1.3
            double weight = 1.0;
            for (int i = 1; i < f.length; i++) {
                String p = f[i].trim().toLowerCase(Locale.ROOT);
                if (p.startsWith("q=")) {
                    try {
                        weight = Double.parseDouble(p.substring(2).trim());
                    } catch (NumberFormatException e) {
                        weight = 0;
                    }
                }
            }
            q.merge(coding, weight, Math::max);
        }
        Double star = q.get("*");
        double gzip = q.getOrDefault("gzip", star != null ? star : 0.0);
        // identity is acceptable unless refused by name, or by *;q=0 without naming it (RFC 9110 12.5.3)
        double identity = q.getOrDefault("identity", star != null && star == 0 ? 0.0 : 1.0);
        if (identity <= 0) return gzip > 0 ? GZIP : null;
        if (!q.containsKey("gzip") || gzip <= 0) return IDENTITY;
        boolean others = q.entrySet().stream().anyMatch(e -> e.getValue() > 0
                && !e.getKey().equals("gzip") && !e.getKey().equals("identity"));
        boolean gzipAlone = !others && (!q.containsKey("identity") || gzip >= identity);
        boolean gzipPreferred = q.containsKey("identity") && gzip > identity;
        return gzipAlone || gzipPreferred ? GZIP_IF_SMALLER : IDENTITY;
    }
}
