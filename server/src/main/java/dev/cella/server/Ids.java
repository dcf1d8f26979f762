package dev.cella.server;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Random names and secrets, from one SecureRandom: ids of lowercase letters and digits, hex tokens. */
public final class Ids {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";

    private Ids() {}

    /** {@code n} lowercase letters and digits (sandbox ids: no '-', which host-name routing splits on). */
    public static String id(int n) {
        StringBuilder s = new StringBuilder(n);
        for (int i = 0; i < n; i++) s.append(CHARS.charAt(RANDOM.nextInt(CHARS.length())));
        return s.toString();
    }

    /** {@code bytes} random bytes as hex. */
    public static String hex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
