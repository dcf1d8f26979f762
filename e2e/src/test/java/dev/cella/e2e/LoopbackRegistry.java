package dev.cella.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real OCI registry on loopback (Debian's docker-registry, installed by
 * scripts/install-prereqs.sh --with-tests) and an image the test makes itself from a
 * busybox root: a first layer, then one that adds a file, deletes one (a whiteout) and
 * replaces a directory (opaque), behind an image index — pushed with the registry's own
 * upload protocol.
 */
final class LoopbackRegistry implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    final Path dir;
    final int port;
    private final Process process;

    /** Basic credentials every request to it must carry (null: anonymous). */
    private final String authorization;

    LoopbackRegistry() throws Exception {
        this(null, null);
    }

    /** A registry that wants this username and password (htpasswd, bcrypt as it requires). */
    LoopbackRegistry(String username, String password) throws Exception {
        Path binary = Path.of("/usr/bin/docker-registry");
        assertThat(binary).as("docker-registry is installed by scripts/install-prereqs.sh --with-tests").exists();
        dir = Files.createTempDirectory("cella-registry");
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String auth = "";
        if (username != null) {
            Process p = new ProcessBuilder("python3", "-W", "ignore", "-c", "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))",
                    password).start();
            String hash = new String(p.getInputStream().readAllBytes()).trim();
            assertThat(p.waitFor()).isZero();
            Files.writeString(dir.resolve("htpasswd"), username + ":" + hash + "\n");
            auth = "auth:\n  htpasswd:\n    realm: cella-test\n    path: " + dir.resolve("htpasswd") + "\n";
            authorization = "Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes());
        } else {
            authorization = null;
        }
        Files.writeString(dir.resolve("config.yml"), "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: "
                + dir.resolve("data") + "\nhttp:\n  addr: 127.0.0.1:" + port + "\n" + auth);
        process = new ProcessBuilder(binary.toString(), "serve", dir.resolve("config.yml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                int status = HTTP.send(HttpRequest.newBuilder(URI.create(url() + "/v2/")).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status == 200 || status == 401) break;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) throw notYet;
                Thread.sleep(100);
            }
        }
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** Makes and pushes the busybox image; returns its reference by the index's tag ({@code 127.0.0.1:PORT/repo:multi}). */
    String pushBusyboxImage(String repo) throws Exception {
        Path l1 = dir.resolve("l1"), l2 = dir.resolve("l2");
        sh("mkdir -p " + l1 + "/bin " + l1 + "/etc " + l1 + "/tmp " + l1 + "/opq && cp /bin/busybox " + l1 + "/bin/busybox"
                + " && for a in sh cat ls echo whoami test env id; do ln -s busybox " + l1 + "/bin/$a; done"
                // the E2B SDK runs commands with bash -l -c: a shim onto busybox's sh
                + " && printf '#!/bin/sh\\n[ \"$1\" = -l ] && shift\\nexec /bin/sh \"$@\"\\n' > " + l1 + "/bin/bash && chmod 755 " + l1 + "/bin/bash"
                + " && printf 'root:x:0:0:root:/root:/bin/sh\\nuser:x:1000:1000::/home/user:/bin/sh\\n' > " + l1 + "/etc/passwd"
                + " && printf 'root:x:0:\\nuser:x:1000:\\n' > " + l1 + "/etc/group && chmod 1777 " + l1 + "/tmp && mkdir -p " + l1 + "/root"
                + " && echo old > " + l1 + "/opq/old.txt && echo doomed > " + l1 + "/removed.txt"
                + " && mkdir -p " + l2 + "/etc " + l2 + "/opq && echo 'hello layer 2' > " + l2 + "/etc/greeting && : > " + l2 + "/.wh.removed.txt"
                + " && : > " + l2 + "/opq/.wh..wh..opq && echo new > " + l2 + "/opq/new.txt"
                + " && tar -czf " + dir.resolve("l1.tgz") + " -C " + l1 + " . && tar -czf " + dir.resolve("l2.tgz") + " -C " + l2 + " .");
        Files.writeString(dir.resolve("config.json"), "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\",\"GREETING=from-image\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
        var config = push(repo, dir.resolve("config.json"), "application/vnd.oci.image.config.v1+json");
        var layer1 = push(repo, dir.resolve("l1.tgz"), "application/vnd.oci.image.layer.v1.tar+gzip");
        var layer2 = push(repo, dir.resolve("l2.tgz"), "application/vnd.oci.image.layer.v1.tar+gzip");
        String manifestType = "application/vnd.oci.image.manifest.v1+json";
        Map<String, Object> manifest = Map.of("schemaVersion", 2, "mediaType", manifestType, "config", config, "layers", List.of(layer1, layer2));
        String manifestDigest = putManifest(repo, "v1", manifest, manifestType);
        String indexType = "application/vnd.oci.image.index.v1+json";
        putManifest(repo, "multi", Map.of("schemaVersion", 2, "mediaType", indexType, "manifests", List.of(
                Map.of("mediaType", manifestType, "digest", manifestDigest, "size", JSON.writeValueAsBytes(manifest).length,
                        "platform", Map.of("architecture", "amd64", "os", "linux")))), indexType);
        return "127.0.0.1:" + port + "/" + repo + ":multi";
    }

    static void sh(String script) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(script + "\n" + out).isZero();
    }

    static String digest(byte[] b) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** A monolithic blob upload: POST for a location, PUT the bytes with their digest. */
    private Map<String, Object> push(String repo, Path blob, String mediaType) throws Exception {
        String d = digest(Files.readAllBytes(blob));
        var start = HTTP.send(request(URI.create(url() + "/v2/" + repo + "/blobs/uploads/")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.discarding());
        assertThat(start.statusCode()).isEqualTo(202);
        String location = start.headers().firstValue("Location").orElseThrow();
        URI put = URI.create(location.startsWith("http") ? location : url() + location);
        var done = HTTP.send(request(URI.create(put + (put.getQuery() == null ? "?" : "&") + "digest=" + d))
                .header("Content-Type", "application/octet-stream").PUT(HttpRequest.BodyPublishers.ofFile(blob)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
        return Map.of("mediaType", mediaType, "digest", d, "size", Files.size(blob));
    }

    private String putManifest(String repo, String tag, Object manifest, String mediaType) throws Exception {
        byte[] body = JSON.writeValueAsBytes(manifest);
        var r = HTTP.send(request(URI.create(url() + "/v2/" + repo + "/manifests/" + tag)).header("Content-Type", mediaType)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return digest(body);
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri);
        if (authorization != null) b.header("Authorization", authorization);
        return b;
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
