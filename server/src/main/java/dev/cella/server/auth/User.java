package dev.cella.server.auth;

/** Someone who logs in (native API): by email and password, or through GitHub. */
public record User(String id, String email, String name, long createdAt) {}
