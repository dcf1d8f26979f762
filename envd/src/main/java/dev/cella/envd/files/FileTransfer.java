package dev.cella.envd.files;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import dev.cella.envd.EnvdState;
import dev.cella.envd.connect.ConnectException;
import dev.cella.envd.fs.FileMetadata;
import dev.cella.envd.fs.Ownership;
import dev.cella.envd.fs.SandboxPaths;
import dev.cella.envd.http.Exchanges;
import dev.cella.envd.http.HttpError;
import dev.cella.envd.user.UserAccount;
import dev.cella.envd.user.UserResolver;
import dev.cella.protocol.envd.FileSignature;
import dev.cella.protocol.http.MultipartParts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * {@code GET /files} (download) and {@code POST /files} (upload: multipart with one or
 * more files, or a raw octet-stream body), gzip both ways, signed URLs.
 *
 * <p>Uploads stream straight to the destination in large writes, so their size is bounded
 * by the disk, never by the heap. Downloads honour a single byte range and go as stored,
 * with a Content-Length, unless gzip is asked for explicitly and pays
 * ({@link ContentCoding}, {@link GzipBody}).
 */
public final class FileTransfer {
    private static final Logger log = LoggerFactory.getLogger(FileTransfer.class);
    private static final int MAX_PART_HEADER = 16 * 1024;
    /** The block of a copy between a file and a socket. */
    static final int COPY_BLOCK = 256 * 1024;

    private final ObjectMapper json;
    private final EnvdState state;
    private final Ownership ownership;
    private final UserResolver users;
    private final Path spillDir = Path.of(System.getProperty("java.io.tmpdir"));

    public FileTransfer(ObjectMapper json, EnvdState state, Ownership ownership, UserResolver users) {
        this.json = json;
        this.state = state;
        this.ownership = ownership;
        this.users = users;
    }

    public void handle(HttpExchange ex) throws IOException {
        try {
            switch (ex.getRequestMethod()) {
                case "GET" -> download(ex);
                case "POST" -> upload(ex);
                default -> throw new HttpError(405, "method not allowed");
            }
        } catch (HttpError e) {
            Exchanges.error(ex, json, e);
        }
    }

    /** The user of a files request: {@code username}, else the default user. */
    private UserAccount user(Map<String, String> q) {
        try {
            return users.resolve(q.get("username"));
        } catch (ConnectException e) {
            throw HttpError.unauthorized(e.getMessage());
        }
    }

    /** A files request is allowed by the access token header or by a valid signature. */
    private void authorize(HttpExchange ex, Map<String, String> q, String operation) {
        String token = state.accessToken();
        if (token == null) return;
        String header = ex.getRequestHeaders().getFirst("X-Access-Token");
        if (header != null && FileSignature.matches(header, token)) return;
        String signature = q.get("signature");
        if (signature == null) throw HttpError.unauthorized("missing access token or signature");
        Long expiration = null;
        String exp = q.get("signature_expiration");
        if (exp != null && !exp.isEmpty()) {
            try {
                expiration = Long.parseLong(exp);
            } catch (NumberFormatException e) {
                throw HttpError.badRequest("signature_expiration must be a unix time in seconds");
            }
        }
        String expected = FileSignature.sign(q.getOrDefault("path", ""), operation, q.get("username"), token, expiration);
        if (!FileSignature.matches(signature, expected)) throw HttpError.unauthorized("invalid signature");
        if (expiration != null && expiration < System.currentTimeMillis() / 1000) {
            throw HttpError.unauthorized("signature is already expired");
        }
    }

    private Path resolve(String path, UserAccount user) {
        try {
            return SandboxPaths.resolve(path, user);
        } catch (ConnectException e) {
            throw HttpError.badRequest(e.getMessage());
        }
    }

    // --- download ---

    private void download(HttpExchange ex) throws IOException {
        Map<String, String> q = Exchanges.query(ex);
        authorize(ex, q, "read");
        String raw = q.get("path");
        if (raw == null || raw.isEmpty()) throw HttpError.badRequest("path is required");
        UserAccount user = user(q);
        Path file = resolve(raw, user);
        if (!Files.exists(file)) throw HttpError.notFound("path '" + file + "' does not exist");
        if (Files.isDirectory(file)) throw HttpError.badRequest("path '" + file + "' is a directory");
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (AccessDeniedException e) {
            throw new HttpError(403, "permission denied: " + file);
        }
        try (channel) {
            InputStream in = Channels.newInputStream(channel);
            var req = ex.getRequestHeaders();
            var h = ex.getResponseHeaders();
            long size = channel.size();
            long modified = Files.getLastModifiedTime(file).toMillis() / 1000 * 1000;
            h.set("Content-Type", "application/octet-stream");
            h.set("Content-Disposition", contentDisposition(file.getFileName().toString()));
            h.set("Vary", "Accept-Encoding");
            h.set("Accept-Ranges", "bytes");
            h.set("Last-Modified", DateTimeFormatter.RFC_1123_DATE_TIME.format(Instant.ofEpochMilli(modified).atOffset(ZoneOffset.UTC)));
            if (notModifiedSince(req.getFirst("If-Modified-Since"), modified)) {
                Exchanges.empty(ex, 304);
                return;
            }
            String rangeHeader = req.getFirst("Range");
            if (rangeHeader != null) { // ranges are served as they are stored, as Go's ServeContent does
                ByteRange range = ByteRange.parse(rangeHeader, size);
                if (range == ByteRange.UNSATISFIABLE) {
                    h.set("Content-Range", "bytes */" + size);
                    throw new HttpError(416, "range not satisfiable for a file of " + size + " bytes");
                }
                if (range != null) {
                    h.set("Content-Range", "bytes " + range.start() + "-" + range.end() + "/" + size);
                    ex.sendResponseHeaders(206, range.length());
                    channel.position(range.start());
                    try (OutputStream out = ex.getResponseBody()) {
                        copy(in, out, range.length());
                    }
                    return;
                }
            }
            ContentCoding coding = ContentCoding.negotiate(req.getFirst("Accept-Encoding"));
            if (coding == null) throw new HttpError(406, "no acceptable encoding found, supported: [gzip identity]");
            if (coding != ContentCoding.IDENTITY) {
                GzipBody made;
                try {
                    made = GzipBody.compress(in, coding == ContentCoding.GZIP, spillDir);
                } catch (IOException e) {
                    if (coding == ContentCoding.GZIP) throw e;
                    log.debug("gzip of {} not made, sent as stored: {}", file, e.toString());
                    made = null;
                }
                if (made != null) {
                    try (GzipBody gzip = made) {
                        h.set("Content-Encoding", "gzip");
                        ex.sendResponseHeaders(200, gzip.length());
                        try (OutputStream out = ex.getResponseBody()) {
                            gzip.writeTo(out);
                        }
                    }
                    return;
                }
                channel.position(0); // gzip would not pay: the file as it is
            }
            ex.sendResponseHeaders(200, size == 0 ? -1 : size);
            try (OutputStream out = ex.getResponseBody()) {
                copy(in, out, size);
            }
        }
    }

    /** Copies {@code length} bytes in large blocks: one read of the file and one write to the socket each. */
    private static void copy(InputStream in, OutputStream out, long length) throws IOException {
        byte[] buf = new byte[COPY_BLOCK];
        while (length > 0) {
            int n = in.readNBytes(buf, 0, (int) Math.min(buf.length, length));
            if (n <= 0) break;
            out.write(buf, 0, n);
            length -= n;
        }
    }

    private static boolean notModifiedSince(String header, long modifiedMillis) {
        if (header == null) return false;
        try {
            return modifiedMillis <= ZonedDateTime.parse(header, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    /** {@code inline; filename="..."}, with an RFC 5987 UTF-8 form when the name is not plain ASCII. */
    static String contentDisposition(String name) {
        StringBuilder ascii = new StringBuilder();
        boolean plain = true;
        for (char c : name.toCharArray()) {
            boolean ok = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
            ascii.append(ok ? c : '_');
            plain &= ok;
        }
        String header = "inline; filename=\"" + ascii + "\"";
        if (plain) return header;
        StringBuilder pct = new StringBuilder();
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$&+-.^_`|~".indexOf(c) >= 0) {
                pct.append((char) c);
            } else {
                pct.append('%').append(String.format("%02X", c));
            }
        }
        return header + "; filename*=UTF-8''" + pct;
    }

    // --- upload ---

    private void upload(HttpExchange ex) throws IOException {
        Map<String, String> q = Exchanges.query(ex);
        authorize(ex, q, "write");
        UserAccount user = user(q);
        Map<String, String> metadata = metadata(ex);
        String path = q.get("path");
        String type = String.valueOf(ex.getRequestHeaders().getFirst("Content-Type")).toLowerCase(Locale.ROOT);
        InputStream body = inBlocks(ex.getRequestBody());
        String encoding = String.valueOf(ex.getRequestHeaders().getFirst("Content-Encoding")).trim().toLowerCase(Locale.ROOT);
        if (!encoding.equals("null") && !encoding.isEmpty() && !encoding.equals("identity") && !encoding.equals("gzip")) {
            throw HttpError.badRequest("unsupported Content-Encoding '" + encoding + "': use gzip or identity");
        }
        if (encoding.equals("gzip")) {
            try {
                body = inBlocks(new GZIPInputStream(body, 64 * 1024));
            } catch (IOException e) {
                throw HttpError.badRequest("body is not gzip: " + e.getMessage());
            }
        }
        List<Map<String, Object>> written = new ArrayList<>();
        if (type.startsWith("multipart/form-data")) {
            String boundary = MultipartParts.boundary(ex.getRequestHeaders().getFirst("Content-Type"))
                    .orElseThrow(() -> HttpError.badRequest("multipart Content-Type has no boundary"));
            try {
                MultipartParts.read(body, boundary, MAX_PART_HEADER, (field, filename, part) -> {
                    if (!"file".equals(field)) return;
                    if (path != null && !path.isEmpty() && !written.isEmpty()) {
                        throw HttpError.badRequest("you cannot upload multiple files to the same path '" + path + "'");
                    }
                    String dest = path != null && !path.isEmpty() ? path : filename;
                    if (dest == null || dest.isEmpty()) throw HttpError.badRequest("a file part needs a filename or the path parameter");
                    written.add(store(resolve(dest, user), part, user, metadata));
                });
            } catch (MultipartParts.Malformed e) {
                throw HttpError.badRequest("malformed multipart body: " + e.getMessage());
            }
            if (written.isEmpty()) throw HttpError.badRequest("the multipart body has no file part");
        } else if (type.startsWith("application/octet-stream")) {
            if (path == null || path.isEmpty()) throw HttpError.badRequest("path is required for an octet-stream upload");
            written.add(store(resolve(path, user), body, user, metadata));
        } else {
            throw new HttpError(400, "unsupported Content-Type '" + type + "': use multipart/form-data or application/octet-stream");
        }
        Exchanges.json(ex, json, 200, written);
    }

    /**
     * The stream with a transferTo that moves {@value #COPY_BLOCK}-byte blocks: the JDK
     * server's request body gives at most 8 KiB a read, and InputStream's own transferTo
     * would write the file in pieces that small.
     */
    private static InputStream inBlocks(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public long transferTo(OutputStream out) throws IOException {
                byte[] buf = new byte[COPY_BLOCK];
                long total = 0;
                int n;
                while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
                    out.write(buf, 0, n);
                    total += n;
                }
                return total;
            }
        };
    }

    private Map<String, Object> store(Path target, InputStream in, UserAccount user, Map<String, String> metadata) throws IOException {
        if (Files.isDirectory(target)) throw HttpError.badRequest("path '" + target + "' is a directory");
        Path parent = target.getParent();
        try {
            if (parent != null && !Files.isDirectory(parent)) ownership.createDirectories(parent, user);
        } catch (FileAlreadyExistsException e) {
            throw HttpError.badRequest("a parent of '" + target + "' is not a directory");
        }
        // Written in place (create or truncate), as E2B's envd does: a symlink is written
        // through, hard links and the mode of an existing file are kept, and a watcher sees
        // create and write events of this very name.
        try {
            try (OutputStream out = Files.newOutputStream(target)) {
                ownership.chown(target.toRealPath(), user);
                in.transferTo(out); // a multipart part writes straight from its reader's buffer
            }
            FileMetadata.replace(target, metadata);
        } catch (IOException e) {
            if (isDiskFull(e)) throw new HttpError(507, "not enough disk space to write '" + target + "'");
            throw e;
        }
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("name", target.getFileName().toString());
        entry.put("type", "file");
        entry.put("path", target.toString());
        Map<String, String> stored = FileMetadata.read(target);
        if (!stored.isEmpty()) entry.put("metadata", stored);
        return entry;
    }

    private static boolean isDiskFull(IOException e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("No space left") || m.contains("Disk quota exceeded");
    }

    private static Map<String, String> metadata(HttpExchange ex) {
        Map<String, String> out = new LinkedHashMap<>();
        ex.getRequestHeaders().forEach((name, values) -> {
            if (name.toLowerCase(Locale.ROOT).startsWith("x-metadata-") && !values.isEmpty()) {
                String key = name.substring("x-metadata-".length());
                if (key.isEmpty()) throw HttpError.badRequest("metadata header needs a key");
                out.put(key.toLowerCase(Locale.ROOT), values.getFirst());
            }
        });
        String invalid = FileMetadata.invalid(out);
        if (invalid != null) throw HttpError.badRequest("invalid metadata: " + invalid);
        return out;
    }
}
