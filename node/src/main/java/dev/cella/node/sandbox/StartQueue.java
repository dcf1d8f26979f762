package dev.cella.node.sandbox;

import dev.cella.node.problem.Problem;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Admission for cold starts. A cold start is mostly CPU (mounts, a network, crun, and the
 * JVM of envd starting inside the sandbox): on a 2-core host, forty at once starve each
 * other until every one misses its deadline. So at most {@code concurrent} starts run at
 * once; the others wait their turn in arrival order (a fair semaphore), up to
 * {@code maxWaiting} of them for at most {@code maxWait}; past either bound a create is
 * refused with {@link Problem.Busy} (429 + Retry-After), never left to time out.
 * Each start's own deadlines count from when it began, not from when it was asked.
 *
 * <p>Background starts (the warm pool's refills) run only when no create waits and a
 * slot is free: demand always goes first.
 */
public final class StartQueue {
    private final int concurrent;
    private final int maxWaiting;
    private final Duration maxWait;
    private final Semaphore slots;
    private final AtomicInteger waiting = new AtomicInteger();
    /** A moving average of how long a start takes, to tell a refused caller when to come back. */
    private final AtomicLong averageStartMillis = new AtomicLong(500);

    public StartQueue(int concurrent, int maxWaiting, Duration maxWait) {
        if (concurrent < 1 || maxWaiting < 0) throw new IllegalArgumentException("concurrent >= 1, maxWaiting >= 0");
        this.concurrent = concurrent;
        this.maxWaiting = maxWaiting;
        this.maxWait = maxWait;
        this.slots = new Semaphore(concurrent, true);
    }

    /** Two starts per core (a start waits on I/O and on envd's answer part of its time), at least two. */
    public static StartQueue forHost() {
        return new StartQueue(Math.max(2, 2 * Runtime.getRuntime().availableProcessors()), 256, Duration.ofSeconds(40));
    }

    /** One start's work. */
    @FunctionalInterface
    public interface Start<T, E extends Exception> {
        T run() throws E;
    }

    /** Runs a start when its turn comes; refuses it (Busy) when the queue is full or the turn does not come in time. */
    public <T, E extends Exception> T run(Start<T, E> start) throws E {
        try {
            // a free slot is taken at once (a fair semaphore: never ahead of those already waiting)
            if (!slots.tryAcquire(0, TimeUnit.MILLISECONDS)) {
                if (waiting.incrementAndGet() > maxWaiting) {
                    waiting.decrementAndGet();
                    throw busy("the node has " + maxWaiting + " creates waiting already");
                }
                boolean admitted;
                try {
                    admitted = slots.tryAcquire(maxWait.toMillis(), TimeUnit.MILLISECONDS);
                } finally {
                    waiting.decrementAndGet();
                }
                if (!admitted) throw busy("no start slot came free within " + maxWait.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Problem.Busy("interrupted while waiting to start", 1);
        }
        try {
            return timed(start);
        } finally {
            slots.release();
        }
    }

    /**
     * Runs a background start now if no create waits and a slot is free; returns false
     * (without running it) otherwise.
     */
    public <E extends Exception> boolean runIfIdle(Start<?, E> start) throws E {
        if (waiting.get() > 0 || !slots.tryAcquire()) return false;
        try {
            timed(start);
            return true;
        } finally {
            slots.release();
        }
    }

    private <T, E extends Exception> T timed(Start<T, E> start) throws E {
        long t0 = System.nanoTime();
        T result = start.run();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        averageStartMillis.updateAndGet(avg -> (avg * 7 + ms) / 8);
        return result;
    }

    private Problem.Busy busy(String why) {
        // the time the starts ahead of a caller coming back now would take, rounded up
        long ahead = waiting.get() + concurrent;
        long seconds = (ahead * averageStartMillis.get() / concurrent + 999) / 1000;
        return new Problem.Busy("too many sandboxes starting: " + why + "; retry later", Math.min(30, Math.max(1, seconds)));
    }

    /** Creates waiting for a turn now. */
    public int waiting() {
        return waiting.get();
    }

    /** Starts running now. */
    public int running() {
        return concurrent - slots.availablePermits();
    }

    public int concurrent() {
        return concurrent;
    }
}
