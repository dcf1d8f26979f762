package dev.cella.node.sandbox;

/** What the reaper does with a sandbox whose time is up (E2B's autoPause picks PAUSE). */
public enum TimeoutAction {
    KILL, PAUSE
}
