package dev.cella.envd.user;

import dev.cella.envd.EnvdState;
import dev.cella.envd.connect.ConnectCode;
import dev.cella.envd.connect.ConnectException;

/** Picks the user a request acts as: the one it names, else the sandbox's default user. */
public final class UserResolver {
    private final Users users;
    private final EnvdState state;

    public UserResolver(Users users, EnvdState state) {
        this.users = users;
        this.state = state;
    }

    /** The named user, or the default one when {@code name} is null or empty. */
    public UserAccount resolve(String name) {
        String wanted = name != null && !name.isEmpty() ? name : state.defaultUser();
        return users.byName(wanted).orElseThrow(() ->
                new ConnectException(ConnectCode.UNAUTHENTICATED, "invalid username: '" + wanted + "'"));
    }
}
