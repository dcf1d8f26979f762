package dev.cella.node.proxy;

import dev.cella.node.problem.Problem;
import dev.cella.node.sandbox.SandboxRecord;
import dev.cella.node.sandbox.SandboxState;
import dev.cella.node.sandbox.Sandboxes;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** A node's routes: straight to the sandbox's own address on this host. */
public final class NodeRoutes implements SandboxRoutes {
    /** How long a sandbox woken by traffic may live before its policy applies again. */
    static final Duration RESUME_TIMEOUT = Duration.ofMinutes(5);

    private final Sandboxes sandboxes;

    public NodeRoutes(Sandboxes sandboxes) {
        this.sandboxes = sandboxes;
    }

    @Override
    public Optional<Route> route(String sandboxId, int port) {
        Optional<SandboxRecord> r = sandboxes.get(sandboxId);
        if (r.isPresent() && r.get().state() == SandboxState.PAUSED && r.get().autoResume()) {
            // a sandbox created with autoResume wakes up when someone talks to it
            try {
                r = Optional.of(sandboxes.resume(sandboxId, RESUME_TIMEOUT));
            } catch (Problem e) {
                r = sandboxes.get(sandboxId); // resumed meanwhile by another request
            }
        }
        if (r.isEmpty() || r.get().state() != SandboxState.RUNNING) return Optional.empty();
        String ip = URI.create(r.get().envdUrl()).getHost(); // envd's URL is http://<sandbox ip>:49983
        return Optional.of(new Route(URI.create("http://" + ip + ":" + port), Map.of(), r.get().spec().trafficAccessToken()));
    }

    @Override
    public Optional<String> signedBy(String path, String operation, String user, String signature, String expiration) {
        for (SandboxRecord r : sandboxes.list()) {
            String token = r.spec().envdAccessToken();
            if (token == null || r.state() != SandboxState.RUNNING) continue;
            if (SandboxRoutes.signs(token, path, operation, user, signature, expiration)) return Optional.of(r.spec().id());
        }
        return Optional.empty();
    }
}
