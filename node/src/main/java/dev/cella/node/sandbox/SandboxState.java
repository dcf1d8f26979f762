package dev.cella.node.sandbox;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;

/** Where a sandbox is in its life on this node. In JSON in lower case (records written before in upper case still read). */
public enum SandboxState {
    RUNNING,
    /** Frozen in memory: no CPU, everything kept. */
    PAUSED,
    /** Its filesystem kept on disk, its processes ended, nothing else held. */
    HIBERNATED;

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static SandboxState of(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
