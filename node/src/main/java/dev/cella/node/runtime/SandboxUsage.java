package dev.cella.node.runtime;

/** A sandbox's resource use at one moment: CPU time so far, resident memory, disk allocated to its writable layer. */
public record SandboxUsage(long cpuNanos, long memoryBytes, long diskBytes) {}
