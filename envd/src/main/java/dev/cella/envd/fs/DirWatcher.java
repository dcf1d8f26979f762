package dev.cella.envd.fs;

import dev.cella.envd.linux.LibC;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Watches a directory (and, when recursive, every directory below it, including ones
 * created later) with inotify, and turns kernel events into E2B's event types the way
 * fsnotify does: create / write / remove / rename / chmod.
 *
 * <p>One platform thread per watcher, polling with a timeout so {@link #close} is
 * noticed; the inotify descriptor is closed by that thread when it ends.
 */
public final class DirWatcher implements AutoCloseable {
    private static final int MASK = LibC.IN_CREATE | LibC.IN_MODIFY | LibC.IN_ATTRIB | LibC.IN_DELETE
            | LibC.IN_DELETE_SELF | LibC.IN_MOVED_FROM | LibC.IN_MOVED_TO | LibC.IN_MOVE_SELF | LibC.IN_ONLYDIR;

    private final Path root;
    private final boolean recursive;
    private final Consumer<FsEvent> sink;
    private final int fd;
    private final Map<Integer, Path> dirs = new HashMap<>(); // watch descriptor -> directory
    private volatile boolean closed;

    public DirWatcher(Path root, boolean recursive, Consumer<FsEvent> sink) throws IOException {
        this.root = root;
        this.recursive = recursive;
        this.sink = sink;
        this.fd = LibC.inotifyInit();
        try {
            add(root);
            if (recursive) addTree(root);
        } catch (IOException e) {
            LibC.close(fd);
            throw e;
        }
        Thread.ofPlatform().daemon().name("watch-" + root).start(this::run);
    }

    private void add(Path dir) throws IOException {
        int wd = LibC.inotifyAddWatch(fd, dir.toString(), MASK);
        synchronized (dirs) {
            dirs.put(wd, dir);
        }
    }

    private void addTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(p -> !p.equals(dir) && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).forEach(p -> {
                try {
                    add(p);
                } catch (IOException ignored) {
                    // vanished or unreadable: nothing to watch there
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // a subtree that disappears while walking
        }
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(64 * 1024, 8);
            MemorySegment pollfd = arena.allocate(8, 4);
            MemorySegment state = LibC.newCaptureState(arena);
            while (!closed) {
                if (LibC.poll(fd, LibC.POLLIN, 250, pollfd, state) == 0) continue;
                int n = LibC.read(fd, buf, state);
                if (n <= 0) continue;
                int off = 0;
                while (off + 16 <= n) {
                    int wd = buf.get(ValueLayout.JAVA_INT, off);
                    int mask = buf.get(ValueLayout.JAVA_INT, off + 4);
                    int len = buf.get(ValueLayout.JAVA_INT, off + 12);
                    String name = len == 0 ? "" : cString(buf.asSlice(off + 16, len));
                    off += 16 + len;
                    handle(wd, mask, name);
                }
            }
        } catch (LibC.Errno e) {
            // the descriptor broke: the watch ends
        } finally {
            LibC.close(fd);
        }
    }

    private void handle(int wd, int mask, String name) {
        Path dir;
        synchronized (dirs) {
            dir = dirs.get(wd);
            if ((mask & LibC.IN_IGNORED) != 0) dirs.remove(wd);
        }
        if (dir == null) return;
        Path path = name.isEmpty() ? dir : dir.resolve(name);
        // Events on a watched directory itself are reported by its parent's watch, except the root's.
        if (name.isEmpty() && !dir.equals(root)) return;
        String rel = root.relativize(path).toString();
        boolean isDir = (mask & LibC.IN_ISDIR) != 0;
        if ((mask & (LibC.IN_CREATE | LibC.IN_MOVED_TO)) != 0) {
            emit(rel, "EVENT_TYPE_CREATE");
            if (recursive && isDir) {
                try {
                    add(path);
                    addTree(path);
                } catch (IOException ignored) {
                    // removed again before we could watch it
                }
            }
        }
        // the order fsnotify reports the operations of one kernel event in
        if ((mask & (LibC.IN_MOVED_FROM | LibC.IN_MOVE_SELF)) != 0) emit(rel, "EVENT_TYPE_RENAME");
        if ((mask & LibC.IN_ATTRIB) != 0) emit(rel, "EVENT_TYPE_CHMOD");
        if ((mask & LibC.IN_MODIFY) != 0) emit(rel, "EVENT_TYPE_WRITE");
        if ((mask & (LibC.IN_DELETE | LibC.IN_DELETE_SELF)) != 0) emit(rel, "EVENT_TYPE_REMOVE");
    }

    private void emit(String name, String type) {
        if (!closed) sink.accept(new FsEvent(name, type, null));
    }

    private static String cString(MemorySegment s) {
        byte[] b = s.toArray(ValueLayout.JAVA_BYTE);
        int end = 0;
        while (end < b.length && b[end] != 0) end++;
        return new String(b, 0, end, StandardCharsets.UTF_8);
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
    }
}
