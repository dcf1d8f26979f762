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

    /**
     * The node cannot start another sandbox now: its start queue is full, or the create
     * waited too long for a turn. Answered as 429 with {@code Retry-After}, which clients
     * (the E2B SDK among them) retry by themselves.
     */
    public static final class Busy extends SandboxException {
        private final long retryAfterSeconds;

        public Busy(String message, long retryAfterSeconds) {
            super(message);
            this.retryAfterSeconds = Math.max(1, retryAfterSeconds);
        }

        public long retryAfterSeconds() {
            return retryAfterSeconds;
        }
    }

    public static final class Conflict extends SandboxException {
        public Conflict(String message) {
            super(message);
        }
    }
}
