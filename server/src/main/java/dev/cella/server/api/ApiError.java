package dev.cella.server.api;

/**
 * A request that cannot be answered as asked, with its HTTP status and a short code. Each
 * dialect writes it its own way: E2B's {@code {code: status, message}}, the native API's
 * {@code {error: {code, message}}}.
 */
public class ApiError extends RuntimeException {
    private final int status;
    private final String code;

    public ApiError(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public int status() { return status; }

    public String code() { return code; }

    public static ApiError badRequest(String message) { return new ApiError(400, "invalid_request", message); }

    public static ApiError unauthorized(String message) { return new ApiError(401, "unauthorized", message); }

    public static ApiError forbidden(String message) { return new ApiError(403, "forbidden", message); }

    public static ApiError notFound(String message) { return new ApiError(404, "not_found", message); }

    public static ApiError conflict(String message) { return new ApiError(409, "conflict", message); }
}
