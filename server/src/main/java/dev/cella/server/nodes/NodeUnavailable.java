package dev.cella.server.nodes;

/** The node hosting a sandbox cannot be reached (or failed): answered 503, and nothing is forgotten. */
public final class NodeUnavailable extends RuntimeException {
    public NodeUnavailable(String message, Throwable cause) {
        super(message, cause);
    }
}
