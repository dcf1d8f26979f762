package dev.cella.node.proxy;

import dev.cella.protocol.envd.FileSignature;

import java.net.URI;
import java.util.Map;
import java.util.Optional;

/**
 * Where the proxy sends a sandbox's traffic. A node sends it straight to the sandbox's
 * address; the server sends it on to the proxy of the node that hosts the sandbox. The
 * proxy's own rules (ports, envd's internal routes, the traffic token, streaming) are the
 * same either way.
 */
public interface SandboxRoutes {

    /**
     * The route to a port of a running sandbox; empty when the sandbox is unknown or not
     * running. A paused sandbox whose policy says so is woken first (E2B's autoResume).
     */
    Optional<Route> route(String sandboxId, int port);

    /**
     * The running sandbox whose envd access token makes this signed file URL's signature
     * (a signed URL names no sandbox when one {@code E2B_SANDBOX_URL} serves them all).
     */
    Optional<String> signedBy(String path, String operation, String user, String signature, String expiration);

    /** Whether a file URL's signature is the one this envd access token makes (envd's own formula). */
    static boolean signs(String envdAccessToken, String path, String operation, String user, String signature, String expiration) {
        Long exp = null;
        if (expiration != null && !expiration.isEmpty()) {
            try {
                exp = Long.parseLong(expiration);
            } catch (NumberFormatException e) {
                return false; // envd refuses it too
            }
        }
        return FileSignature.matches(signature, FileSignature.sign(path == null ? "" : path, operation, user, envdAccessToken, exp));
    }

    /**
     * @param base               where requests go: {@code http://host:port} (the path is appended)
     * @param headers            headers to set on the forwarded request (naming the sandbox to the next proxy)
     * @param trafficAccessToken what {@code e2b-traffic-access-token} must carry for ports other than envd's;
     *                           null when the sandbox's traffic is public
     */
    record Route(URI base, Map<String, String> headers, String trafficAccessToken) {}
}
