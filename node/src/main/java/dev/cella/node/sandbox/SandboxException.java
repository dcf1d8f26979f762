package dev.cella.node.sandbox;

/** A lifecycle request that cannot be done: the sandbox is unknown, or not in a state that allows it. */
public sealed class SandboxException extends RuntimeException {
    SandboxException(String message) {
        super(message);
    }

    public static final class NotFound extends SandboxException {
        public NotFound(String id) {
            super("sandbox " + id + " not found");
        }
    }

    public static final class Conflict extends SandboxException {
        public Conflict(String message) {
            super(message);
        }
    }
}
