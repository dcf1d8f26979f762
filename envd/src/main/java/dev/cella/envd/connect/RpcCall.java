package dev.cella.envd.connect;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cella.envd.user.UserAccount;

/**
 * One RPC as a service sees it: the request message, the user it acts as, and its
 * deadline ({@code Connect-Timeout-Ms}; 0 when none) and keepalive interval.
 */
public record RpcCall(JsonNode request, UserAccount user, long deadlineNanos, long keepaliveMillis) {

    public boolean hasDeadline() {
        return deadlineNanos != 0;
    }

    /** Milliseconds left before the deadline; Long.MAX_VALUE without one. */
    public long millisLeft() {
        if (deadlineNanos == 0) return Long.MAX_VALUE;
        return Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000);
    }

    /** A string field under its proto JSON name or its original snake_case name. */
    public String text(String camel, String snake) {
        JsonNode n = request.has(camel) ? request.get(camel) : request.get(snake);
        return n == null || n.isNull() ? null : n.asText();
    }

    public JsonNode node(String camel, String snake) {
        JsonNode n = request.has(camel) ? request.get(camel) : request.get(snake);
        return n == null || n.isNull() ? null : n;
    }
}
