package dev.cella.server.team;

import java.util.Locale;
import java.util.Optional;

/** A member's role in a team: the owner (one, who made it), admins, members. */
public enum Role {
    OWNER, ADMIN, MEMBER;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean canManage() {
        return this == OWNER || this == ADMIN;
    }

    public static Optional<Role> parse(String s) {
        if (s == null) return Optional.empty();
        try {
            return Optional.of(valueOf(s.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
