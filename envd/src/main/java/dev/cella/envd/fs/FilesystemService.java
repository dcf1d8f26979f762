package dev.cella.envd.fs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cella.envd.connect.ConnectCode;
import dev.cella.envd.connect.ConnectException;
import dev.cella.envd.connect.ConnectRouter;
import dev.cella.envd.connect.RpcCall;
import dev.cella.envd.connect.StreamWriter;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** The {@code filesystem.Filesystem} Connect service of E2B's envd. */
public final class FilesystemService {
    private static final String PREFIX = "/filesystem.Filesystem/";
    /** A polled watcher keeps at most this many undelivered events; older ones are dropped. */
    private static final int WATCHER_BACKLOG = 10_000;
    /** An event stream buffers at most this many events for a slow client. */
    private static final int STREAM_BACKLOG = 10_000;

    private final ObjectMapper json;
    private final FileEntries entries;
    private final Ownership ownership;
    private final Map<String, PolledWatcher> watchers = new ConcurrentHashMap<>();

    public FilesystemService(ObjectMapper json, FileEntries entries, Ownership ownership) {
        this.json = json;
        this.entries = entries;
        this.ownership = ownership;
    }

    public void register(ConnectRouter router) {
        router.unary(PREFIX + "Stat", this::stat)
              .unary(PREFIX + "MakeDir", this::makeDir)
              .unary(PREFIX + "Move", this::move)
              .unary(PREFIX + "ListDir", this::listDir)
              .unary(PREFIX + "Remove", this::remove)
              .stream(PREFIX + "WatchDir", this::watchDir)
              .unary(PREFIX + "CreateWatcher", this::createWatcher)
              .unary(PREFIX + "GetWatcherEvents", this::getWatcherEvents)
              .unary(PREFIX + "RemoveWatcher", this::removeWatcher);
    }

    private ObjectNode stat(RpcCall call) {
        Path path = path(call, "path");
        try {
            return withEntry(entries.entry(path));
        } catch (IOException e) {
            throw mapped(e, path);
        }
    }

    private ObjectNode makeDir(RpcCall call) {
        Path path = path(call, "path");
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isDirectory(path)) throw new ConnectException(ConnectCode.ALREADY_EXISTS, "directory " + path + " already exists");
            throw new ConnectException(ConnectCode.INVALID_ARGUMENT, "path " + path + " already exists and is not a directory");
        }
        try {
            ownership.createDirectories(path, call.user());
            return withEntry(entries.entry(path));
        } catch (IOException e) {
            throw mapped(e, path);
        }
    }

    private ObjectNode move(RpcCall call) {
        Path source = path(call, "source");
        Path destination = path(call, "destination");
        if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) throw ConnectException.notFound("source " + source + " does not exist");
        try {
            Path parent = destination.getParent();
            if (parent != null) ownership.createDirectories(parent, call.user());
            Files.move(source, destination, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return withEntry(entries.entry(destination));
        } catch (DirectoryNotEmptyException e) {
            throw new ConnectException(ConnectCode.ALREADY_EXISTS, "destination " + destination + " is a directory that is not empty");
        } catch (IOException e) {
            throw mapped(e, source);
        }
    }

    private ObjectNode listDir(RpcCall call) {
        Path root = path(call, "path");
        int depth = call.request().path("depth").asInt(1);
        if (depth < 1) depth = 1;
        try {
            // A symlinked directory is listed through its link, as a user would expect of `ls link/`.
            Path dir = root.toRealPath();
            if (!Files.isDirectory(dir)) throw ConnectException.invalid("path " + root + " is not a directory");
            ObjectNode res = json.createObjectNode();
            list(dir, root, dir, 1, depth, res.putArray("entries"));
            return res;
        } catch (IOException e) {
            throw mapped(e, root);
        }
    }

    /**
     * Depth-first, names in order, never descending through a symlink; entries whose
     * type is unknown (broken links, sockets) are left out as the SDK would drop them.
     */
    private void list(Path dir, Path shownRoot, Path realRoot, int level, int depth, ArrayNode out) throws IOException {
        List<Path> children;
        try (Stream<Path> s = Files.list(dir)) {
            children = s.sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (AccessDeniedException e) {
            if (dir.equals(realRoot)) throw e;
            return;
        } catch (NoSuchFileException e) {
            if (dir.equals(realRoot)) throw e;
            return; // removed while listing
        }
        for (Path child : children) {
            ObjectNode entry;
            try {
                entry = entries.entry(child);
            } catch (NoSuchFileException gone) {
                continue;
            }
            if ("FILE_TYPE_UNSPECIFIED".equals(entry.path("type").asText())) continue;
            entry.put("path", shownRoot.resolve(realRoot.relativize(child)).toString());
            out.add(entry);
            if (level < depth && Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                list(child, shownRoot, realRoot, level + 1, depth, out);
            }
        }
    }

    /** Removes a file or a whole tree; a path that does not exist is already removed. */
    private ObjectNode remove(RpcCall call) {
        Path path = path(call, "path");
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) return json.createObjectNode();
        try {
            deleteTree(path);
            return json.createObjectNode();
        } catch (IOException e) {
            throw mapped(e, path);
        }
    }

    private static void deleteTree(Path path) throws IOException {
        if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> s = Files.list(path)) {
                for (Path child : s.toList()) deleteTree(child);
            }
        }
        Files.deleteIfExists(path);
    }

    // --- watching ---

    private static final Set<String> NETWORK_FILESYSTEMS = Set.of(
            "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "fuse", "9p", "ceph", "glusterfs", "sshfs");

    private Path watchedDir(RpcCall call) {
        Path path = path(call, "path");
        if (!Files.exists(path)) throw ConnectException.notFound("path " + path + " not found");
        if (!Files.isDirectory(path)) throw ConnectException.invalid("path " + path + " is not a directory");
        if (!call.request().path("allowNetworkMounts").asBoolean(call.request().path("allow_network_mounts").asBoolean(false))) {
            try {
                String type = Files.getFileStore(path).type();
                if (NETWORK_FILESYSTEMS.contains(type) || type.startsWith("fuse")) {
                    throw ConnectException.invalid("cannot watch path on network filesystem: " + path);
                }
            } catch (IOException ignored) {
                // unknown filesystem: watch it
            }
        }
        return path;
    }

    private static boolean includeEntry(RpcCall call) {
        return call.request().path("includeEntry").asBoolean(call.request().path("include_entry").asBoolean(false));
    }

    private void watchDir(RpcCall call, StreamWriter out) {
        Path dir = watchedDir(call);
        boolean recursive = call.request().path("recursive").asBoolean(false);
        boolean withEntry = includeEntry(call);
        BlockingQueue<FsEvent> queue = new LinkedBlockingQueue<>(STREAM_BACKLOG);
        try (DirWatcher ignored = new DirWatcher(dir, recursive, ev -> queue.offer(withEntry(ev, dir, withEntry)))) {
            ObjectNode start = json.createObjectNode();
            start.putObject("start");
            if (!out.send(start)) return;
            long lastSent = System.nanoTime();
            while (true) {
                long left = call.millisLeft();
                if (left == 0) throw new ConnectException(ConnectCode.DEADLINE_EXCEEDED, "the watch reached its timeout");
                FsEvent ev = queue.poll(Math.min(left, 1000), TimeUnit.MILLISECONDS);
                if (ev != null) {
                    ObjectNode msg = json.createObjectNode();
                    msg.set("filesystem", event(ev));
                    if (!out.send(msg)) return;
                    lastSent = System.nanoTime();
                } else if (System.nanoTime() - lastSent > call.keepaliveMillis() * 1_000_000) {
                    ObjectNode ka = json.createObjectNode();
                    ka.putObject("keepalive");
                    if (!out.send(ka)) return;
                    lastSent = System.nanoTime();
                }
            }
        } catch (IOException e) {
            throw mapped(e, dir);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private ObjectNode event(FsEvent ev) {
        ObjectNode e = json.createObjectNode().put("name", ev.name()).put("type", ev.type());
        if (ev.entry() != null) e.set("entry", ev.entry());
        return e;
    }

    /** Adds the entry to a create, write or chmod event, as the event arrives (E2B's includeEntry). */
    private FsEvent withEntry(FsEvent ev, Path dir, boolean wanted) {
        if (!wanted || ev.type().equals("EVENT_TYPE_REMOVE") || ev.type().equals("EVENT_TYPE_RENAME")) return ev;
        try {
            return new FsEvent(ev.name(), ev.type(), entries.entry(dir.resolve(ev.name())));
        } catch (IOException gone) {
            return ev; // already gone again: the event stands without its entry
        }
    }

    /** A watcher the client polls with GetWatcherEvents. */
    private record PolledWatcher(DirWatcher watcher, BlockingQueue<FsEvent> events) {}

    private ObjectNode createWatcher(RpcCall call) {
        Path dir = watchedDir(call);
        boolean recursive = call.request().path("recursive").asBoolean(false);
        BlockingQueue<FsEvent> queue = new LinkedBlockingQueue<>(WATCHER_BACKLOG);
        try {
            boolean withEntry = includeEntry(call);
            DirWatcher w = new DirWatcher(dir, recursive, ev -> {
                FsEvent full = withEntry(ev, dir, withEntry);
                while (!queue.offer(full)) queue.poll(); // keep the newest
            });
            String id = "w" + UUID.randomUUID().toString().replace("-", "");
            watchers.put(id, new PolledWatcher(w, queue));
            return json.createObjectNode().put("watcherId", id);
        } catch (IOException e) {
            throw mapped(e, dir);
        }
    }

    private ObjectNode getWatcherEvents(RpcCall call) {
        PolledWatcher w = watcher(call);
        List<FsEvent> drained = new ArrayList<>();
        w.events().drainTo(drained);
        ObjectNode res = json.createObjectNode();
        ArrayNode arr = res.putArray("events");
        for (FsEvent ev : drained) arr.add(event(ev));
        return res;
    }

    private ObjectNode removeWatcher(RpcCall call) {
        PolledWatcher w = watcher(call);
        watchers.remove(call.text("watcherId", "watcher_id"));
        w.watcher().close();
        return json.createObjectNode();
    }

    private PolledWatcher watcher(RpcCall call) {
        String id = call.text("watcherId", "watcher_id");
        if (id == null) throw ConnectException.invalid("watcherId is required");
        PolledWatcher w = watchers.get(id);
        if (w == null) throw ConnectException.notFound("watcher " + id + " not found");
        return w;
    }

    // --- helpers ---

    private Path path(RpcCall call, String field) {
        return SandboxPaths.resolve(call.text(field, field), call.user());
    }

    private ObjectNode withEntry(ObjectNode entry) {
        ObjectNode res = json.createObjectNode();
        res.set("entry", entry);
        return res;
    }

    /** Turns a filesystem failure into the Connect code E2B's envd uses for it. */
    static ConnectException mapped(IOException e, Path path) {
        return switch (e) {
            case NoSuchFileException x -> ConnectException.notFound("path " + path + " does not exist");
            case FileAlreadyExistsException x -> new ConnectException(ConnectCode.ALREADY_EXISTS, "path " + x.getFile() + " already exists");
            case AccessDeniedException x -> new ConnectException(ConnectCode.PERMISSION_DENIED, "permission denied: " + x.getFile());
            case NotDirectoryException x -> ConnectException.invalid("path " + x.getFile() + " is not a directory");
            case FileSystemException x when String.valueOf(x.getReason()).contains("Not a directory") ->
                    ConnectException.invalid("a parent of " + path + " is not a directory");
            default -> ConnectException.internal("filesystem error on " + path + ": " + e.getMessage());
        };
    }

}
