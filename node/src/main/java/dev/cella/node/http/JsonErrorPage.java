package dev.cella.node.http;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * What Jetty answers itself, before any route sees the request (a path that does not parse,
 * such as {@code /..} or {@code /%}, a header too large): the APIs' JSON error shape
 * ({@code {"code": status, "message": ...}}) instead of Jetty's HTML page, no body to a HEAD,
 * and the connection closed after it. A request Jetty could not parse reaches here as a
 * stand-in GET of {@code /badMessage} (its method is lost with its line), so a HEAD may get
 * the body; with {@code Connection: close} the client cannot read that body as the start of
 * its next answer, which is how Jetty's page broke a reused connection before.
 */
final class JsonErrorPage extends ErrorHandler {
    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause, Callback callback) {
        String text = message == null || message.isBlank() ? HttpStatus.getMessage(code) : message;
        byte[] body = ("{\"code\":" + code + ",\"message\":\"" + escape(text) + "\"}").getBytes(StandardCharsets.UTF_8);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        if (HttpMethod.HEAD.is(request.getMethod())) {
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0);
            response.write(true, null, callback);
            return;
        }
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    /** A message is Jetty's own short reason: quotes, backslashes and control characters are all it could carry that JSON minds. */
    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.toString();
    }
}
