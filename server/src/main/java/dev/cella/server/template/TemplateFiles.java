package dev.cella.server.template;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Uploaded build contexts (the files of COPY steps, as a tar): one file per team and hash,
 * written to a temporary name and moved into place, so a half upload is never taken for one.
 */
public final class TemplateFiles {
    private final Path dir;

    public TemplateFiles(Path dir) {
        this.dir = dir;
    }

    static void check(String teamId, String hash) {
        if (!hash.matches("[A-Za-z0-9_-]{8,128}") || !teamId.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new IllegalArgumentException("a files hash is 8 to 128 letters, digits, _ or -");
        }
    }

    public Path path(String teamId, String hash) {
        check(teamId, hash);
        return dir.resolve(teamId).resolve(hash + ".tar");
    }

    public boolean present(String teamId, String hash) {
        return Files.isRegularFile(path(teamId, hash));
    }

    /** Stores an upload named by the SHA-256 of its bytes (a Dockerfile's build context); returns that hash. */
    public String storeHashed(String teamId, InputStream in, long limit) throws IOException {
        Path tmpDir = Files.createDirectories(dir.resolve(teamId));
        Path tmp = Files.createTempFile(tmpDir, "context", ".part");
        try {
            var md = MessageDigest.getInstance("SHA-256");
            copy(in, tmp, limit, md);
            String hash = HexFormat.of().formatHex(md.digest());
            Files.move(tmp, path(teamId, hash), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return hash;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Stores an upload, at most {@code limit} bytes; returns its size. */
    public long store(String teamId, String hash, InputStream in, long limit) throws IOException {
        Path target = path(teamId, hash);
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), hash, ".part");
        try {
            long n = copy(in, tmp, limit, null);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return n;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Copies at most {@code limit} bytes to {@code target}, hashing them on the way when asked; returns how many. */
    private static long copy(InputStream in, Path target, long limit, MessageDigest md) throws IOException {
        long n = 0;
        byte[] buf = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(target)) {
            int k;
            while ((k = in.read(buf)) >= 0) {
                n += k;
                if (n > limit) throw new IOException("the upload is larger than " + (limit >> 20) + " MiB");
                if (md != null) md.update(buf, 0, k);
                out.write(buf, 0, k);
            }
        }
        return n;
    }
}
