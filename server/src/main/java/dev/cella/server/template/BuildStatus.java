package dev.cella.server.template;

import java.util.Locale;

/**
 * Where a template build is: {@code WAITING} for its steps (E2B's flow asks for a build
 * first), {@code BUILDING}, then one of the three ends. Stored in {@code template_builds}
 * as the lowercase name.
 */
public enum BuildStatus {
    WAITING, BUILDING, READY, FAILED, CANCELLED;

    /** As the table stores it, and as the APIs show it before a dialect maps it. */
    public String db() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static BuildStatus of(String db) {
        return valueOf(db.toUpperCase(Locale.ROOT));
    }

    public boolean finished() {
        return this == READY || this == FAILED || this == CANCELLED;
    }

    /** E2B's TemplateBuild status: waiting, building, ready or error. */
    public String e2b() {
        return switch (this) {
            case WAITING -> "waiting";
            case BUILDING -> "building";
            case READY -> "ready";
            case FAILED, CANCELLED -> "error";
        };
    }

    /** Superserve's build status: building, ready or failed. */
    public String superserve() {
        return switch (this) {
            case READY -> "ready";
            case FAILED, CANCELLED -> "failed";
            case WAITING, BUILDING -> "building";
        };
    }
}
