package dev.cella.node.sys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a host tool (crun, ip, nft, mount) to completion with a time limit, and turns a
 * failure into an exception that carries what the tool said.
 */
public final class Command {
    private Command() {}

    /** What a finished command printed and returned. */
    public record Result(int exitCode, String stdout, String stderr) {
        public boolean ok() { return exitCode == 0; }
    }

    public static final class Failed extends IOException {
        public final Result result;

        Failed(List<String> argv, Result result) {
            super(String.join(" ", argv) + " exited " + result.exitCode() + ": " + result.stderr().strip());
            this.result = result;
        }
    }

    /** Runs and returns the result whatever the exit code. */
    public static Result result(List<String> argv, String stdin) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().remove("LD_LIBRARY_PATH");
        Process p = pb.start();
        try {
            if (stdin != null) {
                p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            p.getOutputStream().close();
            byte[][] errBytes = new byte[1][];
            // stderr is drained beside stdout, or a chatty tool would block on a full pipe
            Thread err = Thread.ofVirtual().start(() -> {
                try {
                    errBytes[0] = p.getErrorStream().readAllBytes();
                } catch (IOException e) {
                    errBytes[0] = new byte[0];
                }
            });
            byte[] out = p.getInputStream().readAllBytes();
            err.join();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", argv) + " did not finish in 60 s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(errBytes[0], StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted running " + argv.getFirst(), e);
        }
    }

    /** Runs and returns stdout; a non-zero exit is a {@link Failed}. */
    public static String run(List<String> argv) throws IOException {
        return run(argv, null);
    }

    public static String run(List<String> argv, String stdin) throws IOException {
        Result r = result(argv, stdin);
        if (!r.ok()) throw new Failed(argv, r);
        return r.stdout();
    }

    public static String run(String... argv) throws IOException {
        return run(List.of(argv), null);
    }
}
