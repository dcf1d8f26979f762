package dev.cella.protocol.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads multipart/form-data bodies as they arrive, part by part, without holding a part
 * in memory.
 *
 * <p>Its own reader rather than commons-fileupload's: that one hands out a part in pieces
 * of at most its 8 KiB buffer (the upload then went to disk in 8 KiB writes) and looks for
 * the boundary byte by byte (~0.6 s of CPU for 256 MiB). This one fills a
 * {@value #BUFFER}-byte buffer, finds the delimiter with Boyer-Moore-Horspool (it skips
 * up to the delimiter's length at each step) and writes a part's bytes to their
 * destination straight from that buffer ({@link InputStream#transferTo}). Malformed
 * input throws {@link Malformed}, which callers answer with 400 (413 for {@link TooLarge}).
 *
 * <p>Shared by envd's uploads and the server's (the native API's files, template files).
 */
public final class MultipartParts {
    private MultipartParts() {}

    /** The body is not multipart/form-data as RFC 7578 has it: the client's mistake. */
    public static class Malformed extends IOException {
        public Malformed(String message) {
            super(message);
        }
    }

    /** A part's headers are larger than the limit. */
    public static final class TooLarge extends Malformed {
        public TooLarge(String message) {
            super(message);
        }
    }

    /** The reader's buffer: a part's bytes leave it in writes of up to this size. */
    static final int BUFFER = 256 * 1024;

    /** One part: its field name, its file name (null for a plain field), its bytes as they arrive. */
    @FunctionalInterface
    public interface PartReader {
        void read(String field, String filename, InputStream body) throws IOException;
    }

    /**
     * Reads a multipart body part by part, in order, as it arrives: what the reader leaves
     * unread of a part is skipped. A reader that throws stops the reading at once (nothing
     * more of the body is read). Malformed input throws {@link Malformed}.
     */
    public static void read(InputStream body, String boundary, int maxPartHeader, PartReader reader) throws IOException {
        new PartsReader(body, boundary, maxPartHeader).read(reader);
    }

    /** A streaming multipart reader over one buffer (RFC 7578, RFC 2046 5.1.1). */
    private static final class PartsReader {
        private final InputStream in;
        /** CRLF "--" boundary: what ends every part. */
        private final byte[] delimiter;
        /** Boyer-Moore-Horspool: how far the search may move on, by the byte under the delimiter's last byte. */
        private final int[] skip = new int[256];
        private final int maxPartHeader;
        private final byte[] buf;
        private int pos, lim;
        /** No delimiter starts in [pos, scanned). */
        private int scanned;
        private boolean eof;

        PartsReader(InputStream in, String boundary, int maxPartHeader) throws Malformed {
            if (boundary.isEmpty() || boundary.length() > 200) throw new Malformed("invalid multipart boundary");
            this.in = in;
            this.delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
            this.maxPartHeader = maxPartHeader;
            int m = delimiter.length;
            Arrays.fill(skip, m);
            for (int j = 0; j < m - 1; j++) skip[delimiter[j] & 0xff] = m - 1 - j;
            buf = new byte[Math.max(BUFFER, 2 * (maxPartHeader + m))];
            // the first delimiter may open the body without a CRLF before it: read as if there were one
            buf[0] = '\r';
            buf[1] = '\n';
            lim = 2;
        }

        void read(PartReader reader) throws IOException {
            skipToDelimiter(); // the preamble
            while (true) {
                pos += delimiter.length;
                scanned = pos;
                if (!ensure(2)) throw malformed();
                if (buf[pos] == '-' && buf[pos + 1] == '-') return; // the close delimiter; the epilogue is ignored
                while (true) { // transport padding, then the CRLF that ends the boundary line
                    if (!ensure(2)) throw malformed();
                    if (buf[pos] == ' ' || buf[pos] == '\t') pos++;
                    else break;
                }
                if (buf[pos] != '\r' || buf[pos + 1] != '\n') throw malformed();
                String disposition = headers(headerBlock()).getOrDefault("content-disposition", "");
                Part part = new Part();
                reader.read(dispositionParam(disposition, "name"), dispositionParam(disposition, "filename"), part);
                part.close(); // skips the rest of the part
            }
        }

        /** The part's header block, from the CRLF ending the boundary line to the empty line (both consumed). */
        private String headerBlock() throws IOException {
            int checked = 0; // offsets from pos already searched (pos is at the boundary line's CRLF)
            while (true) {
                for (int i = pos + checked; i + 3 < lim; i++) {
                    if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
                        if (i - pos > maxPartHeader) break;
                        // no headers at all is CRLF CRLF right here; browsers and fetch send file names in UTF-8
                        String text = i > pos ? new String(buf, pos + 2, i - pos - 2, StandardCharsets.UTF_8) : "";
                        pos = i + 4;
                        scanned = pos;
                        return text;
                    }
                }
                checked = Math.max(0, lim - pos - 3);
                if (lim - pos > maxPartHeader + 2) {
                    throw new TooLarge("a part's headers are larger than " + maxPartHeader + " bytes");
                }
                if (!fill()) throw malformed(); // fill keeps the offsets from pos
            }
        }

        /** Moves pos to the next delimiter; the bytes before it are dropped. */
        private void skipToDelimiter() throws IOException {
            while (true) {
                int end = scan();
                if (end >= 0) {
                    pos = end;
                    return;
                }
                pos = scanned;
                if (!fill()) throw malformed();
            }
        }

        /** The start of the delimiter in [pos, lim), or -1 (then no delimiter starts before {@link #scanned}). */
        private int scan() {
            int m = delimiter.length, last = m - 1;
            byte end = delimiter[last];
            int i = Math.max(scanned, pos);
            while (i + m <= lim) {
                byte c = buf[i + last];
                if (c == end && Arrays.equals(buf, i, i + last, delimiter, 0, last)) {
                    scanned = i;
                    return i;
                }
                i += skip[c & 0xff];
            }
            scanned = Math.min(i, lim);
            return -1;
        }

        /** At least n bytes at pos, unless the body ends first (false). */
        private boolean ensure(int n) throws IOException {
            while (lim - pos < n) {
                if (!fill()) return false;
            }
            return true;
        }

        /** Moves what is unread to the front and reads until the buffer is full; false when nothing more came. */
        private boolean fill() throws IOException {
            if (eof) return false;
            if (pos > 0) {
                System.arraycopy(buf, pos, buf, 0, lim - pos);
                lim -= pos;
                scanned = Math.max(0, scanned - pos);
                pos = 0;
            }
            int before = lim;
            while (lim < buf.length) {
                int n = in.read(buf, lim, buf.length - lim);
                if (n < 0) {
                    eof = true;
                    break;
                }
                lim += n;
            }
            return lim > before;
        }

        private static Malformed malformed() {
            return new Malformed("the multipart body ends before its closing boundary");
        }

        /** One part's bytes: from pos to the next delimiter. */
        private final class Part extends InputStream {
            private boolean closed;

            /** How many bytes of the part are in the buffer from pos; 0 at the part's end. */
            private int ready() throws IOException {
                while (true) {
                    int end = scan();
                    if (end >= 0) return end - pos; // the part ends here
                    // past scanned a delimiter may yet start: hold those bytes back
                    int safe = Math.max(pos, lim - (delimiter.length - 1));
                    if (safe > pos) return safe - pos;
                    if (!fill()) throw malformed();
                }
            }

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                Objects.checkFromIndexSize(off, len, b.length);
                if (closed) throw new IOException("the part is closed");
                if (len == 0) return 0;
                int n = Math.min(ready(), len);
                if (n == 0) return -1;
                System.arraycopy(buf, pos, b, off, n);
                pos += n;
                return n;
            }

            @Override
            public long transferTo(OutputStream out) throws IOException {
                if (closed) throw new IOException("the part is closed");
                long total = 0;
                int n;
                while ((n = ready()) > 0) {
                    out.write(buf, pos, n); // straight from the buffer, up to its size at a time
                    pos += n;
                    total += n;
                }
                return total;
            }

            @Override
            public int available() throws IOException {
                return closed ? 0 : Math.max(0, lim - pos - delimiter.length);
            }

            @Override
            public void close() throws IOException {
                if (closed) return;
                while (true) {
                    int n = ready();
                    if (n == 0) break;
                    pos += n;
                }
                closed = true;
            }
        }
    }

    /** The boundary of a multipart Content-Type (quotes removed); empty when it has none. */
    public static Optional<String> boundary(String contentType) {
        if (contentType == null) return Optional.empty();
        for (String p : contentType.split(";")) {
            String t = p.trim();
            if (t.toLowerCase(Locale.ROOT).startsWith("boundary=")) {
                String b = t.substring(9);
                if (b.startsWith("\"") && b.endsWith("\"") && b.length() >= 2) b = b.substring(1, b.length() - 1);
                if (!b.isEmpty()) return Optional.of(b);
            }
        }
        return Optional.empty();
    }

    /** A part's headers, names in lower case. */
    public static Map<String, String> headers(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : raw.split("\r\n")) {
            int c = line.indexOf(':');
            if (c > 0) out.put(line.substring(0, c).trim().toLowerCase(Locale.ROOT), line.substring(c + 1).trim());
        }
        return out;
    }

    /** A parameter of a Content-Disposition header ({@code name}, {@code filename}), unquoted; null when absent. */
    public static String dispositionParam(String disposition, String param) {
        for (String p : disposition.split(";")) {
            String t = p.trim();
            int eq = t.indexOf('=');
            if (eq < 0 || !t.substring(0, eq).trim().equalsIgnoreCase(param)) continue;
            String v = t.substring(eq + 1).trim();
            if (v.startsWith("\"") && v.endsWith("\"") && v.length() >= 2) v = v.substring(1, v.length() - 1).replace("\\\"", "\"");
            return v;
        }
        return null;
    }
}
