package dev.cella.protocol.http;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Tag("unit")
class MultipartPartsTest {
    static final String B = "----formdata-undici-012345678901";

    record Part(String field, String filename, byte[] body) {}

    /** Hands out at most {@code max} bytes a read, a random number of them when {@code max} > 1. */
    static InputStream trickle(byte[] bytes, int max, long seed) {
        Random r = new Random(seed);
        return new FilterInputStream(new ByteArrayInputStream(bytes)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return super.read(b, off, Math.min(len, max == 1 ? 1 : 1 + r.nextInt(max)));
            }
        };
    }

    static List<Part> parse(InputStream in, boolean viaTransferTo) throws IOException {
        List<Part> parts = new ArrayList<>();
        MultipartParts.read(in, B, 1024, (field, filename, body) -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (viaTransferTo) body.transferTo(out);
            else out.writeBytes(body.readAllBytes());
            parts.add(new Part(field, filename, out.toByteArray()));
        });
        return parts;
    }

    static byte[] body(String preamble, byte[]... files) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(preamble.getBytes(StandardCharsets.ISO_8859_1));
        for (int i = 0; i < files.length; i++) {
            out.writeBytes(("--" + B + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f" + i
                    + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.writeBytes(files[i]);
            out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        out.writeBytes(("--" + B + "--\r\n").getBytes(StandardCharsets.ISO_8859_1));
        return out.toByteArray();
    }

    /** Random bytes sown with near misses of the delimiter. */
    static byte[] tricky(int size, long seed) {
        Random r = new Random(seed);
        byte[] b = new byte[size];
        r.nextBytes(b);
        byte[] almost = ("\r\n--" + B).getBytes(StandardCharsets.ISO_8859_1);
        for (int at = r.nextInt(1000); at + almost.length < size; at += 1 + r.nextInt(70_000)) {
            int len = 1 + r.nextInt(almost.length - 1); // a proper prefix: never the whole delimiter
            System.arraycopy(almost, 0, b, at, len);
        }
        return b;
    }

    @Test
    void partsArriveWholeWhateverTheReadSizes() throws Exception {
        byte[] big = tricky(3 * MultipartParts.BUFFER + 12345, 1);
        byte[] small = "second file".getBytes();
        byte[] body = body("", big, new byte[0], small);
        for (int max : new int[] {1 << 20, 8192, 77, 1}) {
            byte[] in = max == 1 ? body(" preamble\r\n", tricky(5000, 2), small) : body;
            for (boolean transfer : new boolean[] {true, false}) {
                List<Part> parts = parse(trickle(in, max, max), transfer);
                if (max == 1) {
                    assertThat(parts).hasSize(2);
                    assertThat(parts.get(0).body()).isEqualTo(tricky(5000, 2));
                    continue;
                }
                assertThat(parts).extracting(Part::filename).containsExactly("f0", "f1", "f2");
                assertThat(parts).extracting(Part::field).containsOnly("file");
                assertThat(parts.get(0).body()).isEqualTo(big);
                assertThat(parts.get(1).body()).isEmpty();
                assertThat(parts.get(2).body()).isEqualTo(small);
            }
        }
    }

    @Test
    void unreadPartsAreSkippedAndAPartMayHaveNoHeaders() throws Exception {
        String text = "--" + B + "\r\n\r\nno headers\r\n--" + B + "  \r\ncontent-disposition: form-data; name=path\r\n\r\n/x\r\n--" + B + "--";
        List<String> seen = new ArrayList<>();
        MultipartParts.read(new ByteArrayInputStream(text.getBytes()), B, 1024, (field, filename, part) -> {
            seen.add(field + "=" + (field == null ? "" : new String(part.readAllBytes())));
        });
        assertThat(seen).containsExactly("null=", "path=/x");
    }

    @Test
    void fileNamesAreUtf8() throws Exception {
        String name = "\u00fcn\u00ef\uD83D\uDE00 a&b.txt";
        byte[] body = ("--" + B + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"\r\n\r\nx\r\n--" + B + "--\r\n")
                .getBytes(StandardCharsets.UTF_8);
        assertThat(parse(new ByteArrayInputStream(body), true)).extracting(Part::filename).containsExactly(name);
    }

    @Test
    void malformedBodiesAreMalformed() {
        assertThatThrownBy(() -> parse(new ByteArrayInputStream("no boundary at all".getBytes()), true))
                .isInstanceOf(MultipartParts.Malformed.class);
        byte[] truncated = ("--" + B + "\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nhalf a file").getBytes();
        assertThatThrownBy(() -> parse(new ByteArrayInputStream(truncated), true)).isInstanceOf(MultipartParts.Malformed.class);
        byte[] hugeHeader = ("--" + B + "\r\nX-Long: " + "h".repeat(5000) + "\r\n\r\nx\r\n--" + B + "--").getBytes();
        assertThatThrownBy(() -> parse(new ByteArrayInputStream(hugeHeader), true)).isInstanceOf(MultipartParts.TooLarge.class);
        byte[] junkAfterBoundary = ("--" + B + "junk\r\n\r\nx\r\n--" + B + "--").getBytes();
        assertThatThrownBy(() -> parse(new ByteArrayInputStream(junkAfterBoundary), true)).isInstanceOf(MultipartParts.Malformed.class);
    }
}
