package dev.cella.server.template;

import dev.cella.node.problem.Problem;
import dev.cella.server.envd.Envd;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * A template's start command, run in the background when a sandbox of it starts (and at
 * the end of its build), and its ready command, run until it succeeds: the sandbox (or the
 * build) is ready then, and fails if it never is.
 */
public final class StartCommand {
    private StartCommand() {}

    public static void run(Envd envd, Templates.Defaults d, Duration limit) {
        run(envd, d, limit, line -> {});
    }

    /** Starts the start command (tag {@code start}) and polls the ready command once a second until {@code limit}. */
    public static void run(Envd envd, Templates.Defaults d, Duration limit, Consumer<String> log) {
        if (d.startCmd() != null) {
            Envd.Stream s = envd.start(new Envd.Command("/bin/sh", List.of("-c", d.startCmd()), d.env(), d.workdir(), "start"), null, null, null);
            s.close(); // it runs on; nobody needs its stream
            log.accept("started: " + d.startCmd());
        }
        if (d.readyCmd() == null) return;
        long deadline = System.nanoTime() + limit.toNanos();
        int[] exit = {-1};
        while (System.nanoTime() < deadline) {
            try (Envd.Stream s = envd.start(new Envd.Command("/bin/sh", List.of("-c", d.readyCmd()), d.env(), d.workdir(), null), null, null,
                    Duration.ofSeconds(10))) {
                s.follow(new Envd.Events() {
                    @Override public void started(int pid) {}
                    @Override public void output(String stream, byte[] data) {}
                    @Override public void ended(int exitCode, String error) { exit[0] = exitCode; }
                });
            }
            if (exit[0] == 0) {
                log.accept("ready: " + d.readyCmd());
                return;
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Problem.Upstream("agent_error", "interrupted while waiting for the ready command");
            }
        }
        throw new Problem.Upstream("agent_error", "the ready command '" + d.readyCmd() + "' did not succeed within " + limit.toSeconds() + " s");
    }
}
