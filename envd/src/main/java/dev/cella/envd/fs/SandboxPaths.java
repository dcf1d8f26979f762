package dev.cella.envd.fs;

import dev.cella.envd.connect.ConnectException;
import dev.cella.envd.user.UserAccount;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Resolves a client's path as E2B's envd does: {@code ~} is the user's home, relative paths start there. */
public final class SandboxPaths {
    private SandboxPaths() {}

    public static Path resolve(String path, UserAccount user) {
        if (path == null || path.isEmpty()) throw ConnectException.invalid("path is required");
        try {
            Path home = Path.of(user.home());
            if (path.equals("~")) return home;
            if (path.startsWith("~/")) return home.resolve(path.substring(2)).normalize();
            Path p = Path.of(path);
            return (p.isAbsolute() ? p : home.resolve(p)).normalize();
        } catch (InvalidPathException e) {
            throw ConnectException.invalid("invalid path '" + path + "'");
        }
    }
}
