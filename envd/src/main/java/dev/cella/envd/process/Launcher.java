package dev.cella.envd.process;

import dev.cella.envd.EnvdState;
import dev.cella.envd.connect.ConnectException;
import dev.cella.envd.fs.SandboxPaths;
import dev.cella.envd.user.UserAccount;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a client's process request into a {@link StartSpec}. The environment is built
 * as E2B's envd builds it: PATH, HOME, USER, LOGNAME of the user, then the sandbox's
 * variables from /init, then the request's own (the last value of a key wins); the
 * rest (PWD, SHELL, the profile) is bash -l's business. The executable is found on the
 * PATH the process itself will have.
 */
public final class Launcher {
    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final EnvdState state;

    public Launcher(EnvdState state) {
        this.state = state;
    }

    public StartSpec resolve(ProcessConfig config, UserAccount user, StartSpec.PtySize pty, boolean stdin, String tag) {
        if (config.cmd() == null || config.cmd().isBlank()) throw ConnectException.invalid("process.cmd is required");
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", DEFAULT_PATH);
        env.put("HOME", user.home());
        env.put("USER", user.name());
        env.put("LOGNAME", user.name());
        env.putAll(state.envVars());
        env.putAll(config.envs());

        String cwd = workingDirectory(config.cwd(), user);
        String executable = findExecutable(config.cmd(), env.get("PATH"), cwd);
        List<String> argv = new ArrayList<>();
        argv.add(config.cmd());
        argv.addAll(config.args());
        return new StartSpec(config, executable, argv.toArray(String[]::new), env, cwd, user, pty, stdin, tag);
    }

    private String workingDirectory(String requested, UserAccount user) {
        String cwd;
        if (requested != null && !requested.isEmpty()) {
            cwd = SandboxPaths.resolve(requested, user).toString();
        } else if (state.defaultWorkdir() != null) {
            cwd = state.defaultWorkdir();
        } else {
            cwd = user.home();
        }
        if (!Files.isDirectory(Path.of(cwd))) {
            if (requested == null || requested.isEmpty()) return "/"; // a user without a home still runs
            throw ConnectException.invalid("cwd '" + cwd + "' does not exist");
        }
        return cwd;
    }

    private static String findExecutable(String cmd, String path, String cwd) {
        if (cmd.contains("/")) {
            Path p = Path.of(cwd).resolve(cmd);
            if (!Files.exists(p)) throw ConnectException.invalid("executable '" + cmd + "' not found");
            return p.toString();
        }
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir).resolve(cmd);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return p.toString();
        }
        throw ConnectException.invalid("executable file '" + cmd + "' not found in $PATH");
    }
}
