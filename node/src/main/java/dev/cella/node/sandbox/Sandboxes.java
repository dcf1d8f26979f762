package dev.cella.node.sandbox;

import dev.cella.node.pool.WarmPool;
import dev.cella.node.problem.Problem;
import dev.cella.node.runtime.RunningSandbox;
import dev.cella.node.runtime.RuntimeDriver;
import dev.cella.node.sys.Paths;
import dev.cella.node.template.NodeTemplates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sandboxes of this node and their lifecycle: create, get, list, kill, pause,
 * resume, timeouts and the reaper that acts on them, an event log per sandbox. State is
 * kept on disk ({@link SandboxStore}) so that a node that restarts re-adopts what is
 * running ({@link #recover}) and removes what nothing owns.
 */
public final class Sandboxes implements AutoCloseable {
    /** The longest a sandbox may be given to live at once (E2B's limit too): 30 days. */
    public static final Duration MAX_TIMEOUT = Duration.ofDays(30);

    /** A lifetime asked for in seconds, 0 to {@link #MAX_TIMEOUT}; {@code field} names it when it is out of range. */
    public static Duration timeout(String field, long seconds) {
        if (seconds < 0 || seconds > MAX_TIMEOUT.toSeconds()) {
            throw new Problem.Invalid(field + " must be a number of seconds from 0 to " + MAX_TIMEOUT.toSeconds());
        }
        return Duration.ofSeconds(seconds);
    }

    private static final Logger log = LoggerFactory.getLogger(Sandboxes.class);
    private static final Duration REAPER_TICK = Duration.ofMillis(200);
    /** How often every sandbox's first process is checked: a sandbox whose envd ended is gone within this (and a tick). */
    public static final Duration LIVENESS_EVERY = Duration.ofSeconds(2);
    /**
     * How often the node removes what nothing owns, besides at its start: a create that a
     * dying node had begun can finish after the next node's first reconcile (its crun
     * outlives the node), and must not stay an orphan for good.
     */
    private static final Duration RECONCILE_EVERY = Duration.ofSeconds(30);

    private final RuntimeDriver driver;
    private final SandboxStore store;
    private final Clock clock;
    private final StartQueue starts;
    /** Where creates find ready sandboxes; null when the node has no pool. */
    private volatile WarmPool pool;
    /** What one sandbox may ask of this host at most. */
    private final HostSize host;
    private final Map<String, SandboxRecord> live = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    /** Driver names of sandboxes whose start returned but which are not in {@link #live} yet. */
    private final Set<String> arriving = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private Thread reaper;

    public Sandboxes(RuntimeDriver driver, SandboxStore store, Clock clock) {
        this(driver, store, clock, StartQueue.forHost());
    }

    public Sandboxes(RuntimeDriver driver, SandboxStore store, Clock clock, StartQueue starts) {
        this.host = HostSize.local();
        this.driver = driver;
        this.store = store;
        this.clock = clock;
        this.starts = starts;
    }

    /** Creates take ready sandboxes from this pool when it has one for them. */
    public void usePool(WarmPool pool) {
        this.pool = pool;
    }

    public StartQueue starts() {
        return starts;
    }

    /** Re-adopts the sandboxes on record that are really running, forgets the rest, cleans up orphans, starts the reaper. */
    public List<String> recover() throws IOException {
        for (SandboxRecord r : store.all()) {
            String id = r.spec().id();
            if (r.state() == SandboxState.HIBERNATED && driver.persisted(r.name())) {
                live.put(id, r);
                continue;
            }
            Optional<RunningSandbox> found = driver.reattach(r.name(), r.spec());
            if (found.isPresent()) {
                live.put(id, r);
                event(id, "readopted", "after a node restart, " + r.state().name().toLowerCase());
            } else {
                log.warn("sandbox {} is on record but not running: forgotten", id);
                store.delete(id);
            }
        }
        List<String> removed = driver.reconcile(names());
        removed.forEach(what -> log.info("reconciler removed {}", what));
        startReaper();
        return removed;
    }

    private void startReaper() {
        if (reaper != null) return;
        reaper = Thread.ofVirtual().name("sandbox-reaper").start(() -> {
            long lastReconcile = System.nanoTime(), lastLiveness = System.nanoTime();
            while (!closed) {
                try {
                    Thread.sleep(REAPER_TICK);
                    reapExpired();
                    if (System.nanoTime() - lastLiveness > LIVENESS_EVERY.toNanos()) {
                        lastLiveness = System.nanoTime();
                        reapExited();
                    }
                    if (System.nanoTime() - lastReconcile > RECONCILE_EVERY.toNanos()) {
                        lastReconcile = System.nanoTime();
                        driver.reconcile(names()).forEach(what -> log.info("reconciler removed {}", what));
                    }
                } catch (IOException e) {
                    log.warn("reconcile: {}", e.toString());
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    log.error("reaper", e);
                }
            }
        });
    }

    /**
     * Ends the sandboxes whose envd (their first process) exited: such a sandbox can never
     * answer again, so it is not shown as running; its resources (disk, address, cgroups)
     * are released now, with the reason in the node's log.
     */
    void reapExited() {
        for (SandboxRecord r : List.copyOf(live.values())) {
            if (r.state() == SandboxState.HIBERNATED) continue; // no processes to end: it is on disk
            String id = r.spec().id();
            // asked without the sandbox's lock, which a snapshot or a hibernation may hold for long: the reaper's
            // other work (timeouts, reconcile) must not wait behind them; checked again under it when it exited
            if (driver.exited(r.name()).isEmpty()) continue;
            synchronized (lock(id)) {
                SandboxRecord now = live.get(id);
                if (now == null || now.state() == SandboxState.HIBERNATED) continue; // killed or hibernated meanwhile
                Optional<String> why = driver.exited(now.name());
                if (why.isEmpty()) continue;
                log.warn("sandbox {} ended: {}; its resources are released", id, why.get());
                event(id, "exited", why.get());
                try {
                    kill(id);
                } catch (Problem e) {
                    // killed meanwhile
                } catch (IOException | UncheckedIOException e) {
                    log.error("could not release sandbox {} whose envd exited: {}", id, e.toString());
                }
            }
        }
    }

    void reapExpired() {
        Instant now = clock.instant();
        for (SandboxRecord r : List.copyOf(live.values())) {
            if (r.endAt() == null || r.endAt().isAfter(now) || r.state() != SandboxState.RUNNING) continue;
            String id = r.spec().id();
            try {
                if (r.onTimeout() == TimeoutAction.PAUSE) {
                    pause(id);
                    event(id, "timeout", "paused");
                } else {
                    event(id, "timeout", "killed");
                    kill(id);
                }
            } catch (Problem e) {
                // killed or paused meanwhile by a request: nothing left to do
            } catch (IOException | UncheckedIOException e) {
                log.error("reaper could not end sandbox {}: {}", id, e.toString());
            }
        }
    }

    private Object lock(String id) {
        return locks.computeIfAbsent(id, k -> new Object());
    }

    public SandboxRecord create(SandboxSpec spec, Duration timeout, TimeoutAction onTimeout) throws IOException {
        return create(spec, timeout, onTimeout, false);
    }

    /**
     * Creates a sandbox: from the warm pool when it has one ready for this spec (thaw and
     * assign, a few milliseconds), else a cold start when the start queue gives it a turn
     * ({@link StartQueue}: a full queue answers {@link Problem.Busy}).
     *
     * @param autoResume whether traffic to it wakes it when paused (only with {@link TimeoutAction#PAUSE})
     */
    public SandboxRecord create(SandboxSpec spec, Duration timeout, TimeoutAction onTimeout, boolean autoResume) throws IOException {
        if (autoResume && onTimeout != TimeoutAction.PAUSE) throw new Problem.Invalid("autoResume needs the pause action at timeout");
        host.admit(spec);
        synchronized (lock(spec.id())) {
            if (live.containsKey(spec.id())) throw new Problem.Conflict("sandbox " + spec.id() + " already exists");
            String name = spec.id();
            String how = "cold";
            Optional<Started> pooled = fromPool(spec);
            RunningSandbox running = pooled.map(Started::running).orElse(null);
            if (pooled.isPresent()) {
                name = pooled.get().name();
                how = "from the warm pool";
            } else {
                arriving.add(spec.id());
                try {
                    running = starts.run(() -> driver.create(spec));
                } catch (IOException | RuntimeException e) {
                    arriving.remove(spec.id());
                    throw e;
                }
            }
            Instant now = clock.instant();
            SandboxRecord r = new SandboxRecord(spec, SandboxState.RUNNING, running.envdUrl(), now,
                    timeout == null ? null : now.plus(timeout), onTimeout, autoResume, name.equals(spec.id()) ? null : name);
            try {
                store.save(r);
            } catch (IOException e) {
                arriving.remove(name);
                driver.stop(name);
                throw e;
            }
            live.put(spec.id(), r);
            arriving.remove(name);
            event(spec.id(), "created", "in " + running.startMillis() + " ms on " + driver.kind() + ", " + how);
            return r;
        }
    }

    private record Started(String name, RunningSandbox running) {}

    /** A pooled sandbox given this spec, or empty (no pool, none ready, or its assignment failed: the create goes cold). */
    private Optional<Started> fromPool(SandboxSpec spec) {
        var p = pool;
        var pooled = p == null ? Optional.<WarmPool.Pooled>empty() : p.take(spec);
        if (pooled.isEmpty()) return Optional.empty();
        String name = pooled.get().name();
        arriving.add(name);
        try {
            return Optional.of(new Started(name, driver.assign(name, spec)));
        } catch (IOException | RuntimeException e) {
            log.warn("pooled sandbox {} could not be assigned ({}); starting {} cold", name, e.getMessage(), spec.id());
            p.discard(pooled.get(), "its assignment failed");
            arriving.remove(name);
            return Optional.empty();
        }
    }

    /** The driver's names of every sandbox this node owns: its live ones and its pool's. */
    private Set<String> names() {
        Set<String> out = new HashSet<>();
        out.addAll(arriving); // before live: a sandbox moving from one to the other is always in one of the two
        live.values().forEach(r -> out.add(r.name()));
        var p = pool;
        if (p != null) out.addAll(p.names());
        return out;
    }

    public Optional<SandboxRecord> get(String id) {
        return Optional.ofNullable(live.get(id));
    }

    public SandboxRecord require(String id) {
        return get(id).orElseThrow(() -> Problem.sandboxNotFound(id));
    }

    public List<SandboxRecord> list() {
        return live.values().stream().sorted(Comparator.comparing(SandboxRecord::startedAt)).toList();
    }

    public void kill(String id) throws IOException {
        synchronized (lock(id)) {
            SandboxRecord r = require(id);
            driver.stop(r.name());
            live.remove(id);
            store.delete(id);
        }
        locks.remove(id);
    }

    /**
     * Makes a layered template of the sandbox's files: it is frozen while its changes are
     * copied (a running one runs again after), so the copy is consistent. Returns the
     * template's id.
     */
    public void snapshot(String id, String templateId, NodeTemplates templates) throws IOException {
        synchronized (lock(id)) {
            SandboxRecord r = require(id);
            if (r.state() == SandboxState.HIBERNATED) throw new Problem.Conflict("sandbox " + id + " is hibernated: resume it first");
            boolean wasRunning = r.state() == SandboxState.RUNNING;
            Path target = templates.prepare(templateId);
            try {
                if (wasRunning) driver.freeze(r.name());
                driver.snapshot(r.name(), target.resolve(NodeTemplates.LAYER));
                templates.commit(templateId, NodeTemplates.lowerDirs(r.spec().templateRootfs()));
            } catch (IOException | RuntimeException e) {
                Paths.deleteTree(target);
                throw e;
            } finally {
                if (wasRunning) driver.thaw(r.name());
            }
            event(id, "snapshot", "template " + templateId);
        }
    }

    /**
     * Deletes a layered template, the one way the node API and an in-process node do it: its
     * pooled sandboxes first (they stand on its files), then its files once no sandbox does.
     * False for a template the node does not have.
     */
    public boolean deleteTemplate(NodeTemplates templates, String templateId) throws IOException {
        if (pool != null) pool.drain(templateId);
        return templates.delete(templateId, templatesInUse());
    }

    /** The top layers of the living sandboxes' templates: what a deleted template's files may not be removed under. */
    public Set<Path> templatesInUse() {
        Set<Path> out = new HashSet<>();
        for (SandboxRecord r : live.values()) if (r.spec().templateRootfs() != null) out.add(r.spec().templateRootfs());
        return out;
    }

    public SandboxRecord pause(String id) {
        synchronized (lock(id)) {
            SandboxRecord r = require(id);
            if (r.state() != SandboxState.RUNNING) throw new Problem.Conflict("sandbox " + id + " is " + r.state().name().toLowerCase() + ", not running");
            try {
                driver.freeze(r.name());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return update(r.withState(SandboxState.PAUSED), "paused", "");
        }
    }

    /** Persists the sandbox's filesystem and releases everything else; resume starts it again. */
    public SandboxRecord hibernate(String id) {
        synchronized (lock(id)) {
            SandboxRecord r = require(id);
            if (r.state() == SandboxState.HIBERNATED) throw new Problem.Conflict("sandbox " + id + " is already hibernated");
            try {
                if (r.state() == SandboxState.PAUSED) driver.thaw(r.name());
                driver.persist(r.name());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return update(r.withState(SandboxState.HIBERNATED).withEndAt(null), "hibernated", "");
        }
    }

    /**
     * Resumes a paused sandbox (in place, as it was) or a hibernated one (its files, new
     * processes, possibly a new address); its time starts again from now when a timeout is given.
     */
    public SandboxRecord resume(String id, Duration timeout) {
        synchronized (lock(id)) {
            SandboxRecord r = require(id);
            if (r.state() == SandboxState.RUNNING) throw new Problem.Conflict("sandbox " + id + " is not paused");
            try {
                if (r.state() == SandboxState.HIBERNATED) {
                    SandboxRecord hibernated = r;
                    r = r.withEnvdUrl(starts.run(() -> driver.restore(hibernated.name(), hibernated.spec())).envdUrl());
                } else {
                    driver.thaw(r.name());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            SandboxRecord next = r.withState(SandboxState.RUNNING);
            if (timeout != null) next = next.withEndAt(clock.instant().plus(timeout));
            return update(next, "resumed", "");
        }
    }

    /** Sets how long from now the sandbox may live. */
    public SandboxRecord setTimeout(String id, Duration timeout) {
        synchronized (lock(id)) {
            SandboxRecord r = require(id);
            return update(r.withEndAt(clock.instant().plus(timeout)), "timeout-set", timeout.toSeconds() + " s");
        }
    }

    private SandboxRecord update(SandboxRecord r, String eventType, String detail) {
        try {
            store.save(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        live.put(r.spec().id(), r);
        event(r.spec().id(), eventType, detail);
        return r;
    }

    public List<SandboxEvent> events(String id) throws IOException {
        require(id);
        return store.events(id);
    }

    private void event(String id, String type, String detail) {
        try {
            store.appendEvent(id, new SandboxEvent(clock.instant(), type, detail));
        } catch (IOException e) {
            log.warn("event log of {}: {}", id, e.toString());
        }
    }

    /** Stops the reaper; the sandboxes keep running (they outlive the node by design). */
    @Override
    public void close() {
        closed = true;
        if (reaper != null) reaper.interrupt();
    }
}
