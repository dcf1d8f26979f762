package dev.cella.node.sandbox;

import java.time.Instant;

/**
 * What the node remembers of a sandbox, on disk, so that a restarted node re-adopts it
 * with its state, token and deadline: the spec it was made from, its state, when it
 * started and when its time is up, what happens then, and whether traffic wakes it
 * when paused (E2B's autoResume).
 */
public record SandboxRecord(SandboxSpec spec, SandboxState state, String envdUrl, Instant startedAt, Instant endAt,
                            TimeoutAction onTimeout, boolean autoResume) {
    public SandboxRecord withState(SandboxState s) {
        return new SandboxRecord(spec, s, envdUrl, startedAt, endAt, onTimeout, autoResume);
    }

    public SandboxRecord withEnvdUrl(String url) {
        return new SandboxRecord(spec, state, url, startedAt, endAt, onTimeout, autoResume);
    }

    public SandboxRecord withEndAt(Instant end) {
        return new SandboxRecord(spec, state, envdUrl, startedAt, end, onTimeout, autoResume);
    }
}
