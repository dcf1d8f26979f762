package dev.cella.envd.user;

/** A user of the sandbox as /etc/passwd and /etc/group describe it. */
public record UserAccount(String name, int uid, int gid, String home, String shell, int[] groups, String groupName) {
    public boolean isRoot() {
        return uid == 0;
    }
}
