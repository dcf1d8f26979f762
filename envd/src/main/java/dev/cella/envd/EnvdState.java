package dev.cella.envd;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the node tells envd through {@code POST /init}: the sandbox's environment
 * variables, its access token, the default user and working directory.
 */
public final class EnvdState {
    private final Map<String, String> envVars = new ConcurrentHashMap<>();
    private volatile String accessToken;
    private volatile String defaultUser;
    private volatile String defaultWorkdir;

    public EnvdState(String defaultUser) {
        this.defaultUser = defaultUser;
    }

    public Map<String, String> envVars() { return envVars; }
    public String accessToken() { return accessToken; }
    public void accessToken(String token) { this.accessToken = token == null || token.isEmpty() ? null : token; }
    public String defaultUser() { return defaultUser; }
    public void defaultUser(String user) { this.defaultUser = user; }
    public String defaultWorkdir() { return defaultWorkdir; }
    public void defaultWorkdir(String dir) { this.defaultWorkdir = dir; }
}
