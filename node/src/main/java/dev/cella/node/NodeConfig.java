package dev.cella.node;

import java.nio.file.Path;
import java.util.Map;

/**
 * How a node runs: its id (how the server names it; the host name by default), where it
 * keeps state, where it listens, its token, its templates, its envd runtime.
 */
public record NodeConfig(String id, Path stateDir, String apiHost, int apiPort, String proxyHost, int proxyPort, String token,
                         Path envdRuntime, Map<String, Path> templates, int subnetOctet) {}
