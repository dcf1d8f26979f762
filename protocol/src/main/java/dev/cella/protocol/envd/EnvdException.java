package dev.cella.protocol.envd;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;

/**
 * What envd answered when it refused a call: its HTTP status, its Connect error code
 * ({@code not_found}, {@code invalid_argument}, ...; empty for a plain HTTP error such as
 * one of {@code /files}) and its message.
 */
public final class EnvdException extends IOException {
    private final int status;
    private final String code;

    public EnvdException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    static EnvdException of(int status, JsonNode body, String text) {
        return new EnvdException(status, body.path("code").asText(""), body.path("message").asText(text));
    }

    /** The HTTP status Connect gives an error code (connectrpc.com/docs/protocol#error-codes). */
    static int statusOf(String code) {
        return switch (code) {
            case "invalid_argument", "failed_precondition", "out_of_range" -> 400;
            case "unauthenticated" -> 401;
            case "permission_denied" -> 403;
            case "not_found" -> 404;
            case "already_exists", "aborted" -> 409;
            case "resource_exhausted" -> 429;
            case "canceled" -> 499;
            case "unimplemented" -> 501;
            case "unavailable" -> 503;
            case "deadline_exceeded" -> 504;
            default -> 500;
        };
    }
}
