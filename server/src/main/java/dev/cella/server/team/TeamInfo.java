package dev.cella.server.team;

/** A team as the native API shows it: its immutable slug and when it was made. */
public record TeamInfo(String id, String name, String slug, long createdAt) {}
