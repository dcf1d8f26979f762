package dev.cella.envd.fs;

import dev.cella.envd.linux.LibC;
import dev.cella.envd.user.UserAccount;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * envd runs as root but acts for a user: what it creates for that user is owned by
 * that user, so the user's own commands can change it later.
 */
public final class Ownership {
    private final boolean root = LibC.isRoot();

    /** Creates a directory and any missing parents, each owned by the user. */
    public void createDirectories(Path dir, UserAccount user) throws IOException {
        Path missing = dir;
        Path top = null;
        while (missing != null && !Files.exists(missing)) {
            top = missing;
            missing = missing.getParent();
        }
        Files.createDirectories(dir);
        if (top == null) return;
        for (Path p = dir; p != null; p = p.getParent()) {
            chown(p, user);
            if (p.equals(top)) break;
        }
    }

    public void chown(Path path, UserAccount user) throws IOException {
        if (root && !user.isRoot()) LibC.lchown(path.toString(), user.uid(), user.gid());
    }
}
