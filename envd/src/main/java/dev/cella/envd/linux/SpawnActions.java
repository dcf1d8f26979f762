package dev.cella.envd.linux;

import java.util.ArrayList;
import java.util.List;

/** The file actions a spawned child performs before exec, in order. */
public final class SpawnActions {
    public sealed interface Action permits Open, Dup2, Chdir, CloseFrom {}
    public record Open(int fd, String path, int flags, int mode) implements Action {}
    public record Dup2(int from, int to) implements Action {}
    public record Chdir(String dir) implements Action {}
    public record CloseFrom(int lowFd) implements Action {}

    private final List<Action> actions = new ArrayList<>();

    public SpawnActions open(int fd, String path, int flags) { actions.add(new Open(fd, path, flags, 0)); return this; }
    public SpawnActions dup2(int from, int to) { actions.add(new Dup2(from, to)); return this; }
    public SpawnActions chdir(String dir) { actions.add(new Chdir(dir)); return this; }
    public SpawnActions closeFrom(int lowFd) { actions.add(new CloseFrom(lowFd)); return this; }

    public List<Action> actions() { return actions; }
}
