package dev.cella.e2e;

import dev.cella.protocol.envd.EnvdClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * envd's runtime needs nothing from the image it runs in: here the root filesystem holds
 * a static busybox, /etc/passwd and /etc/group, and nothing else (no libc, no Java).
 */
class BusyboxRootTest {
    static Path root;
    static SandboxedEnvd envd;
    static final HttpClient http = EnvdClient.newHttpClient(Duration.ofSeconds(5));
    static EnvdClient client;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Repo.isRoot(), "envd runs in namespaces; this needs root (CI is root)");
        Path busybox = Path.of(System.getenv().getOrDefault("CELLA_BUSYBOX", "/bin/busybox"));
        assertThat(busybox).as("a static busybox (Debian busybox-static)").isExecutable();
        root = Files.createTempDirectory("busybox-root");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path bin = Files.createDirectories(root.resolve("bin"));
        Files.copy(busybox, bin.resolve("busybox"));
        for (String applet : new String[] {"sh", "id", "tty", "cat", "ls", "stty"}) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n");
        Files.writeString(root.resolve("etc/group"), "root:x:0:\nuser:x:1000:\n");
        Path home = Files.createDirectories(root.resolve("home/user"));
        Files.setAttribute(home, "unix:uid", 1000);
        Files.setAttribute(home, "unix:gid", 1000);
        Files.createDirectories(root.resolve("root"));
        try (var libs = Files.walk(root)) {
            assertThat(libs.filter(p -> p.getFileName().toString().contains(".so")).toList()).as("no shared library").isEmpty();
        }
        envd = new SandboxedEnvd(root, SandboxedEnvd.freePort(), true);
        client = new EnvdClient(http, URI.create(envd.base));
    }

    @AfterAll
    static void stop() throws Exception {
        if (envd != null) envd.close();
        if (root != null) {
            try (var walk = Files.walk(root)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void runsCommandsAsTheUser() throws Exception {
        var r = client.run(EnvdClient.Start.of("/bin/sh", "-c", "id; echo $HOME"), null);
        assertThat(r.output()).startsWith("uid=1000(user) gid=1000(user)").endsWith("/home/user\n");
        assertThat(r.exitCode()).isZero();
        assertThat(client.as("root").run(EnvdClient.Start.of("/bin/sh", "-c", "id -u"), null).output()).isEqualTo("0\n");
    }

    @Test
    void filesMayHaveAnyNameThoughTheImageHasNoLocale() throws Exception {
        String path = "/tmp/héllo-日本.txt";
        String query = "/files?path=" + URLEncoder.encode(path, StandardCharsets.UTF_8) + "&username=root";
        var up = client.send(client.request(query, Duration.ofSeconds(10)).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofString("hi")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
        assertThat(up.body()).contains("héllo-日本.txt");
        var down = client.send(client.request(query, Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(down.body()).isEqualTo("hi");
        assertThat(client.as("root").run(EnvdClient.Start.of("/bin/cat", path), null).output()).isEqualTo("hi");
    }

    @Test
    void givesATerminal() throws Exception {
        var r = client.run(EnvdClient.Start.of("/bin/sh", "-c", "tty; stty size").pty(80, 24), null);
        assertThat(r.output()).containsPattern("/dev/pts/\\d+\r\n24 80");
    }

    @Test
    void movesFilesInAndOut() throws Exception {
        var up = http.send(HttpRequest.newBuilder(URI.create(envd.base + "/files?path=note.txt"))
                .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofString("from the host")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(up.statusCode()).isEqualTo(200);
        assertThat(client.run(EnvdClient.Start.of("/bin/sh", "-c", "cat /home/user/note.txt; ls -ln /home/user/note.txt"), null).output())
                .startsWith("from the host").contains(" 1000 ");
    }
}
