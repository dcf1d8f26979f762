package dev.cella.node.sandbox;

/** Where a sandbox is in its life on this node. */
public enum SandboxState {
    RUNNING,
    /** Frozen in memory: no CPU, everything kept. */
    PAUSED,
    /** Its filesystem kept on disk, its processes ended, nothing else held. */
    HIBERNATED
}
