package dev.cella.envd.process;

import dev.cella.envd.connect.ConnectCode;
import dev.cella.envd.connect.ConnectException;
import dev.cella.envd.linux.LibC;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A process envd started: its descriptors, its listeners, and how it ended.
 *
 * <p>Output is pumped by one platform thread per descriptor ({@link OutputPump}); the
 * end is reported only after the pumps have drained what the process wrote, so a
 * client always sees all output before the end event.
 */
public final class ManagedProcess {
    private final int pid;
    private final String tag;
    private final ProcessConfig config;
    /*
     * The descriptors below are written, resized and closed only under this object's
     * lock: a descriptor number closed here may at once be reused by another open, so
     * nothing may write to it after the close.
     */
    private int ptyMaster;            // -1 without a terminal, or once closed
    private int stdinFd;              // -1 when closed or never opened
    private final List<ProcessListener> listeners = new CopyOnWriteArrayList<>();
    private final List<OutputPump> pumps = new CopyOnWriteArrayList<>();
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile ExitStatus exitStatus;
    private volatile boolean exited;

    ManagedProcess(int pid, String tag, ProcessConfig config, int ptyMaster, int stdinFd) {
        this.pid = pid;
        this.tag = tag;
        this.config = config;
        this.ptyMaster = ptyMaster;
        this.stdinFd = stdinFd;
    }

    public int pid() { return pid; }
    public String tag() { return tag; }
    public ProcessConfig config() { return config; }
    public synchronized boolean hasPty() { return ptyMaster >= 0; }
    public ExitStatus exitStatus() { return exitStatus; }

    void addPump(OutputPump pump) { pumps.add(pump); }

    /** Adds a listener; returns false when the process has already ended. */
    public boolean listen(ProcessListener listener) {
        listeners.add(listener);
        if (exitStatus != null) {
            listeners.remove(listener);
            return false;
        }
        return true;
    }

    public void unlisten(ProcessListener listener) {
        listeners.remove(listener);
    }

    boolean exited() { return exited; }

    void deliver(Output output, byte[] data) {
        for (ProcessListener l : listeners) {
            if (!l.onOutput(output, data)) listeners.remove(l);
        }
    }

    /** Called by the reaper: waits for the pumps to drain, then tells every listener. */
    void onExit(ExitStatus status) {
        exited = true;
        for (OutputPump pump : pumps) pump.awaitDrained();
        synchronized (this) {
            closeStdin();
            if (ptyMaster >= 0) LibC.close(ptyMaster);
            ptyMaster = -1;
        }
        exitStatus = status;
        for (ProcessListener l : listeners) l.onEnd(status);
        listeners.clear();
        ended.countDown();
    }

    public boolean awaitEnd(long timeout, TimeUnit unit) throws InterruptedException {
        return ended.await(timeout, unit);
    }

    /** Signals the whole process group (the process is a session leader), so children die too. */
    public void signal(int signal) {
        try {
            if (!LibC.kill(-pid, signal)) LibC.kill(pid, signal);
        } catch (LibC.Errno e) {
            throw new ConnectException(ConnectCode.INTERNAL, "cannot signal process " + pid + ": " + e.getMessage());
        }
    }

    public void writeStdin(byte[] data) {
        writeAll(false, data);
    }

    public void writePty(byte[] data) {
        writeAll(true, data);
    }

    public synchronized void resize(int cols, int rows) {
        if (ptyMaster < 0) throw new ConnectException(ConnectCode.FAILED_PRECONDITION, "process " + pid + " has no terminal");
        try {
            LibC.setWindowSize(ptyMaster, cols, rows);
        } catch (LibC.Errno e) {
            throw new ConnectException(ConnectCode.INTERNAL, e.getMessage());
        }
    }

    public synchronized void closeStdin() {
        if (stdinFd >= 0) {
            LibC.close(stdinFd);
            stdinFd = -1;
        }
    }

    /** The descriptor input goes to, checked under the lock. */
    private int inputFd(boolean pty) {
        if (pty) {
            if (ptyMaster < 0) throw new ConnectException(ConnectCode.FAILED_PRECONDITION, "process " + pid + " has no terminal");
            return ptyMaster;
        }
        if (stdinFd < 0) throw new ConnectException(ConnectCode.FAILED_PRECONDITION, "stdin of process " + pid + " is not open");
        return stdinFd;
    }

    /**
     * Writes to a non-blocking descriptor; when the process does not read, waits in short
     * sleeps (a virtual thread must not block inside native code) up to a limit. The lock
     * is held for each write, never across a sleep.
     */
    private void writeAll(boolean pty, byte[] data) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
            MemorySegment state = LibC.newCaptureState(arena);
            long off = 0;
            while (off < data.length) {
                int n;
                synchronized (this) {
                    n = LibC.write(inputFd(pty), buf.asSlice(off), data.length - off, state);
                }
                if (n > 0) {
                    off += n;
                } else {
                    if (exited || System.nanoTime() > deadline) {
                        throw new ConnectException(ConnectCode.UNAVAILABLE, "process " + pid + " is not reading its input");
                    }
                    Thread.sleep(2);
                }
            }
        } catch (LibC.Errno e) {
            throw new ConnectException(ConnectCode.FAILED_PRECONDITION, "cannot write to process " + pid + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException(ConnectCode.CANCELED, "interrupted");
        }
    }
}
