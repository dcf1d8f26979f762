package dev.cella.node.problem;

/**
 * Why the domain cannot do what was asked: one small family, thrown by the node and the
 * server alike, and turned into an answer in one place per dialect (the E2B API, the
 * native API, the node API), each in its own error shape. Domain code never speaks HTTP.
 */
public abstract sealed class Problem extends RuntimeException {
    Problem(String message, Throwable cause) {
        super(message, cause);
    }

    /** Nothing by that name, or not for this caller (another team's objects are not found either). */
    public static final class NotFound extends Problem {
        public NotFound(String message) {
            super(message, null);
        }
    }

    public static NotFound sandboxNotFound(String id) {
        return new NotFound("sandbox " + id + " not found");
    }

    /**
     * It exists, but its state does not allow this now: {@code conflict} (already exists,
     * already paused) or a finer {@code code} the API documents ({@code invalid_state}: not
     * running, no finished build yet).
     */
    public static final class Conflict extends Problem {
        private final String code;

        public Conflict(String message) {
            this("conflict", message);
        }

        public Conflict(String code, String message) {
            super(message, null);
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /** Not in the state this needs (not running, not paused, not built yet): 409 {@code invalid_state}. */
    public static Conflict invalidState(String message) {
        return new Conflict("invalid_state", message);
    }

    /** What was asked is malformed or out of range: the caller's to fix. */
    public static final class Invalid extends Problem {
        public Invalid(String message) {
            super(message, null);
        }
    }

    /** The caller may see it but not do this (a member's role, a sandbox user's permissions). */
    public static final class Forbidden extends Problem {
        public Forbidden(String message) {
            super(message, null);
        }
    }

    /**
     * Not now: a start queue is full, or a create waited too long for its turn. Clients
     * (the E2B SDK among them) retry after {@link #retryAfterSeconds()} by themselves.
     */
    public static final class Busy extends Problem {
        private final long retryAfterSeconds;

        public Busy(String message, long retryAfterSeconds) {
            super(message, null);
            this.retryAfterSeconds = Math.max(1, retryAfterSeconds);
        }

        public long retryAfterSeconds() {
            return retryAfterSeconds;
        }
    }

    /** Out of room: the sandbox's disk is full, a quota is reached. */
    public static final class NoSpace extends Problem {
        public NoSpace(String message) {
            super(message, null);
        }
    }

    /** A part of Cella that should answer does not (a node that cannot be reached): nothing is forgotten. */
    public static final class Unavailable extends Problem {
        public Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Something Cella relies on failed while doing what was asked: a sandbox's envd, a
     * registry, a template's start command. {@code code} says what, for the API's answer.
     */
    public static final class Upstream extends Problem {
        private final String code;

        public Upstream(String code, String message) {
            super(message, null);
            this.code = code;
        }

        public String code() {
            return code;
        }
    }
}
