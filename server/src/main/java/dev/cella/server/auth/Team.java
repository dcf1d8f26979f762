package dev.cella.server.auth;

/** A team: the owner of API keys and sandboxes; nothing of one team is visible to another. */
public record Team(String id, String name) {}
