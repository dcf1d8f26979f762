package dev.cella.node.sandbox;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;

/** What the reaper does with a sandbox whose time is up (E2B's autoPause picks PAUSE). In JSON in lower case. */
public enum TimeoutAction {
    KILL, PAUSE;

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static TimeoutAction of(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
