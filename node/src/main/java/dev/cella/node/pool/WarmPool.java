package dev.cella.node.pool;

import dev.cella.node.problem.Problem;
import dev.cella.node.runtime.RunningSandbox;
import dev.cella.node.runtime.RuntimeDriver;
import dev.cella.node.sandbox.SandboxSpec;
import dev.cella.node.sandbox.StartQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * Sandboxes started ahead of demand, per template: made exactly as a cold create makes
 * them (container, disk, mounts, network, envd up and answering), then frozen so they
 * cost no CPU. A create takes one ({@link #take}) and the driver gives it the create's
 * spec ({@link RuntimeDriver#assign}); a pooled sandbox is handed out once and never
 * comes back, so nothing of one user ever reaches another.
 *
 * <p>Which templates are pooled and how deep: every template asked for within
 * {@link Settings#idleAfter} keeps {@link Settings#size} ready (or its own size, set per
 * template); built-in templates keep at least {@link Settings#idleSize} when idle, other
 * templates none. Refills are background starts: they run only when no create waits for
 * a start slot ({@link StartQueue#runIfIdle}). A template whose root filesystem changed
 * (rebuilt) or went away has its pooled sandboxes stopped.
 *
 * <p>Pooled sandboxes are not on the node's record: a node that restarts finds them
 * unowned and its reconciler removes them (they hold nothing of value), then refills.
 */
public final class WarmPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WarmPool.class);
    /** The shape of every pooled sandbox; a create's own limits are set when it takes one, its disk size cannot be. */
    public static final int VCPUS = 2, MEMORY_MB = 512, DISK_MB = 2048, MAX_PROCESSES = 1024;
    /** Pooled sandboxes' names: never a sandbox id the server makes (those have no such prefix... and 20 random characters). */
    static final String PREFIX = "pool";
    private static final Duration TICK = Duration.ofMillis(100);
    private static final Duration FAILURE_BACKOFF = Duration.ofSeconds(5);
    /**
     * How long refills wait after a sandbox was taken. A refill (a JVM start, then its
     * warm-up) takes the CPU for a second or so; right after a take is when the new
     * sandbox's user sends their first commands, and those ran 2-3x slower beside a refill
     * on two cores (first command 33 ms instead of 22; docs/performance.md). A burst of
     * creates is also served from the pool before any refill competes with it.
     */
    static final Duration REFILL_AFTER_TAKE = Duration.ofSeconds(1);

    /**
     * @param size      sandboxes kept ready per template in demand (0 turns pooling off)
     * @param sizes     per-template sizes that replace {@code size}
     * @param idleAfter a template not asked for this long is idle
     * @param idleSize  what an idle built-in template keeps (others keep none)
     */
    public record Settings(int size, Map<String, Integer> sizes, Duration idleAfter, int idleSize) {
        public Settings {
            if (size < 0 || idleSize < 0) throw new IllegalArgumentException("pool sizes must be >= 0");
            sizes = Map.copyOf(sizes);
        }

        public static Settings defaults() {
            return new Settings(4, Map.of(), Duration.ofMinutes(10), 1);
        }

        public static Settings off() {
            return new Settings(0, Map.of(), Duration.ofMinutes(10), 0);
        }
    }

    /** A ready, frozen sandbox: the driver's name for it, its template and the root it was made on. */
    public record Pooled(String name, String templateId, Path rootfs) {}

    /** What the pool of one template is doing, for the node API and metrics. */
    public record TemplatePool(String templateId, int target, int ready, int starting, long taken, long missed, long made,
                               long discarded, long failed, Instant lastAsked) {}

    private final RuntimeDriver driver;
    private final Warmer warmer;
    /**
     * When a sandbox was last taken ({@link System#nanoTime}); refills wait {@link #REFILL_AFTER_TAKE} after it.
     * Monotonic on purpose, unlike the pool's {@link Clock} (wall time, for what it reports): a wall clock stepped back
     * by NTP would hold refills for as long as the step.
     */
    private volatile long lastTake = System.nanoTime() - REFILL_AFTER_TAKE.toNanos();
    private final StartQueue starts;
    /** The current root filesystem of a template, empty when the node no longer has it. */
    private final Function<String, Optional<Path>> templates;
    private final Set<String> builtIn;
    private final Clock clock;
    private final Instant startedAt;
    private final SecureRandom random = new SecureRandom();
    private final Settings settings;

    private final Map<String, Deque<Pooled>> ready = new HashMap<>();
    private final Map<String, Integer> starting = new HashMap<>();
    /** Names of sandboxes being made for the pool: owned, though not ready yet. */
    private final Set<String> making = ConcurrentHashMap.newKeySet();
    private final Map<String, Integer> ownSizes = new ConcurrentHashMap<>();
    private final Map<String, Instant> lastAsked = new ConcurrentHashMap<>();
    private final Map<String, Instant> failedAt = new ConcurrentHashMap<>();
    private final Map<String, Counts> counts = new ConcurrentHashMap<>();

    /** What happened in one template's pool since the node started. */
    private static final class Counts {
        final LongAdder taken = new LongAdder(),
                missed = new LongAdder(), made = new LongAdder(),
                discarded = new LongAdder(), failed = new LongAdder();
    }

    private Counts counts(String templateId) {
        return counts.computeIfAbsent(templateId, k -> new Counts());
    }
    private final Semaphore wake = new Semaphore(0);
    private volatile boolean closed, detached;
    private Thread filler;

    /** Exercises a new pooled sandbox's envd before it is frozen (see {@link dev.cella.node.envd.EnvdSetup#warmUp}). */
    @FunctionalInterface
    public interface Warmer {
        void warm(RunningSandbox sandbox) throws Exception;

        Warmer NONE = s -> {};
    }

    public WarmPool(RuntimeDriver driver, StartQueue starts, Function<String, Optional<Path>> templates, Set<String> builtIn,
                    Settings settings, Clock clock) {
        this(driver, Warmer.NONE, starts, templates, builtIn, settings, clock);
    }

    public WarmPool(RuntimeDriver driver, Warmer warmer, StartQueue starts, Function<String, Optional<Path>> templates, Set<String> builtIn,
                    Settings settings, Clock clock) {
        this.driver = driver;
        this.warmer = warmer;
        this.starts = starts;
        this.templates = templates;
        this.builtIn = Set.copyOf(builtIn);
        this.settings = settings;
        this.clock = clock;
        this.startedAt = clock.instant();
        this.ownSizes.putAll(settings.sizes());
    }

    public WarmPool start() {
        filler = Thread.ofVirtual().name("warm-pool").start(this::fillLoop);
        return this;
    }

    /**
     * A ready sandbox for this spec, taken out of the pool for good; empty when there is
     * none (the create goes cold) or the spec needs what a pooled sandbox cannot give.
     */
    public Optional<Pooled> take(SandboxSpec spec) {
        lastAsked.put(spec.templateId(), clock.instant());
        lastTake = System.nanoTime();
        List<Pooled> stale = new ArrayList<>();
        Optional<Pooled> out = Optional.empty();
        synchronized (this) {
            if (spec.diskMb() == DISK_MB) {
                Deque<Pooled> q = ready.get(spec.templateId());
                while (q != null && !q.isEmpty()) {
                    Pooled p = q.pollFirst();
                    if (p.rootfs().equals(spec.templateRootfs())) {
                        out = Optional.of(p);
                        break;
                    }
                    stale.add(p);
                }
            }
        }
        (out.isPresent() ? counts(spec.templateId()).taken : counts(spec.templateId()).missed).increment();
        // stopping them is not the create's work
        if (!stale.isEmpty()) Thread.ofVirtual().name("warm-pool-discard").start(() -> stale.forEach(p -> discard(p, "its template changed")));
        wake.release();
        return out;
    }

    /** A pooled sandbox that failed to be assigned: it is stopped, never offered again. */
    public void discard(Pooled p, String why) {
        counts(p.templateId()).discarded.increment();
        log.info("pooled sandbox {} of {} stopped: {}", p.name(), p.templateId(), why);
        try {
            driver.stop(p.name());
        } catch (Exception e) {
            log.warn("stopping pooled sandbox {}: {}", p.name(), e.toString());
        }
    }

    /** Sets how many of this template to keep ready (null: the default again). */
    public void size(String templateId, Integer size) {
        if (size == null) ownSizes.remove(templateId);
        else if (size < 0) throw new Problem.Invalid("a pool size must be >= 0");
        else ownSizes.put(templateId, size);
        wake.release();
    }

    /** Stops every pooled sandbox of a template (it is being deleted or replaced); it refills on demand. */
    public void drain(String templateId) {
        List<Pooled> out;
        synchronized (this) {
            Deque<Pooled> q = ready.remove(templateId);
            out = q == null ? List.of() : List.copyOf(q);
        }
        lastAsked.remove(templateId);
        out.forEach(p -> discard(p, "its pool was drained"));
    }

    /** How many this template should have ready now. */
    int target(String templateId) {
        Settings s = settings;
        int size = ownSizes.getOrDefault(templateId, s.size());
        if (s.size() == 0 && !ownSizes.containsKey(templateId)) return 0;
        Instant now = clock.instant();
        Instant asked = lastAsked.get(templateId);
        boolean inDemand = asked != null ? asked.plus(s.idleAfter()).isAfter(now)
                : builtIn.contains(templateId) && startedAt.plus(s.idleAfter()).isAfter(now);
        if (inDemand) return size;
        return builtIn.contains(templateId) ? Math.min(size, s.idleSize()) : 0;
    }

    private void fillLoop() {
        while (!closed) {
            try {
                wake.tryAcquire(TICK.toMillis(), TimeUnit.MILLISECONDS);
                wake.drainPermits();
                fillOnce();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.error("warm pool", e);
            }
        }
    }

    /** One pass: stale and surplus sandboxes go, one missing sandbox per template starts (as a background start). */
    void fillOnce() {
        for (String templateId : templateIds()) {
            if (closed) return;
            Optional<Path> rootfs = templates.apply(templateId);
            List<Pooled> surplus = new ArrayList<>();
            int missing;
            synchronized (this) {
                Deque<Pooled> q = ready.computeIfAbsent(templateId, k -> new ArrayDeque<>());
                for (var it = q.iterator(); it.hasNext(); ) {
                    Pooled p = it.next();
                    if (rootfs.isEmpty() || !p.rootfs().equals(rootfs.get())) {
                        it.remove();
                        surplus.add(p);
                    }
                }
                int target = rootfs.isEmpty() ? 0 : target(templateId);
                while (q.size() > target) surplus.add(q.pollLast());
                missing = target - q.size() - starting.getOrDefault(templateId, 0);
                if (q.isEmpty() && missing <= 0 && starting.getOrDefault(templateId, 0) == 0) ready.remove(templateId);
            }
            surplus.forEach(p -> discard(p, "its pool shrank or its template changed"));
            Instant failed = failedAt.get(templateId);
            if (missing <= 0 || (failed != null && failed.plus(FAILURE_BACKOFF).isAfter(clock.instant()))) continue;
            if (System.nanoTime() - lastTake < REFILL_AFTER_TAKE.toNanos()) return; // the next tick looks again
            // at most half the start slots for refills, so a create that arrives meanwhile finds one free
            if (startingTotal() >= Math.max(1, starts.concurrent() / 2)) return;
            synchronized (this) {
                starting.merge(templateId, 1, Integer::sum);
            }
            Path root = rootfs.get();
            Thread.ofVirtual().name("warm-pool-start").start(() -> {
                try {
                    if (!starts.runIfIdle(() -> make(templateId, root))) return;
                } catch (Exception e) {
                    failedAt.put(templateId, clock.instant());
                    counts(templateId).failed.increment();
                    log.warn("warm pool could not start a sandbox of {}: {}", templateId, e.getMessage());
                } finally {
                    synchronized (this) {
                        starting.merge(templateId, -1, Integer::sum);
                    }
                    wake.release();
                }
            });
        }
    }

    private synchronized int startingTotal() {
        return starting.values().stream().mapToInt(Integer::intValue).sum();
    }

    private Pooled make(String templateId, Path rootfs) throws Exception {
        String name = PREFIX + randomSuffix();
        // with internet access, as most creates ask (one nft call fewer when taken); frozen, it sends nothing
        SandboxSpec spec = new SandboxSpec(name, templateId, rootfs, VCPUS, MEMORY_MB, DISK_MB, MAX_PROCESSES, true,
                Map.of(), Map.of(), null, "user", null, null);
        making.add(name);
        try {
            return makeNamed(name, spec, templateId, rootfs);
        } finally {
            making.remove(name);
        }
    }

    private Pooled makeNamed(String name, SandboxSpec spec, String templateId, Path rootfs) throws Exception {
        var running = driver.create(spec, true);
        try {
            warmer.warm(running);
            driver.freeze(name);
        } catch (Exception e) {
            driver.stop(name);
            throw e;
        }
        Pooled p = new Pooled(name, templateId, rootfs);
        boolean keep;
        synchronized (this) {
            keep = !closed && templates.apply(templateId).map(rootfs::equals).orElse(false);
            if (keep) ready.computeIfAbsent(templateId, k -> new ArrayDeque<>()).addLast(p);
        }
        if (!keep) {
            if (!detached) driver.stop(name); // a detached pool leaves it as a dying node would
            return p;
        }
        failedAt.remove(templateId);
        counts(templateId).made.increment();
        return p;
    }

    private String randomSuffix() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder b = new StringBuilder(16);
        for (int i = 0; i < 16; i++) b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        return b.toString();
    }

    /** The names of the pooled sandboxes: the reconciler must leave them alone. */
    public synchronized Set<String> names() {
        Set<String> out = new HashSet<>(making);
        ready.values().forEach(q -> q.forEach(p -> out.add(p.name())));
        return out;
    }

    /** Whether a start of the pool is under way (its sandbox not yet in {@link #names}). */
    public synchronized boolean starting() {
        return starting.values().stream().anyMatch(n -> n > 0);
    }

    /** Each template's pool as it is now. */
    public List<TemplatePool> report() {
        Set<String> names = templateIds();
        names.addAll(counts.keySet());
        List<TemplatePool> out = new ArrayList<>();
        synchronized (this) {
            for (String t : names) {
                Counts c = counts.getOrDefault(t, new Counts());
                Deque<Pooled> q = ready.get(t);
                out.add(new TemplatePool(t, templates.apply(t).isPresent() ? target(t) : 0, q == null ? 0 : q.size(),
                        starting.getOrDefault(t, 0), c.taken.sum(), c.missed.sum(), c.made.sum(), c.discarded.sum(), c.failed.sum(),
                        lastAsked.get(t)));
            }
        }
        return out;
    }

    /** The templates the pool has to look at: sized, asked for, built in, or holding sandboxes. */
    private Set<String> templateIds() {
        Set<String> names = new TreeSet<>(ownSizes.keySet());
        names.addAll(lastAsked.keySet());
        names.addAll(builtIn);
        synchronized (this) {
            names.addAll(ready.keySet());
        }
        return names;
    }

    /** Totals over templates: {ready, starting}. */
    public synchronized Map<String, Integer> totals() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("ready", ready.values().stream().mapToInt(Deque::size).sum());
        m.put("starting", starting.values().stream().mapToInt(Integer::intValue).sum());
        return m;
    }

    /**
     * Stops refilling and forgets the pooled sandboxes without stopping them: what a node
     * that dies does to its pool (the next node's reconciler removes them). For tests of
     * recovery.
     */
    public void detach() {
        detached = true;
        closed = true;
        if (filler != null) filler.interrupt();
        awaitStarts();
        synchronized (this) {
            ready.clear();
        }
    }

    /** Waits (up to a minute) for the starts under way to end. */
    private void awaitStarts() {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (starting() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Stops refilling and stops every pooled sandbox (waiting a little for starts under way). */
    @Override
    public void close() {
        closed = true;
        if (filler != null) filler.interrupt();
        awaitStarts();
        List<Pooled> all = new ArrayList<>();
        synchronized (this) {
            ready.values().forEach(all::addAll);
            ready.clear();
        }
        all.forEach(p -> discard(p, "the node is stopping"));
    }
}
