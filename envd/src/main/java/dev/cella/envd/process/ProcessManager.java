package dev.cella.envd.process;

import dev.cella.envd.connect.ConnectCode;
import dev.cella.envd.connect.ConnectException;
import dev.cella.envd.linux.LibC;
import dev.cella.envd.linux.SpawnActions;
import dev.cella.envd.user.UserAccount;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Starts processes, keeps them by pid and tag, and reaps them.
 *
 * <p>Spawning happens on one dedicated platform thread: to start a process as another
 * user, that thread takes the user's uid, gid and groups with raw syscalls (which,
 * unlike glibc's wrappers, change only the calling thread), calls posix_spawn (the
 * child inherits the thread's credentials), and takes root back. Nothing else ever
 * runs on that thread, so no other work sees the borrowed credentials.
 *
 * <p>One reaper thread waits for any child, so it also reaps orphans when envd is the
 * sandbox's pid 1.
 */
public final class ProcessManager {
    private static final Logger log = LoggerFactory.getLogger(ProcessManager.class);

    private static final long KEEP_ENDED_NANOS = 30_000_000_000L;

    private final Map<Integer, ManagedProcess> byPid = new ConcurrentHashMap<>();
    private final Map<Integer, ManagedProcess> recentlyEnded = new ConcurrentHashMap<>();
    private final Map<Integer, Long> endedAt = new ConcurrentHashMap<>();
    /**
     * Held from before posix_spawn until the new process is registered, and by the reaper
     * before it looks a pid up: a child that ends at once is still found.
     */
    private final Object registry = new Object();
    private long spawned; // guarded by registry: wakes the reaper when it had no children
    private final ExecutorService spawner = Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().daemon().name("spawner").unstarted(r));
    private final boolean root = LibC.isRoot();

    private volatile boolean reaping;

    public ManagedProcess start(StartSpec spec, ProcessListener firstListener) {
        startReaper();
        if (spec.tag() != null && byTag(spec.tag()).isPresent()) {
            throw new ConnectException(ConnectCode.ALREADY_EXISTS, "a process with tag " + spec.tag() + " is running");
        }
        Future<ManagedProcess> f = spawner.submit(() -> spawn(spec, firstListener));
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ConnectException ce) throw ce;
            throw new ConnectException(ConnectCode.INTERNAL, "cannot start " + spec.executable() + ": " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException(ConnectCode.CANCELED, "interrupted");
        }
    }

    private ManagedProcess spawn(StartSpec spec, ProcessListener firstListener) throws LibC.Errno {
        SpawnActions actions = new SpawnActions();
        int[] parentEnds = {-1, -1, -1};
        int[] childEnds = {-1, -1, -1};
        LibC.Pty pty = null;
        try {
            if (spec.pty() != null) {
                pty = LibC.openPty();
                LibC.setWindowSize(pty.master(), spec.pty().cols(), spec.pty().rows());
                // The user's shell must be able to open its terminal, as login(1) arranges.
                LibC.lchown(pty.slavePath(), spec.user().uid(), spec.user().gid());
                // Opened in the child after setsid: the terminal becomes its controlling one.
                actions.open(0, pty.slavePath(), LibC.O_RDWR).dup2(0, 1).dup2(0, 2);
            } else {
                if (spec.stdin()) {
                    int[] p = LibC.pipe();
                    childEnds[0] = p[0];
                    parentEnds[0] = p[1];
                    LibC.setNonBlocking(p[1]);
                    actions.dup2(p[0], 0);
                } else {
                    actions.open(0, "/dev/null", LibC.O_RDONLY);
                }
                for (int i = 1; i <= 2; i++) {
                    int[] p = LibC.pipe();
                    parentEnds[i] = p[0];
                    childEnds[i] = p[1];
                    actions.dup2(p[1], i);
                }
            }
            actions.chdir(spec.cwd());
            if (LibC.hasCloseFrom()) actions.closeFrom(3);

            String[] envp = spec.env().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toArray(String[]::new);
            UserAccount user = spec.user();
            boolean switchUser = root && !user.isRoot();
            int pid;
            synchronized (registry) {
                if (switchUser) LibC.threadCredentials(user.uid(), user.gid(), user.groups());
                try {
                    pid = LibC.spawn(spec.executable(), spec.argv(), envp, actions);
                } finally {
                    if (switchUser) LibC.threadCredentialsRoot();
                }
                preferForOomKill(pid);
                ManagedProcess p = new ManagedProcess(pid, spec.tag(), spec.config(),
                        pty != null ? pty.master() : -1, parentEnds[0]);
                if (firstListener != null) p.listen(firstListener);
                byPid.put(pid, p);
                registry.notifyAll();
                for (int fd : childEnds) if (fd >= 0) LibC.close(fd);
                if (pty != null) {
                    startPump(p, Output.PTY, pty.master());
                } else {
                    startPump(p, Output.STDOUT, parentEnds[1]);
                    startPump(p, Output.STDERR, parentEnds[2]);
                }
                spawned++;
                return p;
            }
        } catch (LibC.Errno e) {
            for (int fd : childEnds) if (fd >= 0) LibC.close(fd);
            for (int fd : parentEnds) if (fd >= 0) LibC.close(fd);
            if (pty != null) LibC.close(pty.master());
            ConnectCode code = e.errno == 2 || e.errno == 13 || e.errno == 20 ? ConnectCode.INVALID_ARGUMENT : ConnectCode.INTERNAL;
            throw new ConnectException(code, "cannot start " + spec.executable() + ": " + e.getMessage());
        }
    }

    /**
     * Makes a started process a likelier victim of the OOM killer than envd (raising a
     * score needs no privilege). Done right after the spawn: a child that forks in the
     * first microseconds keeps envd's score for that one grandchild.
     */
    private static void preferForOomKill(int pid) {
        try {
            Files.writeString(Path.of("/proc/" + pid + "/oom_score_adj"), "500");
        } catch (IOException | SecurityException ignored) {
            // no /proc here, or the process is gone already
        }
    }

    private static void startPump(ManagedProcess p, Output output, int fd) {
        OutputPump pump = new OutputPump(p, output, fd);
        p.addPump(pump);
        pump.start();
    }

    /** The reaper starts with the first process, not with envd: nothing to wait for before that. */
    private void startReaper() {
        if (reaping) return;
        synchronized (this) {
            if (reaping) return;
            Thread.ofPlatform().daemon().name("reaper").start(this::reap);
            reaping = true;
        }
    }

    private void reap() {
        while (true) {
            try {
                long generation;
                synchronized (registry) {
                    generation = spawned;
                }
                LibC.Reaped r = LibC.waitAny();
                if (r == null) {
                    synchronized (registry) {
                        if (spawned == generation) registry.wait(1000); // no children until the next spawn
                    }
                    continue;
                }
                ManagedProcess p;
                synchronized (registry) {
                    p = byPid.get(r.pid());
                }
                if (p == null) continue; // an orphan re-parented to us (envd as pid 1)
                finish(p, r.status());
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                log.error("reaper", t);
            }
        }
    }

    /** Drains and reports an ended process off the reaper thread, which must keep reaping. */
    private void finish(ManagedProcess p, int waitStatus) {
        Thread.ofVirtual().start(() -> {
            p.onExit(ExitStatus.fromWaitStatus(waitStatus));
            byPid.remove(p.pid(), p);
            long now = System.nanoTime();
            recentlyEnded.put(p.pid(), p);
            endedAt.put(p.pid(), now);
            endedAt.entrySet().removeIf(e -> now - e.getValue() > KEEP_ENDED_NANOS && recentlyEnded.remove(e.getKey()) != null);
        });
    }

    /** A running process, or one that ended in the last 30 s (a late Connect still gets its end). */
    public Optional<ManagedProcess> byPidIncludingEnded(int pid) {
        ManagedProcess p = byPid.get(pid);
        return p != null ? Optional.of(p) : Optional.ofNullable(recentlyEnded.get(pid));
    }

    public Optional<ManagedProcess> byTagIncludingEnded(String tag) {
        return byTag(tag).or(() -> recentlyEnded.values().stream().filter(p -> tag.equals(p.tag())).findFirst());
    }

    public Optional<ManagedProcess> byPid(int pid) {
        ManagedProcess p = byPid.get(pid);
        return p == null || p.exitStatus() != null ? Optional.empty() : Optional.of(p);
    }

    public Optional<ManagedProcess> byTag(String tag) {
        return byPid.values().stream().filter(p -> tag.equals(p.tag()) && p.exitStatus() == null).findFirst();
    }

    public Collection<ManagedProcess> list() {
        return List.copyOf(byPid.values().stream().filter(p -> p.exitStatus() == null).toList());
    }
}
