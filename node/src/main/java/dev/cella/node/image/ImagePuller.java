package dev.cella.node.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.sys.Command;
import dev.cella.node.sys.Paths;
import dev.cella.node.template.NodeTemplates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Pulls OCI / Docker images into templates. Each layer is unpacked once into
 * {@code <state>/layers/sha256-<hex>} (content-addressed, shared by every image that has
 * it), its whiteouts turned into overlayfs's own (a {@code .wh.} file into a 0/0 character
 * device, {@code .wh..wh..opq} into the opaque attribute); the image becomes a layered
 * template named by its manifest's digest whose lowers are its layers. An index or
 * manifest list is resolved to linux/amd64.
 */
public final class ImagePuller {
    private static final Logger log = LoggerFactory.getLogger(ImagePuller.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path layers;
    private final NodeTemplates templates;
    private final ConcurrentHashMap<String, Object> locks = new ConcurrentHashMap<>();

    private final RegistryPolicy registries;

    public ImagePuller(Path stateDir, NodeTemplates templates, RegistryPolicy registries) throws IOException {
        // root's alone: image layers keep their setuid bits and device nodes (a sandbox's view of them is nosuid, nodev)
        this.layers = Paths.ownerOnly(Files.createDirectories(stateDir.resolve("layers")));
        this.templates = templates;
        this.registries = registries;
    }

    /** What a pulled image is: its template here, and the defaults of its config. */
    public record Image(String templateId, String digest, List<String> env, String workdir, String user, List<String> cmd,
                        List<String> entrypoint) {}

    public Image pull(String reference, String username, String password) throws IOException {
        ImageReference ref = ImageReference.parse(reference);
        RegistryClient registry = new RegistryClient(username, password, registries);
        RegistryClient.Manifest m = registry.manifest(ref, ref.reference());
        if (m.json().has("manifests")) { // an index: this platform's image
            String chosen = null;
            for (JsonNode d : m.json().get("manifests")) {
                JsonNode p = d.path("platform");
                if (p.path("os").asText().equals("linux") && p.path("architecture").asText().equals("amd64")) {
                    chosen = d.path("digest").asText();
                    break;
                }
            }
            if (chosen == null) throw new IOException(ref + " has no linux/amd64 image");
            m = registry.manifest(ref, chosen);
        }
        String templateId = "img-" + m.digest().substring(7, 7 + 40);
        JsonNode config = JSON.readTree(registry.blobBytes(ref, m.json().path("config").path("digest").asText()));
        List<Path> lowers = new ArrayList<>();
        for (JsonNode layer : m.json().path("layers")) lowers.add(0, layer(registry, ref, layer.path("digest").asText()));
        synchronized (locks.computeIfAbsent(templateId, k -> new Object())) {
            if (templates.rootfs(templateId).isEmpty()) {
                Path t = templates.prepare(templateId);
                Files.createDirectories(t.resolve(NodeTemplates.LAYER)); // an empty top: the image's layers are all below
                templates.commit(templateId, lowers);
            }
        }
        JsonNode c = config.path("config");
        return new Image(templateId, m.digest(), strings(c.get("Env")), text(c, "WorkingDir"), text(c, "User"), strings(c.get("Cmd")),
                strings(c.get("Entrypoint")));
    }

    private static String text(JsonNode n, String f) {
        return n.hasNonNull(f) && !n.get(f).asText().isBlank() ? n.get(f).asText() : null;
    }

    private static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n != null && n.isArray()) n.forEach(x -> out.add(x.asText()));
        return out;
    }

    /** The unpacked directory of a layer: downloaded, checked and unpacked once. */
    private Path layer(RegistryClient registry, ImageReference ref, String digest) throws IOException {
        if (!digest.matches("sha256:[0-9a-f]{64}")) throw new IOException("unsupported layer digest " + digest);
        Path dir = layers.resolve("sha256-" + digest.substring(7));
        synchronized (locks.computeIfAbsent(digest, k -> new Object())) {
            if (Files.isDirectory(dir)) return dir;
            Path blob = layers.resolve(".download-" + digest.substring(7));
            Path tmp = layers.resolve(".unpack-" + digest.substring(7));
            try {
                long t0 = System.nanoTime();
                registry.blob(ref, digest, blob);
                if (Files.exists(tmp)) Paths.deleteTree(tmp);
                Files.createDirectories(tmp);
                // GNU tar knows gzip by itself; as root it keeps owners, modes and device files
                Command.run(List.of("tar", "-xf", blob.toString(), "-C", tmp.toString(), "--numeric-owner"), null, Duration.ofMinutes(30));
                int devices = dropDevices(tmp);
                if (devices > 0) log.info("layer {} of {}: {} device files left out", digest.substring(0, 19), ref, devices);
                whiteouts(tmp);
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                log.info("layer {} of {} unpacked in {} ms", digest.substring(0, 19), ref, (System.nanoTime() - t0) / 1_000_000);
            } finally {
                Files.deleteIfExists(blob);
                if (Files.exists(tmp)) Paths.deleteTree(tmp);
            }
            return dir;
        }
    }

    /**
     * Removes the device files a layer brings: anyone may push an image, and a device file
     * is a door to the host's hardware for whoever can open it (a sandbox's view of its
     * files is nodev, the host's root sees them as they are). A sandbox gets its devices
     * from its own /dev. Runs before {@link #whiteouts}, whose 0/0 devices are overlayfs's.
     */
    static int dropDevices(Path root) throws IOException {
        List<Path> devices;
        try (Stream<Path> s = Files.walk(root)) {
            devices = s.filter(p -> {
                try {
                    int type = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000;
                    return type == 0020000 || type == 0060000; // S_IFCHR, S_IFBLK
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        for (Path d : devices) Files.delete(d);
        return devices.size();
    }

    /** OCI whiteouts to overlayfs's: deleted names become 0/0 character devices, opaque directories get trusted.overlay.opaque. */
    static void whiteouts(Path root) throws IOException {
        List<Path> found;
        try (Stream<Path> s = Files.walk(root)) {
            found = s.filter(p -> p.getFileName() != null && p.getFileName().toString().startsWith(".wh.")).toList();
        }
        for (Path w : found) {
            String name = w.getFileName().toString();
            Files.delete(w);
            if (name.equals(".wh..wh..opq")) {
                Xattr.set(w.getParent(), "trusted.overlay.opaque", "y");
            } else {
                Path hidden = w.resolveSibling(name.substring(4));
                if (Files.exists(hidden, LinkOption.NOFOLLOW_LINKS)) Paths.deleteTree(hidden);
                Command.run("mknod", hidden.toString(), "c", "0", "0");
            }
        }
    }
}
