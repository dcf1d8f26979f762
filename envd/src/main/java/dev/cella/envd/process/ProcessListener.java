package dev.cella.envd.process;

/**
 * Receives a process's output and its end. Called from the process's reader threads,
 * so a slow listener slows the process down (the pipe fills): that is the
 * backpressure that keeps a flood of output from growing memory.
 */
public interface ProcessListener {
    /** Returns false when the listener is gone (its client disconnected) and wants no more. */
    boolean onOutput(Output output, byte[] data);

    void onEnd(ExitStatus status);
}
