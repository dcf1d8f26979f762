package dev.cella.envd.fs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cella.envd.EnvdFixture;
import dev.cella.protocol.envd.EnvdClient.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class FilesystemServiceTest {
    static EnvdFixture envd;
    static Path home;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(EnvdFixture.isRoot(), "envd runs as root in every sandbox; these tests need root (CI is root)");
        envd = new EnvdFixture();
        home = envd.nobodyHome;
    }

    @AfterAll
    static void stop() throws Exception {
        if (envd != null) envd.close();
    }

    @Test
    void statDescribesAFileCompletely() throws Exception {
        Path f = Files.writeString(home.resolve("stat.txt"), "12345");
        JsonNode e = envd.unary("filesystem.Filesystem/Stat", "{\"path\":\"stat.txt\"}").body().path("entry");
        assertThat(e.path("name").asText()).isEqualTo("stat.txt");
        assertThat(e.path("path").asText()).isEqualTo(f.toString());
        assertThat(e.path("type").asText()).isEqualTo("FILE_TYPE_FILE");
        assertThat(e.path("size").asText()).isEqualTo("5");
        assertThat(e.path("permissions").asText()).isEqualTo("-rw-r--r--");
        assertThat(e.path("mode").asInt()).isEqualTo(0644);
        assertThat(e.path("owner").asText()).isEqualTo("root");
        assertThat(e.path("modifiedTime").asText()).endsWith("Z");
    }

    @Test
    void aSymlinkShowsItsTargetAndTheTargetsType() throws Exception {
        Path dir = Files.createDirectories(home.resolve("real-dir"));
        Files.createSymbolicLink(home.resolve("link"), dir);
        JsonNode e = envd.unary("filesystem.Filesystem/Stat", "{\"path\":\"~/link\"}").body().path("entry");
        assertThat(e.path("type").asText()).isEqualTo("FILE_TYPE_DIRECTORY");
        assertThat(e.path("symlinkTarget").asText()).isEqualTo(dir.toString());
        assertThat(e.path("permissions").asText()).startsWith("L");
    }

    @Test
    void missingPathsAreNotFound() throws Exception {
        var r = envd.unary("filesystem.Filesystem/Stat", "{\"path\":\"/no/such/file\"}");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.body().path("code").asText()).isEqualTo("not_found");
    }

    @Test
    void makeDirCreatesParentsOwnedByTheUserAndRefusesAnExistingOne() throws Exception {
        var r = envd.unary("filesystem.Filesystem/MakeDir", "{\"path\":\"a/b/c\"}");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body().path("entry").path("type").asText()).isEqualTo("FILE_TYPE_DIRECTORY");
        for (String p : List.of("a", "a/b", "a/b/c")) {
            assertThat(Files.getAttribute(home.resolve(p), "unix:uid")).isEqualTo(EnvdFixture.NOBODY);
        }
        var again = envd.unary("filesystem.Filesystem/MakeDir", "{\"path\":\"a/b/c\"}");
        assertThat(again.body().path("code").asText()).isEqualTo("already_exists");
    }

    @Test
    void listDirWalksDepthFirstToTheRequestedDepth() throws Exception {
        Path root = Files.createDirectories(home.resolve("tree"));
        Files.createDirectories(root.resolve("b/inner/deeper"));
        Files.writeString(root.resolve("a.txt"), "a");
        Files.writeString(root.resolve("b/inner/x.txt"), "x");
        Files.createSymbolicLink(root.resolve("c-link"), Path.of("/"));
        List<String> depth1 = paths(envd.unary("filesystem.Filesystem/ListDir", "{\"path\":\"" + root + "\",\"depth\":1}").body());
        assertThat(depth1).containsExactly("a.txt", "b", "c-link");
        List<String> depth3 = paths(envd.unary("filesystem.Filesystem/ListDir", "{\"path\":\"" + root + "\",\"depth\":3}").body());
        assertThat(depth3).containsExactly("a.txt", "b", "b/inner", "b/inner/deeper", "b/inner/x.txt", "c-link");
        var notDir = envd.unary("filesystem.Filesystem/ListDir", "{\"path\":\"" + root.resolve("a.txt") + "\"}");
        assertThat(notDir.body().path("code").asText()).isEqualTo("invalid_argument");
    }

    private static List<String> paths(JsonNode res) {
        List<String> out = new ArrayList<>();
        for (JsonNode e : res.path("entries")) out.add(home.resolve("tree").relativize(Path.of(e.path("path").asText())).toString());
        return out;
    }

    @Test
    void moveReplacesAndRemoveIsIdempotent() throws Exception {
        Files.writeString(home.resolve("from.txt"), "new");
        Files.writeString(home.resolve("to.txt"), "old");
        var moved = envd.unary("filesystem.Filesystem/Move", "{\"source\":\"from.txt\",\"destination\":\"sub/dir/to.txt\"}");
        assertThat(moved.status()).isEqualTo(200);
        assertThat(Files.readString(home.resolve("sub/dir/to.txt"))).isEqualTo("new");
        assertThat(envd.unary("filesystem.Filesystem/Move", "{\"source\":\"gone.txt\",\"destination\":\"x\"}").body().path("code").asText())
                .isEqualTo("not_found");
        assertThat(envd.unary("filesystem.Filesystem/Remove", "{\"path\":\"sub\"}").status()).isEqualTo(200);
        assertThat(Files.exists(home.resolve("sub"))).isFalse();
        assertThat(envd.unary("filesystem.Filesystem/Remove", "{\"path\":\"sub\"}").status()).isEqualTo(200);
    }

    @Test
    void recursiveWatchSeesDirectoriesCreatedAfterItStarted() throws Exception {
        Path dir = Files.createDirectories(home.resolve("watched"));
        try (Stream s = envd.stream("filesystem.Filesystem/WatchDir",
                "{\"path\":\"" + dir + "\",\"recursive\":true,\"includeEntry\":true}", "Connect-Timeout-Ms", "10000")) {
            assertThat(s.next().body().has("start")).isTrue();
            Files.createDirectories(dir.resolve("sub"));
            Thread.sleep(200); // the new directory's watch is added when its create event arrives
            Files.writeString(dir.resolve("sub/file.txt"), "hi");
            Thread.sleep(300); // the entry is taken when the event arrives: let it arrive while the file exists
            Files.delete(dir.resolve("sub/file.txt"));
            List<String> seen = new ArrayList<>();
            while (!seen.contains("sub/file.txt EVENT_TYPE_REMOVE")) {
                JsonNode ev = s.next().body().path("filesystem");
                if (ev.isMissingNode()) continue;
                seen.add(ev.path("name").asText() + " " + ev.path("type").asText());
                if (ev.path("type").asText().equals("EVENT_TYPE_CREATE") && ev.path("name").asText().equals("sub/file.txt")) {
                    assertThat(ev.path("entry").path("path").asText()).isEqualTo(dir.resolve("sub/file.txt").toString());
                }
            }
            assertThat(seen).contains("sub EVENT_TYPE_CREATE", "sub/file.txt EVENT_TYPE_CREATE", "sub/file.txt EVENT_TYPE_WRITE");
        }
    }

    @Test
    void polledWatchersCollectEventsUntilRemoved() throws Exception {
        Path dir = Files.createDirectories(home.resolve("polled"));
        String id = envd.unary("filesystem.Filesystem/CreateWatcher", "{\"path\":\"" + dir + "\"}").body().path("watcherId").asText();
        Files.writeString(dir.resolve("f"), "x");
        List<String> names = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 5000;
        while (names.isEmpty() && System.currentTimeMillis() < deadline) {
            for (JsonNode e : envd.unary("filesystem.Filesystem/GetWatcherEvents", "{\"watcherId\":\"" + id + "\"}").body().path("events")) {
                names.add(e.path("name").asText());
            }
            Thread.sleep(50);
        }
        assertThat(names).contains("f");
        assertThat(envd.unary("filesystem.Filesystem/RemoveWatcher", "{\"watcherId\":\"" + id + "\"}").status()).isEqualTo(200);
        assertThat(envd.unary("filesystem.Filesystem/GetWatcherEvents", "{\"watcherId\":\"" + id + "\"}").status()).isEqualTo(404);
    }
}
