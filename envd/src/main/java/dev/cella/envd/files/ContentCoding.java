package dev.cella.envd.files;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Chooses the response coding of a download from {@code Accept-Encoding} (q-values and
 * {@code *} honoured): gzip when acceptable, else identity, else none (406).
 */
enum ContentCoding {
    GZIP, IDENTITY;

    /** The coding to answer with, or null when neither gzip nor identity is acceptable. */
    static ContentCoding negotiate(String acceptEncoding) {
        if (acceptEncoding == null || acceptEncoding.isBlank()) return IDENTITY;
        Map<String, Double> q = new HashMap<>();
        for (String part : acceptEncoding.split(",")) {
            String[] f = part.trim().split(";");
            String coding = f[0].trim().toLowerCase(Locale.ROOT);
            if (coding.isEmpty()) continue;
            double weight = 1.0;
            for (int i = 1; i < f.length; i++) {
                String p = f[i].trim();
                if (p.startsWith("q=")) {
                    try {
                        weight = Double.parseDouble(p.substring(2));
                    } catch (NumberFormatException e) {
                        weight = 0;
                    }
                }
            }
            q.put(coding, weight);
        }
        Double star = q.get("*");
        double gzip = q.getOrDefault("gzip", star != null ? star : 0.0);
        double identity = q.getOrDefault("identity", star != null ? star : 1.0);
        if (gzip > 0 && gzip >= identity) return GZIP;
        if (identity > 0) return IDENTITY;
        return gzip > 0 ? GZIP : null;
    }
}
