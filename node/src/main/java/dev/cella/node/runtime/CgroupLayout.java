package dev.cella.node.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How the host mounts cgroups. Pure v2 is what production hosts run; v1 with a hybrid
 * v2 mount (this project's machines) makes crun 1.8 refuse to start unless it runs
 * where the v2 mount is not visible.
 */
public enum CgroupLayout {
    V2, V1, HYBRID;

    public static CgroupLayout detect() {
        try {
            String mounts = Files.readString(Path.of("/proc/self/mounts"));
            boolean v2Root = mounts.lines().anyMatch(l -> l.split(" ").length > 2
                    && l.split(" ")[1].equals("/sys/fs/cgroup") && l.split(" ")[2].equals("cgroup2"));
            if (v2Root) return V2;
            boolean unified = mounts.lines().anyMatch(l -> l.split(" ").length > 2
                    && l.split(" ")[1].equals("/sys/fs/cgroup/unified") && l.split(" ")[2].equals("cgroup2"));
            return unified ? HYBRID : V1;
        } catch (IOException e) {
            return V2;
        }
    }
}
