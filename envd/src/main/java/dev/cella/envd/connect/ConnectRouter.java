package dev.cella.envd.connect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.cella.envd.user.UserAccount;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Serves Connect RPCs over HTTP/1.1 with the JSON codec: unary calls as
 * {@code application/json}, server streams as {@code application/connect+json}
 * envelopes. Only what the E2B SDK uses; no compression, no gRPC.
 */
public final class ConnectRouter {
    /** A unary method: request message in, response message out. */
    public interface Unary { ObjectNode call(RpcCall call); }

    /** A server-streaming method: writes messages until done; a thrown ConnectException ends the stream with it. */
    public interface ServerStream { void call(RpcCall call, StreamWriter out); }

    private static final int MAX_REQUEST_BYTES = 16 * 1024 * 1024;
    private static final long DEFAULT_KEEPALIVE_MS = 90_000;

    private final ObjectMapper json;
    private final Map<String, Unary> unary = new HashMap<>();
    private final Map<String, ServerStream> streams = new HashMap<>();

    public ConnectRouter(ObjectMapper json) {
        this.json = json;
    }

    public ConnectRouter unary(String path, Unary method) { unary.put(path, method); return this; }
    public ConnectRouter stream(String path, ServerStream method) { streams.put(path, method); return this; }

    public boolean handles(String path) {
        return unary.containsKey(path) || streams.containsKey(path);
    }

    /**
     * Serves one call; {@code userOf} turns the request into the acting user (or throws).
     * Errors found before the method runs reach the client in the method's own form: a
     * stream always answers 200 and carries the error in its end envelope.
     */
    public void serve(HttpExchange ex, Function<HttpExchange, UserAccount> userOf) throws IOException {
        String path = ex.getRequestURI().getPath();
        if (!"POST".equals(ex.getRequestMethod())) {
            unaryError(ex, new ConnectException(ConnectCode.UNIMPLEMENTED, "method must be POST"));
            return;
        }
        long deadline = 0;
        ConnectException badHeader = null;
        String timeout = ex.getRequestHeaders().getFirst("Connect-Timeout-Ms");
        if (timeout != null) {
            try {
                long ms = Long.parseLong(timeout.trim());
                if (ms > 0) deadline = System.nanoTime() + ms * 1_000_000;
            } catch (NumberFormatException e) {
                badHeader = ConnectException.invalid("Connect-Timeout-Ms must be a number of milliseconds");
            }
        }
        long keepalive = DEFAULT_KEEPALIVE_MS;
        String ping = ex.getRequestHeaders().getFirst("Keepalive-Ping-Interval");
        if (ping != null) {
            try {
                keepalive = Math.clamp(Long.parseLong(ping.trim()) * 1000, 1000, DEFAULT_KEEPALIVE_MS);
            } catch (NumberFormatException ignored) {
                // keep the default
            }
        }
        ConnectException rejected = badHeader;
        Function<HttpExchange, UserAccount> user = e -> {
            if (rejected != null) throw rejected;
            return userOf.apply(e);
        };
        ServerStream stream = streams.get(path);
        if (stream != null) {
            serveStream(ex, stream, user, deadline, keepalive);
        } else {
            serveUnary(ex, unary.get(path), user, deadline, keepalive);
        }
    }

    private void serveUnary(HttpExchange ex, Unary method, Function<HttpExchange, UserAccount> userOf,
                            long deadline, long keepalive) throws IOException {
        ObjectNode response;
        try {
            JsonNode request = parse(readLimited(ex.getRequestBody()));
            UserAccount user = userOf.apply(ex);
            response = method.call(new RpcCall(request, user, deadline, keepalive));
        } catch (ConnectException e) {
            unaryError(ex, e);
            return;
        } catch (RuntimeException e) {
            unaryError(ex, ConnectException.internal(String.valueOf(e.getMessage())));
            return;
        }
        byte[] body = json.writeValueAsBytes(response);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private void serveStream(HttpExchange ex, ServerStream method, Function<HttpExchange, UserAccount> userOf,
                             long deadline, long keepalive) throws IOException {
        JsonNode request = null;
        UserAccount user = null;
        ConnectException early = null;
        try {
            request = parse(readEnvelope(ex.getRequestBody()));
            user = userOf.apply(ex);
        } catch (ConnectException e) {
            early = e;
        }
        ex.getResponseHeaders().set("Content-Type", "application/connect+json");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            StreamWriter writer = new StreamWriter(out, json);
            if (early != null) {
                writer.end(early);
                return;
            }
            try {
                method.call(new RpcCall(request, user, deadline, keepalive), writer);
                writer.end(null);
            } catch (ConnectException e) {
                writer.end(e);
            } catch (RuntimeException e) {
                writer.end(ConnectException.internal(String.valueOf(e.getMessage())));
            }
        }
    }

    private JsonNode parse(byte[] body) {
        if (body.length == 0) return json.createObjectNode();
        try {
            JsonNode n = json.readTree(body);
            if (n == null || !n.isObject()) throw ConnectException.invalid("request must be a JSON object");
            return n;
        } catch (IOException e) {
            throw ConnectException.invalid("request is not valid JSON: " + e.getMessage());
        }
    }

    private static byte[] readLimited(InputStream in) throws IOException {
        byte[] body = in.readNBytes(MAX_REQUEST_BYTES + 1);
        if (body.length > MAX_REQUEST_BYTES) throw new ConnectException(ConnectCode.RESOURCE_EXHAUSTED, "request too large");
        return body;
    }

    /** Reads the single envelope of a server-stream request. */
    private static byte[] readEnvelope(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        try {
            int flags = data.readUnsignedByte();
            int length = data.readInt();
            if ((flags & 0x01) != 0) throw ConnectException.invalid("compressed messages are not supported");
            if (length < 0 || length > MAX_REQUEST_BYTES) throw new ConnectException(ConnectCode.RESOURCE_EXHAUSTED, "request too large");
            byte[] body = new byte[length];
            data.readFully(body);
            return body;
        } catch (EOFException e) {
            throw ConnectException.invalid("stream request must be one Connect envelope");
        }
    }

    public void unaryError(HttpExchange ex, ConnectException e) throws IOException {
        ObjectNode err = json.createObjectNode().put("code", e.code.wire).put("message", e.getMessage());
        byte[] body = json.writeValueAsBytes(err);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(e.code.httpStatus, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }
}
