package dev.cella.envd.http;

/** A failure of one of envd's plain HTTP endpoints, answered as {@code {"code": status, "message": ...}}. */
public final class HttpError extends RuntimeException {
    public final int status;

    public HttpError(int status, String message) {
        super(message);
        this.status = status;
    }

    public static HttpError badRequest(String m) { return new HttpError(400, m); }
    public static HttpError unauthorized(String m) { return new HttpError(401, m); }
    public static HttpError notFound(String m) { return new HttpError(404, m); }
}
