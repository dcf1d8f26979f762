package dev.cella.envd.user;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Looks users and groups up in the sandbox's own /etc/passwd and /etc/group.
 *
 * <p>envd runs on a libc of its own, so it must not ask NSS (the image's libc may
 * differ, or be absent); the files are read again whenever they change, because a
 * command may add users at any time (useradd in a template build).
 */
public final class Users {
    private final Path passwd;
    private final Path group;

    public Users(Path etc) {
        this.passwd = etc.resolve("passwd");
        this.group = etc.resolve("group");
    }

    public Optional<UserAccount> byName(String name) {
        return find(fields -> fields[0].equals(name));
    }

    public Optional<UserAccount> byUid(int uid) {
        return find(fields -> fields[2].equals(Integer.toString(uid)));
    }

    public String userName(int uid) {
        return byUid(uid).map(UserAccount::name).orElse(Integer.toString(uid));
    }

    public String groupName(int gid) {
        for (String[] g : groupLines()) {
            if (g.length >= 3 && g[2].equals(Integer.toString(gid))) return g[0];
        }
        return Integer.toString(gid);
    }

    private interface Match { boolean test(String[] fields); }

    private Optional<UserAccount> find(Match match) {
        for (String line : lines(passwd)) {
            String[] f = line.split(":", -1);
            if (f.length < 7 || !match.test(f)) continue;
            try {
                int uid = Integer.parseInt(f[2]);
                int gid = Integer.parseInt(f[3]);
                String home = f[5].isEmpty() ? "/" : f[5];
                String shell = f[6].isEmpty() ? "/bin/sh" : f[6];
                return Optional.of(new UserAccount(f[0], uid, gid, home, shell, supplementaryGroups(f[0], gid), groupName(gid)));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    private int[] supplementaryGroups(String user, int primary) {
        Set<Integer> ids = new LinkedHashSet<>();
        ids.add(primary);
        for (String[] g : groupLines()) {
            if (g.length < 4 || g[3].isEmpty()) continue;
            for (String member : g[3].split(",")) {
                if (member.trim().equals(user)) {
                    try { ids.add(Integer.parseInt(g[2])); } catch (NumberFormatException ignored) { }
                }
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private List<String[]> groupLines() {
        List<String[]> out = new ArrayList<>();
        for (String line : lines(group)) out.add(line.split(":", -1));
        return out;
    }

    /** A file's lines as last read, and the modification time and size they were read at. */
    private record Snapshot(long modified, long size, List<String> lines) {}

    private final Map<Path, Snapshot> cache = new ConcurrentHashMap<>();

    /**
     * The file's lines, read again only when it changed (a ListDir of a thousand entries
     * looks up a thousand owners; a useradd changes the file, so it is seen at once).
     */
    private List<String> lines(Path file) {
        try {
            var attrs = Files.readAttributes(file, BasicFileAttributes.class);
            long modified = attrs.lastModifiedTime().to(TimeUnit.NANOSECONDS);
            Snapshot s = cache.get(file);
            if (s != null && s.modified() == modified && s.size() == attrs.size()) return s.lines();
            List<String> lines = Files.readAllLines(file).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
            cache.put(file, new Snapshot(modified, attrs.size(), lines));
            return lines;
        } catch (IOException e) {
            return List.of();
        }
    }
}
