package dev.cella.server.api.v1;

import dev.cella.server.auth.Team;

/**
 * Who makes a request: a team (every capsule route acts for one) and, when the request
 * carries a login token rather than an API key, the user acting for it.
 */
public record Caller(Team team, String userId, String email) {
    public boolean isUser() {
        return userId != null;
    }
}
