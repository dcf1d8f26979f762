package dev.cella.envd.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.Map;
import java.util.TreeMap;

/**
 * User metadata of a file ({@code X-Metadata-*} headers on upload), kept with the file
 * itself as extended attributes {@code user.e2b.<key>} as E2B's envd keeps them, so it
 * survives a rename and goes away with the file.
 */
public final class FileMetadata {
    private static final String PREFIX = "e2b."; // the view adds "user."
    private static final int MAX_KEY_BYTES = 246;
    private static final int MAX_TOTAL_BYTES = 4096;

    private FileMetadata() {}

    /** Why a metadata set is refused (printable ASCII, bounded sizes), or null when it is fine. */
    public static String invalid(Map<String, String> metadata) {
        int total = 0;
        for (var e : metadata.entrySet()) {
            if (!printable(e.getKey()) || !printable(e.getValue())) return "metadata keys and values must be printable ASCII";
            if (e.getKey().length() > MAX_KEY_BYTES) return "metadata key longer than " + MAX_KEY_BYTES + " bytes";
            total += 9 + e.getKey().length() + e.getValue().length();
        }
        return total > MAX_TOTAL_BYTES ? "metadata larger than " + MAX_TOTAL_BYTES + " bytes" : null;
    }

    private static boolean printable(String s) {
        return s.chars().allMatch(c -> c >= 0x20 && c <= 0x7e);
    }

    /** Replaces the file's metadata with this set (an empty set clears it). No-op where the filesystem has no xattrs. */
    public static void replace(Path file, Map<String, String> metadata) throws IOException {
        UserDefinedFileAttributeView view = Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
        if (view == null) return;
        try {
            for (String name : view.list()) if (name.startsWith(PREFIX)) view.delete(name);
            for (var e : metadata.entrySet()) {
                view.write(PREFIX + e.getKey(), ByteBuffer.wrap(e.getValue().getBytes(StandardCharsets.UTF_8)));
            }
        } catch (FileSystemException e) {
            if (String.valueOf(e.getReason()).contains("not supported")) return;
            throw e;
        }
    }

    public static Map<String, String> read(Path file) {
        Map<String, String> out = new TreeMap<>();
        try {
            UserDefinedFileAttributeView view = Files.getFileAttributeView(file, UserDefinedFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (view == null) return out;
            for (String name : view.list()) {
                if (!name.startsWith(PREFIX)) continue;
                ByteBuffer buf = ByteBuffer.allocate(view.size(name));
                view.read(name, buf);
                out.put(name.substring(PREFIX.length()), new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
            }
        } catch (IOException | UnsupportedOperationException ignored) {
            // no attributes here: no metadata
        }
        return out;
    }
}
