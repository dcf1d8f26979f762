package dev.cella.server.sandbox;

import java.util.Map;

/**
 * A sandbox as the server keeps it: whose it is, where it runs, what it was made with,
 * its tokens (envd's, and the traffic token when its ports are not public), and for the
 * native API's capsules the inactivity timeout that pauses it and when it was last used.
 */
public record SandboxRow(String id, String teamId, String templateId, String nodeId, RowState state, Map<String, String> metadata,
                         String envdAccessToken, int vcpus, int memoryMb, int diskMb, boolean autoPause, long startedAt, Long endAt,
                         String trafficAccessToken, int inactivityTimeoutSec, Long lastActiveAt) {

    /** The row of a sandbox that now runs since {@code startedAt}, until {@code endAt}. */
    SandboxRow running(long startedAt, Long endAt) {
        return new SandboxRow(id, teamId, templateId, nodeId, RowState.RUNNING, metadata, envdAccessToken, vcpus, memoryMb, diskMb, autoPause,
                startedAt, endAt, trafficAccessToken, inactivityTimeoutSec, startedAt);
    }
}
