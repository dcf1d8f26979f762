package dev.cella.node.metrics;

import dev.cella.node.runtime.RuntimeDriver;
import dev.cella.node.runtime.SandboxUsage;
import dev.cella.node.sandbox.SandboxRecord;
import dev.cella.node.sandbox.SandboxState;
import dev.cella.node.sandbox.Sandboxes;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Samples every running sandbox every 500 ms into its {@link MetricsRing}. CPU % is the
 * CPU time used since the previous sample over the wall time, normalised to the
 * sandbox's vCPUs (100 = all its vCPUs busy).
 */
public final class MetricsSampler implements AutoCloseable {
    public static final Duration INTERVAL = Duration.ofMillis(500);

    private final Sandboxes sandboxes;
    private final RuntimeDriver driver;
    private final Map<String, MetricsRing> rings = new ConcurrentHashMap<>();
    private final Map<String, long[]> previous = new ConcurrentHashMap<>(); // {cpuNanos, wallNanos}
    private volatile boolean closed;
    private Thread thread;

    public MetricsSampler(Sandboxes sandboxes, RuntimeDriver driver) {
        this.sandboxes = sandboxes;
        this.driver = driver;
    }

    public MetricsSampler start() {
        thread = Thread.ofVirtual().name("metrics-sampler").start(() -> {
            while (!closed) {
                try {
                    Thread.sleep(INTERVAL);
                    sampleAll();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException ignored) {
                    // one bad sample never stops the sampling
                }
            }
        });
        return this;
    }

    void sampleAll() {
        List<SandboxRecord> live = sandboxes.list();
        rings.keySet().removeIf(id -> live.stream().noneMatch(r -> r.spec().id().equals(id)));
        previous.keySet().removeIf(id -> !rings.containsKey(id));
        for (SandboxRecord r : live) {
            if (r.state() != SandboxState.RUNNING) {
                previous.remove(r.spec().id()); // no CPU while paused: start the next delta afresh
                continue;
            }
            sample(r);
        }
    }

    private void sample(SandboxRecord r) {
        String id = r.spec().id();
        Optional<SandboxUsage> u = driver.usage(r.name());
        if (u.isEmpty()) return;
        long wall = System.nanoTime();
        long[] prev = previous.put(id, new long[] {u.get().cpuNanos(), wall});
        double cpuPct = 0;
        if (prev != null && wall > prev[1]) {
            cpuPct = 100.0 * (u.get().cpuNanos() - prev[0]) / ((double) (wall - prev[1]) * r.spec().vcpus());
            cpuPct = Math.max(0, Math.min(100, Math.round(cpuPct * 100) / 100.0));
        }
        rings.computeIfAbsent(id, k -> new MetricsRing())
                .add(new MetricPoint(System.currentTimeMillis() / 1000, cpuPct, u.get().memoryBytes(), u.get().diskBytes()));
    }

    /** The points of a sandbox over the last {@code seconds}; empty when it has none. */
    public List<MetricPoint> points(String id, long seconds) {
        MetricsRing ring = rings.get(id);
        return ring == null ? List.of() : ring.range(seconds, System.currentTimeMillis() / 1000);
    }

    @Override
    public void close() {
        closed = true;
        if (thread != null) thread.interrupt();
    }
}
