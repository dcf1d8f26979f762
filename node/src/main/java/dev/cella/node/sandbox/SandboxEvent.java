package dev.cella.node.sandbox;

import java.time.Instant;

/** One entry of a sandbox's lifecycle log: created, paused, resumed, timeout changed, killed... */
public record SandboxEvent(Instant at, String type, String detail) {}
