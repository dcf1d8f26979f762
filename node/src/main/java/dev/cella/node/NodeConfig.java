package dev.cella.node;

import dev.cella.node.pool.WarmPool;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * How a node runs: its id (how the server names it; the host name by default), where it
 * keeps state, where it listens, its token, its templates, its envd runtime, and its warm
 * pool's sizes, and the registries it may pull from though they are not public
 * ({@code --registry-allow}, see {@link dev.cella.node.image.RegistryPolicy}).
 */
public record NodeConfig(String id, Path stateDir, String apiHost, int apiPort, String proxyHost, int proxyPort, String token,
                         Path envdRuntime, Map<String, Path> templates, int subnetOctet, WarmPool.Settings pool, Set<String> registryAllow) {
    /** With the warm pool's default sizes, and pulls from public registries only. */
    public NodeConfig(String id, Path stateDir, String apiHost, int apiPort, String proxyHost, int proxyPort, String token,
                      Path envdRuntime, Map<String, Path> templates, int subnetOctet) {
        this(id, stateDir, apiHost, apiPort, proxyHost, proxyPort, token, envdRuntime, templates, subnetOctet, WarmPool.Settings.defaults(), Set.of());
    }
}
