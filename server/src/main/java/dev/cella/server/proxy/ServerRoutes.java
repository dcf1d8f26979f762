package dev.cella.server.proxy;

import dev.cella.node.problem.Problem;
import dev.cella.node.proxy.SandboxRoutes;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.sandbox.SandboxRepository;
import dev.cella.server.sandbox.SandboxRow;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The server's routes for sandbox traffic: the sandbox's row says which node hosts it,
 * and that node says how to reach it (directly for the node in this process, through its
 * own proxy for a remote one). The traffic token is the server's to check, from its table.
 *
 * <p>What the proxy needs of a row (its node, its traffic token, its envd token) never
 * changes while the row exists, so it is remembered for {@link #CACHE_FOR} instead of read
 * per request. A row deleted (killed, ended, its team deleted) or paused or resumed in this
 * server is forgotten at once ({@link SandboxRepository#onChange}); whether the sandbox
 * runs is never remembered: the node is asked every time, as before, so a sandbox that
 * ended on its node gets the node's answer, and a paused one is woken (autoResume) or
 * refused by it. Only rows that exist are remembered: a sandbox just made is routed at once.
 */
public final class ServerRoutes implements SandboxRoutes {
    /** How long a row's node and tokens are believed without reading the table again. */
    public static final Duration CACHE_FOR = Duration.ofSeconds(1);

    private final SandboxRepository sandboxes;
    private final Fleet fleet;
    private final LongSupplier nanoClock;
    private final long cacheForNanos;
    /** Sandbox id to what routing needs of its row. */
    private final Map<String, Known> known = new ConcurrentHashMap<>();
    /** The envd tokens of every sandbox that has one, as last read: what signed file URLs are checked against. */
    private volatile Tokens envdTokens;
    /** Moved on by every change a row reports: a read that raced with one does not keep what it read. */
    private final AtomicLong changes = new AtomicLong();

    private record Known(String nodeId, String trafficAccessToken, long until) {}

    private record Tokens(Map<String, String> byId, long until) {}

    public ServerRoutes(SandboxRepository sandboxes, Fleet fleet) {
        this(sandboxes, fleet, System::nanoTime);
    }

    /** With the clock the cache's expiry is read from (tests move it). */
    public ServerRoutes(SandboxRepository sandboxes, Fleet fleet, LongSupplier nanoClock) {
        this.sandboxes = sandboxes;
        this.fleet = fleet;
        this.nanoClock = nanoClock;
        this.cacheForNanos = CACHE_FOR.toNanos();
        sandboxes.onChange(this::forget);
    }

    /** The row of this sandbox changed or went away: read it again next time. */
    void forget(String sandboxId) {
        changes.incrementAndGet();
        known.remove(sandboxId);
        envdTokens = null;
    }

    @Override
    public Optional<Route> route(String sandboxId, int port) {
        Optional<Known> row = row(sandboxId);
        if (row.isEmpty()) return Optional.empty();
        try {
            return fleet.node(row.get().nodeId()).route(sandboxId, port)
                    .map(r -> new Route(r.base(), r.headers(), row.get().trafficAccessToken()));
        } catch (Problem.Unavailable e) {
            return Optional.empty();
        }
    }

    private Optional<Known> row(String sandboxId) {
        long now = nanoClock.getAsLong();
        Known k = known.get(sandboxId);
        if (k != null && now - k.until() < 0) return Optional.of(k);
        long before = changes.get();
        Optional<Known> read = sandboxes.findAnyTeam(sandboxId).map(r -> new Known(r.nodeId(), r.trafficAccessToken(), now + cacheForNanos));
        if (read.isEmpty()) {
            known.remove(sandboxId);
            return read;
        }
        if (known.size() > 100_000) known.values().removeIf(old -> now - old.until() >= 0); // rows gone behind our back
        known.put(sandboxId, read.get());
        if (changes.get() != before) known.remove(sandboxId); // changed while read: not to be remembered
        return read;
    }

    @Override
    public Optional<String> signedBy(String path, String operation, String user, String signature, String expiration) {
        long now = nanoClock.getAsLong();
        Tokens t = envdTokens;
        if (t != null && now - t.until() < 0) {
            Optional<String> id = signer(t, path, operation, user, signature, expiration);
            if (id.isPresent()) return id;
        }
        // not among those remembered (a sandbox made since, or no signature of ours): read them all again
        long before = changes.get();
        Map<String, String> byId = new LinkedHashMap<>();
        for (SandboxRow r : sandboxes.withEnvdToken()) byId.put(r.id(), r.envdAccessToken());
        t = new Tokens(byId, now + cacheForNanos);
        envdTokens = t;
        if (changes.get() != before) envdTokens = null; // a row changed while they were read: read them again next time
        return signer(t, path, operation, user, signature, expiration);
    }

    private static Optional<String> signer(Tokens t, String path, String operation, String user, String signature, String expiration) {
        return t.byId().entrySet().stream()
                .filter(e -> SandboxRoutes.signs(e.getValue(), path, operation, user, signature, expiration))
                .map(Map.Entry::getKey).findFirst();
    }
}
