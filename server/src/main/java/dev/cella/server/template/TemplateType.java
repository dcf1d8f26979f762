package dev.cella.server.template;

import java.util.Locale;

/**
 * What made a team's template: a {@code BUILD} (a Dockerfile, a build spec or E2B's
 * steps) or a {@code SNAPSHOT} of a running sandbox. Stored in {@code templates.type} as
 * the lowercase name. The nodes' built-in templates have no row and no type here.
 */
public enum TemplateType {
    BUILD, SNAPSHOT;

    public String db() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static TemplateType of(String db) {
        return valueOf(db.toUpperCase(Locale.ROOT));
    }

    /**
     * The Wrenn-style API's Template type, which knows {@code base} (built-in) and
     * {@code snapshot} only: every template of a team's own is a snapshot there.
     */
    public String wrenn() {
        return "snapshot";
    }
}
