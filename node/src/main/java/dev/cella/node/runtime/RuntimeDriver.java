package dev.cella.node.runtime;

import dev.cella.node.sandbox.SandboxSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * How a node turns a sandbox spec into something running and back. One implementation
 * per isolation technology ({@code container} on crun today, {@code microvm} on QEMU
 * later), chosen per node; callers never know which.
 */
public interface RuntimeDriver {
    /** The driver's name as nodes report it: {@code container} or {@code microvm}. */
    String kind();

    /**
     * Prepares and starts a sandbox; returns once its envd answers and knows its variables
     * and token. Everything the driver makes for it is named after {@code spec.id()}: that
     * is its name in every other call.
     */
    RunningSandbox create(SandboxSpec spec) throws IOException;

    /**
     * As {@link #create(SandboxSpec)}; a {@code background} start (the warm pool's) runs at
     * the least CPU weight, yielding to everything in use, until {@link #assign} gives it the
     * normal weight.
     */
    default RunningSandbox create(SandboxSpec spec, boolean background) throws IOException {
        return create(spec);
    }

    /**
     * Gives the frozen, ready sandbox {@code name} (made by {@link #create} for the warm
     * pool) the spec a create asked for: limits, network policy, hostname, envd's
     * variables, token and user; it runs when this returns. It keeps its name.
     */
    RunningSandbox assign(String name, SandboxSpec spec) throws IOException;

    /** Kills the sandbox and releases everything it held (processes, mounts, network, cgroups, files). */
    void stop(String id) throws IOException;

    /** Stops every process of the sandbox in place: no CPU, memory kept. */
    void freeze(String id) throws IOException;

    /** Lets a frozen sandbox run again. */
    void thaw(String id) throws IOException;

    /** Ends the sandbox's processes and frees its resources, keeping its filesystem on disk (hibernation). */
    void persist(String id) throws IOException;

    /** Whether a persisted sandbox's filesystem is here to be restored. */
    boolean persisted(String id);

    /** Starts the persisted sandbox {@code name} again with the filesystem it had. */
    RunningSandbox restore(String name, SandboxSpec spec) throws IOException;

    /**
     * Copies what the sandbox changed in its root filesystem (its writable layer, deletions
     * included) into {@code target}, an empty directory: the top layer of a new template.
     * The sandbox must be frozen or stopped in place by the caller for a consistent copy.
     */
    void snapshot(String id, Path target) throws IOException;

    /** What the sandbox uses now; empty when it is not running here. */
    Optional<SandboxUsage> usage(String id);

    /**
     * Why the sandbox {@code name}, started and not stopped by this driver, is no longer
     * there: its first process (envd) ended. Empty while it lives, and when the driver cannot
     * tell (it has no record of a first process).
     */
    Optional<String> exited(String name);

    /** The ids of the sandboxes this driver really has running (or frozen) on the host. */
    List<String> running() throws IOException;

    /** Takes back the sandbox {@code name} found running after the node restarted; empty when it is not (fully) there. */
    Optional<RunningSandbox> reattach(String name, SandboxSpec spec) throws IOException;

    /**
     * Removes every kernel object and file of this driver that none of the {@code owned}
     * sandboxes holds: what a crash in the middle of a create or a kill left behind.
     * Returns a description of each thing removed. It waits for starts under way and
     * holds new ones back while it runs; the caller names as owned every sandbox whose
     * start has returned, even if not yet on its books.
     */
    List<String> reconcile(Set<String> owned) throws IOException;
}
