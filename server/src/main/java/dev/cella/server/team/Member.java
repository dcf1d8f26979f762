package dev.cella.server.team;

/** A user's membership of a team. */
public record Member(String userId, String email, Role role, long joinedAt) {}
