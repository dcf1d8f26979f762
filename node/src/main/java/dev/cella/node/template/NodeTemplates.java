package dev.cella.node.template;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cella.node.problem.Problem;
import dev.cella.node.sys.Paths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The templates a node can start sandboxes from: the built-in ones it was started with
 * (whole root filesystems), and layered ones it made itself (snapshots of sandboxes).
 *
 * <p>A layered template lives in {@code <state>/templates/<id>/}: {@code layer/} holds what
 * it changed (an overlay upper directory, whiteouts included) and {@code template.json}
 * the layers under it, top first. A sandbox of it mounts {@code layer} over those layers,
 * so a snapshot costs what the sandbox wrote, not a copy of its whole root. A deleted
 * template's files stay while a sandbox or another template still stands on them.
 */
public final class NodeTemplates {
    private static final Logger log = LoggerFactory.getLogger(NodeTemplates.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String LAYER = "layer", META = "template.json", DELETED = "deleted";

    private final Map<String, Path> builtIn;
    private final Path dir;
    private final Map<String, Path> layered = new ConcurrentHashMap<>();

    public NodeTemplates(Map<String, Path> builtIn, Path dir) throws IOException {
        this.builtIn = Map.copyOf(builtIn);
        this.dir = Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(dir)) {
            for (Path t : s.toList()) {
                if (Files.exists(t.resolve(META)) && !Files.exists(t.resolve(DELETED))) layered.put(t.getFileName().toString(), t.resolve(LAYER));
            }
        }
    }

    /** The root filesystem (built-in) or top layer (layered) of a template. */
    public Optional<Path> rootfs(String id) {
        return Optional.ofNullable(builtIn.getOrDefault(id, layered.get(id)));
    }

    public Map<String, Path> all() {
        Map<String, Path> m = new LinkedHashMap<>(builtIn);
        m.putAll(layered);
        return m;
    }

    /** The templates the node was started with ({@code --template}): any team may start them. */
    public Map<String, Path> builtIn() {
        return builtIn;
    }

    public boolean isBuiltIn(String id) {
        return builtIn.containsKey(id);
    }

    /** Where a new layered template's files go (the directory is made, empty). */
    /** Templates being made now: their directories have no template.json yet and must not be collected. */
    private final Set<String> making = ConcurrentHashMap.newKeySet();

    public Path prepare(String id) throws IOException {
        if (!id.matches("[a-z0-9][a-z0-9-]{0,59}") || builtIn.containsKey(id) || layered.containsKey(id)) {
            throw new Problem.Invalid("template id '" + id + "' is taken or not of lowercase letters, digits and -");
        }
        making.add(id);
        Path t = dir.resolve(id);
        if (Files.exists(t)) Paths.deleteTree(t); // a half-made one, or one deleted and no longer used
        return Files.createDirectories(t);
    }

    /** Records a layered template whose {@code layer/} is filled: it stands on {@code lowers}, top first. */
    public void commit(String id, List<Path> lowers) throws IOException {
        Path t = dir.resolve(id);
        ObjectNode meta = JSON.createObjectNode();
        var arr = meta.putArray("lowers");
        lowers.forEach(p -> arr.add(p.toString()));
        JSON.writeValue(t.resolve(META).toFile(), meta);
        layered.put(id, t.resolve(LAYER));
        making.remove(id);
    }

    /** The lower directories of an overlay for a sandbox of this template: its root, then what it stands on. */
    public static List<Path> lowerDirs(Path rootfs) {
        List<Path> out = new ArrayList<>();
        out.add(rootfs);
        Path meta = rootfs.getParent() == null ? null : rootfs.getParent().resolve(META);
        if (rootfs.getFileName() != null && rootfs.getFileName().toString().equals(LAYER) && meta != null && Files.exists(meta)) {
            try {
                JSON.readTree(meta.toFile()).path("lowers").forEach(n -> out.add(Path.of(n.asText())));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** Bytes a template's own files take (its layer only). */
    public long size(String id) throws IOException {
        Path p = layered.get(id);
        if (p == null) return 0;
        try (Stream<Path> s = Files.walk(p)) {
            return s.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    /**
     * Deletes a layered template: gone at once for new sandboxes, its files removed now or,
     * while {@code inUse} (the top layers of living sandboxes) stand on it, at a later
     * {@link #collect}. Returns false for a template this node does not have.
     */
    public boolean delete(String id, Set<Path> inUse) throws IOException {
        if (builtIn.containsKey(id)) throw new Problem.Invalid("template " + id + " is built in and cannot be deleted");
        Path layer = layered.remove(id);
        if (layer == null) return false;
        Files.writeString(dir.resolve(id).resolve(DELETED), "");
        collect(inUse);
        return true;
    }

    /** Removes the files of deleted templates that nothing stands on any more. */
    public void collect(Set<Path> inUse) throws IOException {
        Set<Path> needed = new HashSet<>();
        for (Path top : inUse) needed.addAll(lowerDirs(top));
        for (Path top : layered.values()) needed.addAll(lowerDirs(top));
        try (Stream<Path> s = Files.list(dir)) {
            for (Path t : s.toList()) {
                if (Files.exists(t.resolve(DELETED)) && !needed.contains(t.resolve(LAYER))) {
                    Paths.deleteTree(t);
                    log.info("removed the files of deleted template {}", t.getFileName());
                } else if (!Files.exists(t.resolve(META)) && !layered.containsKey(t.getFileName().toString()) && !making.contains(t.getFileName().toString())) {
                    Paths.deleteTree(t); // half made when the node stopped: never a template
                    log.info("removed half-made template {}", t.getFileName());
                }
            }
        }
    }
}
