package dev.cella.server.sandbox;

import java.util.Map;

/**
 * A sandbox as the server keeps it: whose it is, where it runs, what it was made with,
 * and its tokens (envd's, and the traffic token when its ports are not public).
 */
public record SandboxRow(String id, String teamId, String templateId, String nodeId, String state, Map<String, String> metadata,
                         String envdAccessToken, int vcpus, int memoryMb, int diskMb, boolean autoPause, long startedAt, Long endAt,
                         String trafficAccessToken) {}
