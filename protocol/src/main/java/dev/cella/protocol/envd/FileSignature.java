package dev.cella.protocol.envd;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * E2B's signed file URLs: {@code v1_ + base64(sha256("path:operation:user:token[:expiration]"))}
 * without padding. The user is the {@code username} query value as sent (empty when absent).
 */
public final class FileSignature {
    private FileSignature() {}

    public static String sign(String path, String operation, String user, String token, Long expiration) {
        String raw = path + ":" + operation + ":" + (user == null ? "" : user) + ":" + token
                + (expiration == null ? "" : ":" + expiration);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(raw.getBytes(StandardCharsets.UTF_8));
            return "v1_" + Base64.getEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Constant-time comparison of a presented signature with the expected one. */
    public static boolean matches(String presented, String expected) {
        return presented != null && MessageDigest.isEqual(
                presented.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
    }
}
