package dev.cella.e2e;

import dev.cella.protocol.envd.EnvdClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The packaged envd (heap capped at 512 MiB by envd.args) under loads bigger than its heap. */
class EnvdLimitsTest {
    static SandboxedEnvd envd;
    static final HttpClient http = EnvdClient.newHttpClient(Duration.ofSeconds(5));
    static EnvdClient client;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Repo.isRoot(), "envd runs in namespaces; this needs root (CI is root)");
        envd = new SandboxedEnvd(Repo.baseRootfs(), SandboxedEnvd.freePort(), true);
        client = new EnvdClient(http, URI.create(envd.base));
    }

    @AfterAll
    static void stop() throws Exception {
        if (envd != null) envd.close();
    }

    /** A deterministic stream of {@code size} pseudo-random bytes, hashed as it is read. */
    static final class Generated extends InputStream {
        final MessageDigest sha = sha256();
        long left;
        long x = 0x9E3779B97F4A7C15L;

        Generated(long size) { left = size; }

        static MessageDigest sha256() {
            try { return MessageDigest.getInstance("SHA-256"); } catch (Exception e) { throw new IllegalStateException(e); }
        }

        @Override public int read() { byte[] b = new byte[1]; return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff; }

        @Override public int read(byte[] b, int off, int len) {
            if (left == 0) return -1;
            int n = (int) Math.min(len, left);
            for (int i = 0; i < n; i++) {
                x ^= x << 13; x ^= x >>> 7; x ^= x << 17;
                b[off + i] = (byte) x;
            }
            sha.update(b, off, n);
            left -= n;
            return n;
        }
    }

    @Test
    void anUploadBiggerThanTheHeapStreamsToDisk() throws Exception {
        assertThat(Files.readString(Repo.envdRuntime().resolve("envd.args"))).contains("-Xmx512m");
        long size = 700L << 20;
        Generated data = new Generated(size);
        var up = http.send(HttpRequest.newBuilder(URI.create(envd.base + "/files?path=big.bin"))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> data), size)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
        String expected = HexFormat.of().formatHex(data.sha.digest());
        var r = client.run(EnvdClient.Start.of("/bin/sh", "-c", "stat -c %s big.bin; sha256sum big.bin | cut -d' ' -f1; rm big.bin"), null);
        assertThat(r.output()).isEqualTo(size + "\n" + expected + "\n");
        long rssKb = envd.envdPid().map(EnvdLimitsTest::rssKb).orElseThrow();
        assertThat(rssKb).as("envd's resident memory after the upload, KiB").isLessThan(400 * 1024);
    }

    static long rssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }

    @Test
    void aCommandThatPrintsGigabytesIsStreamedNotBuffered() throws Exception {
        var r = client.run(EnvdClient.Start.of("/bin/sh", "-c", "head -c 1000000000 /dev/zero | wc -c; head -c 300000000 /dev/zero >&2; echo done"), null);
        // stdout and stderr are two pipes: envd keeps each in order, not their order against each other
        assertThat(r.stdout()).isEqualTo("1000000000\ndone\n");
        assertThat(r.bytes()).isEqualTo("1000000000\n".length() + 300_000_000L + "done\n".length());
        assertThat(r.exitCode()).isZero();
        long rssKb = envd.envdPid().map(EnvdLimitsTest::rssKb).orElseThrow();
        assertThat(rssKb).as("envd's resident memory after streaming 300 MB, KiB").isLessThan(400 * 1024);
    }
}
