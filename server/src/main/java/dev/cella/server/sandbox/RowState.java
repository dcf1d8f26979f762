package dev.cella.server.sandbox;

import java.util.Arrays;

/**
 * A sandbox's state as the server's table keeps it: being created (the row is written
 * before the node starts it, so a running sandbox is always owned), running, or paused (a
 * hibernated one too: its node says which). Stored by {@link #column}.
 */
public enum RowState {
    CREATING("creating"), RUNNING("running"), PAUSED("paused");

    public final String column;

    RowState(String column) {
        this.column = column;
    }

    public static RowState of(String column) {
        return Arrays.stream(values()).filter(s -> s.column.equals(column)).findFirst()
                .orElseThrow(() -> new IllegalStateException("a sandbox row in an unknown state: " + column));
    }
}
