package dev.cella.node.sandbox;

/** Where a sandbox is in its life on this node. */
public enum SandboxState {
    RUNNING, PAUSED
}
