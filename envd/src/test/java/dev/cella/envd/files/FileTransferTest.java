package dev.cella.envd.files;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cella.envd.EnvdFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class FileTransferTest {
    static final String TOKEN = "secret-token-" + System.nanoTime();
    static EnvdFixture envd;
    static Path home;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(EnvdFixture.isRoot(), "envd runs as root in every sandbox; these tests need root (CI is root)");
        envd = new EnvdFixture(TOKEN);
        home = envd.nobodyHome;
    }

    @AfterAll
    static void stop() throws Exception {
        if (envd != null) envd.close();
    }

    static String q(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    HttpResponse<byte[]> send(HttpRequest.Builder b) throws Exception {
        return envd.http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpRequest.Builder files(String query) {
        return HttpRequest.newBuilder(URI.create(envd.base + "/files?" + query));
    }

    @Test
    void octetStreamUploadIsOwnedByTheUserAndDownloadsBack() throws Exception {
        byte[] data = new byte[256];
        for (int i = 0; i < 256; i++) data[i] = (byte) i;
        var up = send(files("path=" + q("bin/all.bytes")).header("X-Access-Token", TOKEN)
                .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofByteArray(data)));
        assertThat(up.statusCode()).isEqualTo(200);
        JsonNode written = EnvdFixture.JSON.readTree(up.body());
        assertThat(written.get(0).path("path").asText()).isEqualTo(home.resolve("bin/all.bytes").toString());
        assertThat(written.get(0).path("type").asText()).isEqualTo("file");
        assertThat(Files.getAttribute(home.resolve("bin/all.bytes"), "unix:uid")).isEqualTo(EnvdFixture.NOBODY);
        assertThat(Files.getAttribute(home.resolve("bin"), "unix:uid")).isEqualTo(EnvdFixture.NOBODY);
        var down = send(files("path=" + q("bin/all.bytes")).header("X-Access-Token", TOKEN).GET());
        assertThat(down.statusCode()).isEqualTo(200);
        assertThat(down.body()).isEqualTo(data);
    }

    @Test
    void gzipBothWays() throws Exception {
        byte[] text = "hello gzip\n".repeat(1000).getBytes();
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(text);
        }
        var up = send(files("path=gz.txt").header("X-Access-Token", TOKEN).header("Content-Type", "application/octet-stream")
                .header("Content-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofByteArray(gz.toByteArray())));
        assertThat(up.statusCode()).isEqualTo(200);
        assertThat(Files.readAllBytes(home.resolve("gz.txt"))).isEqualTo(text);
        var down = send(files("path=gz.txt").header("X-Access-Token", TOKEN).header("Accept-Encoding", "gzip").GET());
        assertThat(down.headers().firstValue("Content-Encoding")).contains("gzip");
        assertThat(new GZIPInputStream(new ByteArrayInputStream(down.body())).readAllBytes()).isEqualTo(text);
    }

    @Test
    void downloadsGoAsStoredUnlessGzipIsAskedForAndPays() throws Exception {
        byte[] random = new byte[3 << 20];
        new Random(7).nextBytes(random);
        Files.write(home.resolve("random.bin"), random);
        byte[] text = "a line of a log, again and again\n".repeat(100_000).getBytes();
        Files.write(home.resolve("log.txt"), text);
        // asked for explicitly, but random data does not shrink: as stored, with its length
        var asked = send(files("path=random.bin").header("X-Access-Token", TOKEN).header("Accept-Encoding", "gzip").GET());
        assertThat(asked.statusCode()).isEqualTo(200);
        assertThat(asked.headers().firstValue("Content-Encoding")).isEmpty();
        assertThat(asked.headers().firstValue("Content-Length")).contains(String.valueOf(random.length));
        assertThat(asked.body()).isEqualTo(random);
        // what fetch and httpx send by themselves is not a request for gzip
        var implicit = send(files("path=log.txt").header("X-Access-Token", TOKEN).header("Accept-Encoding", "gzip, deflate").GET());
        assertThat(implicit.headers().firstValue("Content-Encoding")).isEmpty();
        assertThat(implicit.headers().firstValue("Content-Length")).contains(String.valueOf(text.length));
        assertThat(implicit.body()).isEqualTo(text);
        // compressible and asked for: gzip, with a Content-Length (no 4 KiB chunks)
        var gz = send(files("path=log.txt").header("X-Access-Token", TOKEN).header("Accept-Encoding", "gzip").GET());
        assertThat(gz.headers().firstValue("Content-Encoding")).contains("gzip");
        assertThat(gz.headers().firstValue("Transfer-Encoding")).isEmpty();
        assertThat(gz.headers().firstValue("Content-Length")).contains(String.valueOf(gz.body().length));
        assertThat(gz.body().length).isLessThan(text.length / 10);
        assertThat(new GZIPInputStream(new ByteArrayInputStream(gz.body())).readAllBytes()).isEqualTo(text);
        // identity refused: gzip even for random data
        var forced = send(files("path=random.bin").header("X-Access-Token", TOKEN).header("Accept-Encoding", "gzip, identity;q=0").GET());
        assertThat(forced.headers().firstValue("Content-Encoding")).contains("gzip");
        assertThat(new GZIPInputStream(new ByteArrayInputStream(forced.body())).readAllBytes()).isEqualTo(random);
        assertThat(send(files("path=random.bin").header("X-Access-Token", TOKEN).header("Accept-Encoding", "br, identity;q=0").GET())
                .statusCode()).isEqualTo(406);
    }

    @Test
    void largeUploadsAndDownloadsArriveIntact() throws Exception {
        byte[] data = new byte[40 << 20];
        new Random(11).nextBytes(data);
        String boundary = "----cella" + System.nanoTime();
        byte[] nearMiss = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        for (int at = 1000; at + nearMiss.length < data.length; at += 300_001) { // prefixes of the delimiter, never all of it
            int length = 1 + at % (nearMiss.length - 1);
            System.arraycopy(nearMiss, 0, data, at, length);
            // the byte after a prefix must not go on with the delimiter: random data completed it 1 time in 256
            data[at + length] = (byte) ~nearMiss[length];
        }
        ByteArrayOutputStream multipart = new ByteArrayOutputStream();
        multipart.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        multipart.writeBytes(data);
        multipart.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1));
        var up = send(files("path=big/multipart.bin").header("X-Access-Token", TOKEN)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(multipart.toByteArray())));
        assertThat(up.statusCode()).isEqualTo(200);
        assertThat(Files.readAllBytes(home.resolve("big/multipart.bin"))).isEqualTo(data);
        // a body of unknown length comes chunked
        var octet = send(files("path=big/octet.bin").header("X-Access-Token", TOKEN).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(data))));
        assertThat(octet.statusCode()).isEqualTo(200);
        assertThat(Files.readAllBytes(home.resolve("big/octet.bin"))).isEqualTo(data);
        var down = send(files("path=big/octet.bin").header("X-Access-Token", TOKEN).header("Accept-Encoding", "gzip").GET());
        assertThat(down.headers().firstValue("Content-Length")).contains(String.valueOf(data.length));
        assertThat(MessageDigest.getInstance("SHA-256").digest(down.body())).isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
        var range = send(files("path=big/octet.bin").header("X-Access-Token", TOKEN).header("Range", "bytes=1000000-21000000").GET());
        assertThat(range.statusCode()).isEqualTo(206);
        assertThat(range.body()).isEqualTo(Arrays.copyOfRange(data, 1_000_000, 21_000_001));
    }

    @Test
    void multipartWritesEveryFilePartToItsFilename() throws Exception {
        String boundary = "----cella" + System.nanoTime();
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"multi/one.txt\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\nfirst\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + home.resolve("multi/two.txt") + "\"\r\n\r\nsecond\r\n"
                + "--" + boundary + "--\r\n";
        var up = send(files("").header("X-Access-Token", TOKEN).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
        assertThat(up.statusCode()).isEqualTo(200);
        assertThat(EnvdFixture.JSON.readTree(up.body())).hasSize(2);
        assertThat(Files.readString(home.resolve("multi/one.txt"))).isEqualTo("first");
        assertThat(Files.readString(home.resolve("multi/two.txt"))).isEqualTo("second");
    }

    @Test
    void metadataTravelsWithTheFile() throws Exception {
        var up = send(files("path=meta.txt").header("X-Access-Token", TOKEN).header("Content-Type", "application/octet-stream")
                .header("X-Metadata-Owner-Team", "blue").POST(HttpRequest.BodyPublishers.ofString("m")));
        assertThat(up.statusCode()).isEqualTo(200);
        assertThat(EnvdFixture.JSON.readTree(up.body()).get(0).path("metadata").path("owner-team").asText()).isEqualTo("blue");
        JsonNode entry = envd.unary("filesystem.Filesystem/Stat", "{\"path\":\"meta.txt\"}", "X-Access-Token", TOKEN).body().path("entry");
        assertThat(entry.path("metadata").path("owner-team").asText()).isEqualTo("blue");
        var bad = send(files("path=meta2.txt").header("X-Access-Token", TOKEN).header("Content-Type", "application/octet-stream")
                .header("X-Metadata-" + "k".repeat(300), "too long a key").POST(HttpRequest.BodyPublishers.ofString("m")));
        assertThat(bad.statusCode()).isEqualTo(400);
    }

    @Test
    void errorsAreClearAndInE2bsFormat() throws Exception {
        var missing = send(files("path=nope.txt").header("X-Access-Token", TOKEN).GET());
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(EnvdFixture.JSON.readTree(missing.body()).path("code").asInt()).isEqualTo(404);
        Files.createDirectories(home.resolve("adir"));
        assertThat(send(files("path=adir").header("X-Access-Token", TOKEN).GET()).statusCode()).isEqualTo(400);
        assertThat(send(files("").header("X-Access-Token", TOKEN).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofString("x"))).statusCode()).isEqualTo(400);
        assertThat(send(files("path=x").header("X-Access-Token", TOKEN).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("x"))).statusCode()).isEqualTo(400);
        assertThat(send(files("path=x&username=ghost").header("X-Access-Token", TOKEN).GET()).statusCode()).isEqualTo(401);
    }

    /** The signature as the E2B SDK computes it (signature.ts), written out here independently. */
    static String sdkSignature(String path, String op, String user, Long exp) throws Exception {
        String raw = path + ":" + op + ":" + user + ":" + TOKEN + (exp == null ? "" : ":" + exp);
        byte[] d = MessageDigest.getInstance("SHA-256").digest(raw.getBytes(StandardCharsets.UTF_8));
        return "v1_" + Base64.getEncoder().encodeToString(d).replaceAll("=+$", "");
    }

    @Test
    void signedUrlsWorkWithoutTheTokenAndExpire() throws Exception {
        Files.writeString(home.resolve("signed.txt"), "signed content");
        String sig = sdkSignature("signed.txt", "read", "nobody", null);
        var ok = send(files("path=signed.txt&username=nobody&signature=" + q(sig)).GET());
        assertThat(new String(ok.body())).isEqualTo("signed content");
        assertThat(send(files("path=signed.txt").GET()).statusCode()).isEqualTo(401);
        String tampered = sig.substring(0, sig.length() - 2) + (sig.endsWith("A") ? "BB" : "AA");
        assertThat(send(files("path=signed.txt&username=nobody&signature=" + q(tampered)).GET()).statusCode()).isEqualTo(401);
        long past = System.currentTimeMillis() / 1000 - 10;
        String expired = sdkSignature("signed.txt", "read", "nobody", past);
        assertThat(send(files("path=signed.txt&username=nobody&signature=" + q(expired) + "&signature_expiration=" + past).GET())
                .statusCode()).isEqualTo(401);
        long future = System.currentTimeMillis() / 1000 + 60;
        String upload = sdkSignature("up.txt", "write", "", future);
        var up = send(files("path=up.txt&signature=" + q(upload) + "&signature_expiration=" + future)
                .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofString("via url")));
        assertThat(up.statusCode()).isEqualTo(200);
        assertThat(Files.readString(home.resolve("up.txt"))).isEqualTo("via url");
        // a read signature does not allow a write
        assertThat(send(files("path=signed.txt&username=nobody&signature=" + q(sig)).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofString("x"))).statusCode()).isEqualTo(401);
    }

    @Test
    void theAccessTokenGuardsEverythingButHealth() throws Exception {
        assertThat(envd.unary("process.Process/List", "{}").status()).isEqualTo(401);
        assertThat(envd.unary("process.Process/List", "{}", "X-Access-Token", TOKEN).status()).isEqualTo(200);
        assertThat(send(HttpRequest.newBuilder(URI.create(envd.base + "/envs")).GET()).statusCode()).isEqualTo(401);
        assertThat(send(HttpRequest.newBuilder(URI.create(envd.base + "/health")).GET()).statusCode()).isEqualTo(204);
        // /init cannot take the sandbox over without the token
        var takeover = send(HttpRequest.newBuilder(URI.create(envd.base + "/init"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"accessToken\":\"mine\"}")));
        assertThat(takeover.statusCode()).isEqualTo(401);
        var metrics = send(HttpRequest.newBuilder(URI.create(envd.base + "/metrics")).header("X-Access-Token", TOKEN).GET());
        JsonNode m = EnvdFixture.JSON.readTree(metrics.body());
        assertThat(m.path("mem_total").asLong()).isPositive();
        assertThat(m.path("disk_total").asLong()).isPositive();
        assertThat(m.path("cpu_count").asInt()).isPositive();
    }
}
