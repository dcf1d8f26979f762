package dev.cella.envd.process;

import dev.cella.envd.user.UserAccount;

import java.util.Map;

/**
 * A resolved request to start a process: the absolute executable, its argv (argv[0]
 * included), the complete environment, the working directory and the user.
 */
public record StartSpec(ProcessConfig config, String executable, String[] argv, Map<String, String> env,
                        String cwd, UserAccount user, PtySize pty, boolean stdin, String tag) {
    public record PtySize(int cols, int rows) {}
}
