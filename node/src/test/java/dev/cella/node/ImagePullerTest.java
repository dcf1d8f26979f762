package dev.cella.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.cella.node.image.ImagePuller;
import dev.cella.node.image.ImageReference;
import dev.cella.node.image.RegistryPolicy;
import dev.cella.node.problem.Problem;
import dev.cella.node.template.NodeTemplates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The image puller against a registry that wants a Bearer token (its challenge names the
 * token service, which this fake also is), serving a Docker manifest list: the token dance,
 * the platform chosen, whiteouts converted, and a blob whose bytes do not match its digest
 * refused. (A real registry, Debian's docker-registry, is e2e's, through the E2B SDK.)
 */
class ImagePullerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** This test's registry is on loopback, which a node refuses unless its operator allows it. */
    static final RegistryPolicy LOOPBACK_ALLOWED = new RegistryPolicy(Set.of("127.0.0.1"), List.of());
    HttpServer server;
    Path dir;
    final Map<String, byte[]> blobs = new HashMap<>();
    final Map<String, byte[]> manifests = new HashMap<>();
    final Map<String, String> manifestTypes = new HashMap<>();
    int tokenRequests;
    /** Where blobs are redirected to, when set: another origin, as a registry's storage is. */
    String storage;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(NodeFixture.isRoot(), "unpacking layers keeps owners and makes device files: root (CI is root)");
        dir = Files.createTempDirectory("cella-pull");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/token", ex -> {
            tokenRequests++;
            String q = ex.getRequestURI().getQuery();
            send(ex, 200, q != null && q.contains("scope=repository:cella/x:pull") && q.contains("service=fake") ? "{\"token\":\"good-token\"}" : "{}", "application/json");
        });
        server.createContext("/v2/", this::registry);
        server.start();
    }

    @AfterEach
    void stop() {
        if (server != null) server.stop(0);
    }

    String host() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    private void registry(HttpExchange ex) throws IOException {
        if (!"Bearer good-token".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"http://" + host() + "/token\",service=\"fake\",scope=\"repository:cella/x:pull\"");
            send(ex, 401, "{}", "application/json");
            return;
        }
        String path = ex.getRequestURI().getPath();
        String last = path.substring(path.lastIndexOf('/') + 1);
        if (path.contains("/manifests/") && manifests.containsKey(last)) send(ex, 200, manifests.get(last), manifestTypes.get(last));
        else if (path.contains("/blobs/") && blobs.containsKey(last) && storage != null) {
            ex.getResponseHeaders().set("Location", storage + "/" + last); // as registries send blobs to their storage
            send(ex, 307, "", "text/plain");
        } else if (path.contains("/blobs/") && blobs.containsKey(last)) send(ex, 200, blobs.get(last), "application/octet-stream");
        else send(ex, 404, "{}", "application/json");
    }

    static void send(HttpExchange ex, int status, Object body, String type) throws IOException {
        byte[] b = body instanceof byte[] bytes ? bytes : body.toString().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    static String digest(byte[] b) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** Publishes an image: a layer made from a script, a config, a manifest and a list naming it for amd64 (and arm64, missing). */
    String image(String layerScript, boolean corrupt) throws Exception {
        Path src = Files.createDirectories(dir.resolve("src" + System.nanoTime()));
        Process p = new ProcessBuilder("/bin/sh", "-c", "cd " + src + " && " + layerScript + " && tar -czf ../layer.tgz .").redirectErrorStream(true).start();
        assertThat(p.waitFor()).isZero();
        byte[] layer = Files.readAllBytes(dir.resolve("layer.tgz"));
        String layerDigest = digest(layer);
        if (corrupt) layer[layer.length / 2] ^= 0x55;
        blobs.put(layerDigest, layer);
        byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"],\"WorkingDir\":\"/w\",\"User\":\"nobody\"}}".getBytes();
        blobs.put(digest(config), config);
        String mt = "application/vnd.docker.distribution.manifest.v2+json";
        byte[] manifest = JSON.writeValueAsBytes(Map.of("schemaVersion", 2, "mediaType", mt,
                "config", Map.of("mediaType", "application/vnd.docker.container.image.v1+json", "digest", digest(config), "size", config.length),
                "layers", List.of(Map.of("mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest", layerDigest, "size", layer.length))));
        manifests.put(digest(manifest), manifest);
        manifestTypes.put(digest(manifest), mt);
        String lt = "application/vnd.docker.distribution.manifest.list.v2+json";
        byte[] list = JSON.writeValueAsBytes(Map.of("schemaVersion", 2, "mediaType", lt, "manifests", List.of(
                Map.of("mediaType", mt, "digest", "sha256:" + "0".repeat(64), "size", 1, "platform", Map.of("architecture", "arm64", "os", "linux")),
                Map.of("mediaType", mt, "digest", digest(manifest), "size", manifest.length, "platform", Map.of("architecture", "amd64", "os", "linux")))));
        manifests.put("v1", list);
        manifestTypes.put("v1", lt);
        return host() + "/cella/x:v1";
    }

    @Test
    void aTokenProtectedManifestListIsPulledAndItsWhiteoutsConverted() throws Exception {
        String ref = image("mkdir -p d && echo kept > d/kept.txt && : > .wh.gone.txt && : > d/.wh..wh..opq && mknod d/mem c 1 1 && mknod d/disk b 7 0", false);
        NodeTemplates templates = new NodeTemplates(Map.of(), dir.resolve("state/templates"));
        ImagePuller puller = new ImagePuller(dir.resolve("state"), templates, LOOPBACK_ALLOWED);
        ImagePuller.Image img = puller.pull(ref, null, null);
        assertThat(tokenRequests).as("the token was asked once and kept").isEqualTo(1);
        assertThat(img.templateId()).startsWith("img-");
        assertThat(img.env()).containsExactly("A=1");
        assertThat(img.workdir()).isEqualTo("/w");
        assertThat(img.user()).isEqualTo("nobody");
        List<Path> lowers = NodeTemplates.lowerDirs(templates.rootfs(img.templateId()).orElseThrow());
        assertThat(lowers).hasSize(2);
        Path layer = lowers.get(1);
        assertThat(layer.resolve("d/kept.txt")).hasContent("kept");
        assertThat(layer.resolve(".wh.gone.txt")).doesNotExist();
        Process stat = new ProcessBuilder("stat", "-c", "%F %t %T", layer.resolve("gone.txt").toString()).start();
        assertThat(new String(stat.getInputStream().readAllBytes()).trim()).isEqualTo("character special file 0 0");
        assertThat(layer.resolve("d/.wh..wh..opq")).doesNotExist();
        assertThat(layer.resolve("d/mem")).as("an image's device files are left out").doesNotExist();
        assertThat(layer.resolve("d/disk")).doesNotExist();
        // pulled again: nothing is downloaded or unpacked twice
        assertThat(puller.pull(ref, null, null).templateId()).isEqualTo(img.templateId());
        try (var s = Files.list(dir.resolve("state/layers"))) {
            assertThat(s.toList()).containsExactly(layer);
        }
    }

    @Test
    void aBlobThatDoesNotMatchItsDigestIsRefused() throws Exception {
        String ref = image("echo x > x.txt", true);
        ImagePuller puller = new ImagePuller(dir.resolve("state"), new NodeTemplates(Map.of(), dir.resolve("state/templates")), LOOPBACK_ALLOWED);
        assertThatThrownBy(() -> puller.pull(ref, null, null)).hasMessageContaining("refused");
        try (var s = Files.list(dir.resolve("state/layers"))) {
            assertThat(s.toList()).as("nothing half made is kept").isEmpty();
        }
    }

    /**
     * A blob redirected to the registry's storage is fetched there without the registry's
     * credentials, and only where the node may connect: a registry cannot send a pull to a
     * loopback service the operator did not allow.
     */
    @Test
    void redirectsCarryNoCredentialsAndGoOnlyWhereAllowed() throws Exception {
        List<String> authorizations = new java.util.concurrent.CopyOnWriteArrayList<>();
        HttpServer store = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        store.createContext("/", ex -> {
            authorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            String last = ex.getRequestURI().getPath().substring(1);
            if (blobs.containsKey(last)) send(ex, 200, blobs.get(last), "application/octet-stream");
            else send(ex, 404, "{}", "application/json");
        });
        store.start();
        try {
            storage = "http://127.0.0.1:" + store.getAddress().getPort();
            String ref = image("echo x > x.txt", false);
            // allowed: the registry's own port only, so the storage on another loopback port is refused
            RegistryPolicy registryOnly = new RegistryPolicy(Set.of(host()), List.of());
            ImagePuller strict = new ImagePuller(dir.resolve("state"), new NodeTemplates(Map.of(), dir.resolve("state/templates")), registryOnly);
            assertThatThrownBy(() -> strict.pull(ref, null, null)).hasMessageContaining("loopback").hasMessageContaining("--registry-allow");
            assertThat(authorizations).as("nothing reached the storage").isEmpty();

            ImagePuller puller = new ImagePuller(dir.resolve("state"), new NodeTemplates(Map.of(), dir.resolve("state/templates")), LOOPBACK_ALLOWED);
            assertThat(puller.pull(ref, null, null).templateId()).startsWith("img-");
            assertThat(authorizations).as("the storage's requests").isNotEmpty().containsOnly("null");
        } finally {
            store.stop(0);
        }
        // and with no operator allowance at all, the loopback registry itself is refused before any request
        int before = tokenRequests;
        ImagePuller publicOnly = new ImagePuller(dir.resolve("state"), new NodeTemplates(Map.of(), dir.resolve("state/templates")), RegistryPolicy.publicOnly());
        assertThatThrownBy(() -> publicOnly.pull(host() + "/cella/x:v1", null, null)).hasMessageContaining("loopback");
        assertThat(tokenRequests).isEqualTo(before);
    }

    @Test
    void referencesReadAsDockerReadsThem() {
        assertThat(ImageReference.parse("python:3.11")).isEqualTo(new ImageReference("registry-1.docker.io", "library/python", "3.11", null));
        assertThat(ImageReference.parse("docker.io/org/app")).isEqualTo(new ImageReference("registry-1.docker.io", "org/app", "latest", null));
        assertThat(ImageReference.parse("localhost:5000/a/b:v2").base()).isEqualTo("http://localhost:5000");
        assertThat(ImageReference.parse("ghcr.io/o/i@sha256:" + "a".repeat(64)).reference()).isEqualTo("sha256:" + "a".repeat(64));
        assertThatThrownBy(() -> ImageReference.parse("Bad Name")).isInstanceOf(Problem.Invalid.class);
    }
}
