package dev.cella.node.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.sys.Command;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The crun command line, with its state kept under the node's own root so that the
 * node's containers are its alone. On a hybrid cgroup host every call runs in a private
 * mount namespace without the v2 mount (crun 1.8 refuses the hybrid layout otherwise);
 * the containers themselves are unaffected.
 */
public final class Crun {
    private final Path stateRoot;
    private final CgroupLayout cgroups;
    private final ObjectMapper json;

    public Crun(Path stateRoot, CgroupLayout cgroups, ObjectMapper json) {
        this.stateRoot = stateRoot;
        this.cgroups = cgroups;
        this.json = json;
    }

    public CgroupLayout layout() {
        return cgroups;
    }

    /** How to call crun on a host of this layout: through the hybrid workaround when needed, then {@code crun}. */
    public static List<String> command(CgroupLayout cgroups) {
        List<String> argv = new ArrayList<>();
        if (cgroups == CgroupLayout.HYBRID) {
            argv.addAll(List.of("unshare", "--mount", "--propagation", "private", "sh", "-c",
                    "umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$0\" \"$@\""));
        }
        argv.add("crun");
        return argv;
    }

    private List<String> argv(String... args) {
        List<String> argv = command(cgroups);
        argv.add("--root=" + stateRoot);
        argv.addAll(List.of(args));
        return argv;
    }

    /** Starts a container detached; its pid 1's output goes to {@code log}. */
    public void runDetached(String name, Path bundle, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(argv("run", "--detach", "--bundle=" + bundle, "--pid-file=" + bundle.resolve("pid"), name))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        try {
            Process p = pb.start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("crun run did not return in 30 s");
            }
            if (p.exitValue() != 0) {
                throw new IOException("crun run " + name + " failed: " + Files.readString(log).strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    public void kill(String name, String signal) throws IOException {
        Command.run(argv("kill", "--all", name, signal));
    }

    public void delete(String name) throws IOException {
        Command.Result r = Command.result(argv("delete", "--force", name), null);
        if (!r.ok() && !r.stderr().contains("does not exist")) throw new IOException("crun delete " + name + ": " + r.stderr().strip());
    }

    public void pause(String name) throws IOException {
        Command.run(argv("pause", name));
    }

    public void resume(String name) throws IOException {
        Command.run(argv("resume", name));
    }

    /** The container's state as crun reports it ({@code status}, {@code pid}), empty when it is unknown. */
    public Optional<JsonNode> state(String name) throws IOException {
        Command.Result r = Command.result(argv("state", name), null);
        if (!r.ok()) return Optional.empty();
        return Optional.of(json.readTree(r.stdout()));
    }

    /** The names of the containers crun knows under the node's root. */
    public List<String> list() throws IOException {
        Command.Result r = Command.result(argv("list", "--quiet"), null);
        if (!r.ok()) return List.of();
        return r.stdout().lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
