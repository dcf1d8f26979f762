package dev.cella.envd.files;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

@Tag("unit")
class GzipBodyTest {
    @TempDir
    Path spill;

    static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Hex digits of random bytes: compresses to a bit more than half. */
    static byte[] hexText(int size, long seed) {
        byte[] b = new byte[size];
        Random r = new Random(seed);
        for (int i = 0; i < size; i++) b[i] = (byte) "0123456789abcdef\n".charAt(r.nextInt(17));
        return b;
    }

    static byte[] gunzip(GzipBody body) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        body.writeTo(out);
        assertThat((long) out.size()).isEqualTo(body.length());
        return new GZIPInputStream(new ByteArrayInputStream(out.toByteArray())).readAllBytes();
    }

    @Test
    void compressibleDataIsGzipped() throws Exception {
        byte[] text = "a line of a log file\n".repeat(50_000).getBytes();
        try (GzipBody body = GzipBody.compress(new ByteArrayInputStream(text), false, spill)) {
            assertThat(body).isNotNull();
            assertThat(body.length()).isLessThan(text.length / 10);
            assertThat(gunzip(body)).isEqualTo(text);
        }
    }

    @Test
    void incompressibleDataIsNotGzippedUnlessIdentityIsRefused() throws Exception {
        byte[] data = random(3 * GzipBody.BLOCK + 17, 1);
        assertThat(GzipBody.compress(new ByteArrayInputStream(data), false, spill)).isNull();
        try (GzipBody body = GzipBody.compress(new ByteArrayInputStream(data), true, spill)) {
            assertThat(gunzip(body)).isEqualTo(data);
        }
    }

    @Test
    void compressibleHeadThenIncompressibleTailIsNotGzipped() throws Exception {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        data.writeBytes(new byte[GzipBody.BLOCK]);
        data.writeBytes(random(20 * GzipBody.BLOCK, 2));
        assertThat(GzipBody.compress(new ByteArrayInputStream(data.toByteArray()), false, spill)).isNull();
    }

    @Test
    void outputBeyondTheMemoryBlocksGoesToAnUnlinkedFileAndComesBackWhole() throws Exception {
        // ~ 0.6 of 12 MiB: more output than the 4 MiB kept in memory
        byte[] text = hexText(12 << 20, 3);
        try (GzipBody body = GzipBody.compress(new ByteArrayInputStream(text), false, spill)) {
            assertThat(body).isNotNull();
            assertThat(body.length()).isGreaterThan((long) GzipBody.MEMORY_BLOCKS * GzipBody.BLOCK);
            assertThat(gunzip(body)).isEqualTo(text);
            try (var left = Files.list(spill)) {
                assertThat(left).isEmpty(); // unlinked at once
            }
        }
    }

    @Test
    void emptyAndTinyInputs() throws Exception {
        assertThat(GzipBody.compress(new ByteArrayInputStream(new byte[0]), false, spill)).isNull();
        assertThat(GzipBody.compress(new ByteArrayInputStream("hi".getBytes()), false, spill)).isNull();
        try (GzipBody body = GzipBody.compress(new ByteArrayInputStream(new byte[0]), true, spill)) {
            assertThat(gunzip(body)).isEmpty();
        }
    }
}
