package dev.cella.node.sys;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a host tool (crun, ip, nft, mount) to completion with a time limit, and turns a
 * failure into an exception that carries what the tool said.
 *
 * <p>The limit counts from the start and holds whatever the tool does: its output is read
 * beside it, not before the wait (reading to the end first waited for as long as the tool
 * kept its stdout open, so a hung {@code mount} hung its caller forever). A tool past its
 * limit is killed with everything it started.
 */
public final class Command {
    /** Enough for every tool of a sandbox's start and stop; copies and unpacking name their own. */
    public static final Duration DEFAULT_LIMIT = Duration.ofSeconds(60);
    /** How long output is still read after the tool ended (a child it left may hold the pipe). */
    private static final Duration DRAIN_AFTER_EXIT = Duration.ofSeconds(10);

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

    /** Runs and returns the result whatever the exit code, within {@link #DEFAULT_LIMIT}. */
    public static Result result(List<String> argv, String stdin) throws IOException {
        return result(argv, stdin, DEFAULT_LIMIT);
    }

    /** Runs and returns the result whatever the exit code; past {@code limit} the tool is killed and this throws. */
    public static Result result(List<String> argv, String stdin, Duration limit) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().remove("LD_LIBRARY_PATH");
        Process p = pb.start();
        try {
            // all three pipes beside the wait: a tool that reads no stdin or fills a pipe cannot stall us
            Drain out = new Drain(p.getInputStream()), err = new Drain(p.getErrorStream());
            Thread in = Thread.ofVirtual().start(() -> feed(p.getOutputStream(), stdin));
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(p);
                throw new IOException(String.join(" ", argv) + " did not finish in " + limit.toSeconds() + " s (killed)");
            }
            in.join(DRAIN_AFTER_EXIT);
            return new Result(p.exitValue(), out.text(), err.text());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill(p);
            throw new IOException("interrupted running " + argv.getFirst(), e);
        }
    }

    /** The tool and whatever it started (a child holding the pipes would keep them open). */
    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    private static void feed(OutputStream stdin, String text) {
        try (stdin) {
            if (text != null) stdin.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the tool closed its stdin or ended: what it says of that is in its exit code and stderr
        }
    }

    /** Reads one of the tool's output pipes to its end on a virtual thread of its own. */
    private static final class Drain {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread reader;

        Drain(InputStream pipe) {
            reader = Thread.ofVirtual().start(() -> {
                byte[] buf = new byte[8192];
                try (pipe) {
                    for (int n; (n = pipe.read(buf)) >= 0; ) {
                        synchronized (bytes) {
                            bytes.write(buf, 0, n);
                        }
                    }
                } catch (IOException e) {
                    // closed under us: what was read is what there is
                }
            });
        }

        /** What was read, once the pipe ended or {@link #DRAIN_AFTER_EXIT} passed. */
        String text() throws InterruptedException {
            reader.join(DRAIN_AFTER_EXIT);
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }

    /** Runs and returns stdout; a non-zero exit is a {@link Failed}. */
    public static String run(List<String> argv) throws IOException {
        return run(argv, null);
    }

    public static String run(List<String> argv, String stdin) throws IOException {
        return run(argv, stdin, DEFAULT_LIMIT);
    }

    public static String run(List<String> argv, String stdin, Duration limit) throws IOException {
        Result r = result(argv, stdin, limit);
        if (!r.ok()) throw new Failed(argv, r);
        return r.stdout();
    }

    public static String run(String... argv) throws IOException {
        return run(List.of(argv), null);
    }
}
