package dev.cella.server.api.v1;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cella.node.problem.Problem;
import dev.cella.protocol.http.MultipartParts;
import dev.cella.server.api.ApiError;
import dev.cella.server.envd.Envd;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A capsule's files through envd's {@code /files} and Filesystem calls. Uploads and
 * downloads stream: the multipart body is parsed as it arrives and its file part piped to
 * envd, so no file is ever held whole (a part that comes before its {@code path} field is
 * spooled to disk, not memory). Past the limit the answer is 413 and the partial file is
 * removed.
 */
public final class FileRoutes implements Consumer<V1Api> {
    /** The plain upload's limit (the Wrenn API's "file too large"). */
    static final long WRITE_LIMIT = 100L << 20;

    private final CapsuleRoutes capsules;
    private final long streamLimit;
    private final Path spool;

    /** @param streamLimitBytes the streaming upload's limit (the server's --max-upload-mb) */
    public FileRoutes(CapsuleRoutes capsules, long streamLimitBytes, Path spoolDir) {
        this.capsules = capsules;
        this.streamLimit = streamLimitBytes;
        this.spool = spoolDir;
    }

    @Override
    public void accept(V1Api api) {
        api.route(HandlerType.POST, "/v1/capsules/{id}/files/write", V1Api.Access.TEAM, ctx -> upload(ctx, WRITE_LIMIT));
        api.route(HandlerType.POST, "/v1/capsules/{id}/files/stream/write", V1Api.Access.TEAM, ctx -> upload(ctx, streamLimit));
        api.route(HandlerType.POST, "/v1/capsules/{id}/files/read", V1Api.Access.TEAM, this::download);
        api.route(HandlerType.POST, "/v1/capsules/{id}/files/stream/read", V1Api.Access.TEAM, this::download);
        api.route(HandlerType.POST, "/v1/capsules/{id}/files/list", V1Api.Access.TEAM, ctx -> {
            JsonNode b = V1Api.body(ctx);
            String path = V1Api.text(b, "path", true);
            Integer depth = V1Api.integer(b, "depth", 0, 32);
            Envd envd = capsules.envd(ctx);
            V1Api.json(ctx, 200, Map.of("entries", envd.listDir(path, depth == null || depth < 1 ? 1 : depth).stream()
                    .map(FileRoutes::entry).toList()));
        });
        api.route(HandlerType.POST, "/v1/capsules/{id}/files/mkdir", V1Api.Access.TEAM, ctx -> {
            String path = V1Api.text(V1Api.body(ctx), "path", true);
            V1Api.json(ctx, 200, Map.of("entry", entry(capsules.envd(ctx).makeDir(path))));
        });
        api.route(HandlerType.POST, "/v1/capsules/{id}/files/remove", V1Api.Access.TEAM, ctx -> {
            String path = V1Api.text(V1Api.body(ctx), "path", true);
            capsules.envd(ctx).remove(path); // a path that is not there is removed already
            ctx.status(204);
        });
    }

    /** The Wrenn API's FileEntry from envd's EntryInfo. */
    static Map<String, Object> entry(JsonNode e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", e.path("name").asText());
        m.put("path", e.path("path").asText());
        String type = e.hasNonNull("symlinkTarget") ? "symlink" : switch (e.path("type").asText()) {
            case "FILE_TYPE_DIRECTORY" -> "directory";
            case "FILE_TYPE_FILE" -> "file";
            default -> "unknown";
        };
        m.put("type", type);
        m.put("size", e.path("size").asLong());
        m.put("mode", e.path("mode").asInt());
        m.put("permissions", e.path("permissions").asText());
        m.put("owner", e.path("owner").asText());
        m.put("group", e.path("group").asText());
        m.put("modified_at", e.hasNonNull("modifiedTime") ? Instant.parse(e.get("modifiedTime").asText()).getEpochSecond() : 0);
        m.put("symlink_target", e.hasNonNull("symlinkTarget") ? e.get("symlinkTarget").asText() : null);
        return m;
    }

    private void download(Context ctx) throws IOException {
        String path = V1Api.text(V1Api.body(ctx), "path", true);
        Envd envd = capsules.envd(ctx);
        try (InputStream in = envd.read(path)) {
            ctx.status(200).contentType("application/octet-stream");
            // the last name of the path, as text: Path.of would refuse a NUL that envd reports itself
            String last = path.replaceAll("/+$", "");
            String name = last.isEmpty() ? "file" : last.substring(last.lastIndexOf('/') + 1);
            ctx.header("Content-Disposition", "attachment; filename*=UTF-8''" + URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20"));
            // the servlet's own stream: Javalin's result() would hold the body back
            OutputStream out = ctx.res().getOutputStream();
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) out.write(buf, 0, n);
            out.flush();
        }
    }

    /** Thrown (as an IOException, inside the body stream) when an upload passes its limit. */
    static final class TooLarge extends IOException {
        TooLarge(long limit) {
            super("the file is larger than the limit of " + limit + " bytes");
        }
    }

    /** Counts what passes and stops past the limit. */
    static final class Limited extends FilterInputStream {
        private final long limit;
        private long seen;
        boolean tripped;

        Limited(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) count(1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) count(n);
            return n;
        }

        private void count(int n) throws TooLarge {
            seen += n;
            if (seen > limit) {
                tripped = true;
                throw new TooLarge(limit);
            }
        }
    }

    private void upload(Context ctx, long limit) throws IOException {
        Envd envd = capsules.envd(ctx);
        String type = String.valueOf(ctx.header("Content-Type"));
        if (!type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw ApiError.badRequest("send the file as multipart/form-data with the fields path and file");
        }
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit + 64 * 1024) throw tooLarge(limit);
        String boundary = MultipartParts.boundary(type).orElseThrow(() -> ApiError.badRequest("multipart/form-data without a boundary"));
        // what the parts have said so far: the path, the file written or kept on disk for want of its path
        var upload = new Object() {
            String path;
            Path spooled;
            boolean wrote;
        };
        try {
            MultipartParts.read(ctx.req().getInputStream(), boundary, 8192, (field, filename, body) -> {
                if ("path".equals(field)) {
                    upload.path = new String(new Limited(body, 4096).readAllBytes(), StandardCharsets.UTF_8).trim();
                } else if ("file".equals(field)) {
                    if (upload.wrote || upload.spooled != null) throw ApiError.badRequest("send one file per request");
                    Limited part = new Limited(body, limit);
                    if (upload.path != null && !upload.path.isEmpty()) {
                        write(envd, upload.path, part, limit);
                        upload.wrote = true;
                    } else { // the path comes after the file: keep the file on disk until it does
                        Files.createDirectories(spool);
                        upload.spooled = Files.createTempFile(spool, "upload", ".part");
                        try (OutputStream out = Files.newOutputStream(upload.spooled)) {
                            part.transferTo(out);
                        }
                    }
                }
            });
            if (upload.path == null || upload.path.isEmpty()) throw ApiError.badRequest("path is required");
            if (upload.spooled != null) {
                write(envd, upload.path, new Limited(Files.newInputStream(upload.spooled), limit), limit);
                upload.wrote = true;
            }
            if (!upload.wrote) throw ApiError.badRequest("file is required");
            ctx.status(204);
        } catch (TooLarge e) {
            throw tooLarge(limit);
        } catch (MultipartParts.Malformed e) {
            throw ApiError.badRequest("malformed multipart body: " + e.getMessage());
        } finally {
            if (upload.spooled != null) Files.deleteIfExists(upload.spooled);
        }
    }

    /** Streams one file to envd; past the limit its partial file is removed and the answer is 413. */
    private static void write(Envd envd, String path, Limited content, long limit) {
        try {
            envd.write(path, () -> content);
        } catch (ApiError | Problem | UncheckedIOException e) {
            if (content.tripped) {
                try {
                    envd.remove(path);
                } catch (ApiError | Problem ignored) {
                    // nothing written to remove
                }
                throw tooLarge(limit);
            }
            throw e;
        }
    }

    private static ApiError tooLarge(long limit) {
        return new ApiError(413, "too_large", "file exceeds the limit of " + (limit >> 20) + " MB");
    }
}
