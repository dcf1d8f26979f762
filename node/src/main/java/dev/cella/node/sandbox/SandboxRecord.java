package dev.cella.node.sandbox;

import java.time.Instant;

/**
 * What the node remembers of a sandbox, on disk, so that a restarted node re-adopts it
 * with its state, token and deadline: the spec it was made from, its state, when it
 * started and when its time is up, what happens then, and whether traffic wakes it
 * when paused (E2B's autoResume). {@code runtimeName} is what the runtime driver calls it
 * (its container, cgroup, network namespace and directory): the sandbox's id, or the
 * name it had in the warm pool before a create took it (null reads as the id).
 */
public record SandboxRecord(SandboxSpec spec, SandboxState state, String envdUrl, Instant startedAt, Instant endAt,
                            TimeoutAction onTimeout, boolean autoResume, String runtimeName) {
    public SandboxRecord(SandboxSpec spec, SandboxState state, String envdUrl, Instant startedAt, Instant endAt,
                         TimeoutAction onTimeout, boolean autoResume) {
        this(spec, state, envdUrl, startedAt, endAt, onTimeout, autoResume, null);
    }

    /** The driver's name for it. */
    public String name() {
        return runtimeName != null ? runtimeName : spec.id();
    }

    public SandboxRecord withState(SandboxState s) {
        return new SandboxRecord(spec, s, envdUrl, startedAt, endAt, onTimeout, autoResume, runtimeName);
    }

    public SandboxRecord withEnvdUrl(String url) {
        return new SandboxRecord(spec, state, url, startedAt, endAt, onTimeout, autoResume, runtimeName);
    }

    public SandboxRecord withEndAt(Instant end) {
        return new SandboxRecord(spec, state, envdUrl, startedAt, end, onTimeout, autoResume, runtimeName);
    }
}
