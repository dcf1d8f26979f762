package dev.cella.envd.process;

import dev.cella.envd.linux.LibC;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CountDownLatch;

/**
 * Copies one descriptor of a process (stdout, stderr or the terminal) to its listeners
 * as the bytes arrive. A platform thread, because it blocks in native poll/read.
 *
 * <p>After the process exits, the pump keeps reading while data keeps coming and stops
 * at the first quiet moment: a background child that inherited the descriptor cannot
 * keep the command's stream (and this thread) alive forever.
 */
final class OutputPump implements Runnable {
    private static final int CHUNK = 32 * 1024;
    private static final int POLL_MS = 500;
    private static final int QUIET_AFTER_EXIT_MS = 50;

    private final ManagedProcess process;
    private final Output output;
    private final int fd;
    private final CountDownLatch drained = new CountDownLatch(1);

    OutputPump(ManagedProcess process, Output output, int fd) {
        this.process = process;
        this.output = output;
        this.fd = fd;
    }

    void start() {
        Thread.ofPlatform().daemon().name("pump-" + process.pid() + "-" + output.field).start(this);
    }

    void awaitDrained() {
        try {
            drained.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(CHUNK);
            MemorySegment pollfd = arena.allocate(8, 4);
            MemorySegment state = LibC.newCaptureState(arena);
            while (true) {
                boolean exited = process.exited();
                int revents = LibC.poll(fd, LibC.POLLIN, exited ? QUIET_AFTER_EXIT_MS : POLL_MS, pollfd, state);
                if (revents == 0) {
                    if (exited) break;
                    continue;
                }
                int n;
                try {
                    n = LibC.read(fd, buf, state);
                } catch (LibC.Errno e) {
                    break; // EIO: the terminal's last writer closed it
                }
                if (n == 0) break;
                if (n < 0) continue;
                process.deliver(output, buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
            }
        } catch (LibC.Errno e) {
            // poll failed: nothing more can be read
        } finally {
            if (output != Output.PTY) LibC.close(fd); // the terminal master is closed by the process
            drained.countDown();
        }
    }
}
