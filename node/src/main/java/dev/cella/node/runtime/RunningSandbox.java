package dev.cella.node.runtime;

import dev.cella.node.net.SandboxAddress;

/** A sandbox a driver has started: where its envd answers, and how long the start took. */
public record RunningSandbox(String id, SandboxAddress address, String envdUrl, long startMillis) {}
