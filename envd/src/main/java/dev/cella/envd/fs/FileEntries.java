package dev.cella.envd.fs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cella.envd.user.Users;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * Builds the {@code EntryInfo} message for a path as E2B's envd does: from lstat, except
 * that a symlink reports its target's type and permission bits (type unspecified when
 * the target is missing) and {@code symlinkTarget} is the fully resolved path.
 */
public final class FileEntries {
    private static final String ATTRS = "unix:mode,uid,gid,size,lastModifiedTime";

    private final ObjectMapper json;
    private final Users users;

    public FileEntries(ObjectMapper json, Users users) {
        this.json = json;
        this.users = users;
    }

    public ObjectNode entry(Path path) throws IOException {
        Map<String, Object> a = Files.readAttributes(path, ATTRS, LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        int kind = mode & 0170000;
        int shownKind = kind;
        int permBits = mode & 0777;
        String target = null;
        if (kind == 0120000) {
            shownKind = 0;
            permBits = 0;
            try {
                Path real = path.toRealPath();
                target = real.toString();
                int targetMode = (Integer) Files.getAttribute(real, "unix:mode");
                shownKind = targetMode & 0170000;
                permBits = targetMode & 0777;
            } catch (IOException broken) {
                target = path.toString();
            }
        }
        ObjectNode e = json.createObjectNode();
        Path name = path.getFileName();
        e.put("name", name == null ? "/" : name.toString());
        e.put("type", switch (shownKind) {
            case 0040000 -> "FILE_TYPE_DIRECTORY";
            case 0100000 -> "FILE_TYPE_FILE";
            default -> "FILE_TYPE_UNSPECIFIED";
        });
        e.put("path", path.toString());
        e.put("size", Long.toString((Long) a.get("size")));
        e.put("mode", permBits);
        e.put("permissions", permissions(mode));
        e.put("owner", users.userName((Integer) a.get("uid")));
        e.put("group", users.groupName((Integer) a.get("gid")));
        e.put("modifiedTime", DateTimeFormatter.ISO_INSTANT.format(((FileTime) a.get("lastModifiedTime")).toInstant()));
        if (target != null) e.put("symlinkTarget", target);
        Map<String, String> metadata = FileMetadata.read(path);
        if (!metadata.isEmpty()) metadata.forEach(e.putObject("metadata")::put);
        return e;
    }

    /** The mode as Go's {@code os.FileMode.String()} prints it, which E2B's envd reports: {@code -rw-r--r--}, {@code drwxr-xr-x}, {@code Lrwxrwxrwx}. */
    static String permissions(int mode) {
        StringBuilder s = new StringBuilder(10);
        switch (mode & 0170000) {
            case 0040000 -> s.append('d');
            case 0120000 -> s.append('L');
            case 0010000 -> s.append('p');
            case 0140000 -> s.append('S');
            case 0020000 -> s.append("Dc");
            case 0060000 -> s.append('D');
            default -> { }
        }
        if ((mode & 04000) != 0) s.append('u');
        if ((mode & 02000) != 0) s.append('g');
        if ((mode & 01000) != 0) s.append('t');
        if (s.isEmpty()) s.append('-');
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) s.append((mode & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
        return s.toString();
    }
}
