package dev.cella.server.template;

import java.util.Locale;

/**
 * Whether a team's template can start sandboxes: {@code WAITING} for the steps of its
 * first build (E2B's flow creates the template, then asks for a build), {@code BUILDING}
 * its first build, {@code READY}, or {@code FAILED} when its first build did not make it.
 * A template that built once stays {@code READY} whatever later builds do (they have
 * statuses of their own, {@link BuildStatus}). Stored lowercase in {@code templates.status}.
 */
public enum TemplateStatus {
    WAITING, BUILDING, READY, FAILED;

    public String db() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static TemplateStatus of(String db) {
        return valueOf(db.toUpperCase(Locale.ROOT));
    }

    /** Superserve's template status: building, ready or failed (a template waiting for its steps is building). */
    public String superserve() {
        return switch (this) {
            case WAITING, BUILDING -> "building";
            case READY -> "ready";
            case FAILED -> "failed";
        };
    }

    /** A template's status once a build of it ended: ready if any build made it a layer, else what this build came to. */
    public static TemplateStatus afterBuild(BuildStatus ended, boolean hasLayer) {
        if (!ended.finished()) throw new IllegalArgumentException("build status " + ended + " has not ended");
        return hasLayer || ended == BuildStatus.READY ? READY : FAILED;
    }
}
