package dev.cella.server.sandbox;

import dev.cella.node.sandbox.SandboxException;
import dev.cella.node.sandbox.SandboxRecord;
import dev.cella.node.sandbox.SandboxSpec;
import dev.cella.node.sandbox.SandboxState;
import dev.cella.node.sandbox.TimeoutAction;
import dev.cella.server.auth.Team;
import dev.cella.server.nodes.NodeClient;

import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Sandboxes as teams see them. The server's table says whose a sandbox is and how it
 * was made; the node says whether it still runs: a sandbox the node no longer has (its
 * time ran out) is forgotten when next looked at.
 */
public final class SandboxService {
    /** E2B's defaults for a sandbox of the base template. */
    public static final int DEFAULT_VCPUS = 2, DEFAULT_MEMORY_MB = 512, DEFAULT_DISK_MB = 2048;
    /** E2B's default lifetime: 300 s. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(300);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";

    private final SandboxRepository repo;
    private final NodeClient node;

    public SandboxService(SandboxRepository repo, NodeClient node) {
        this.repo = repo;
        this.node = node;
    }

    /** What a create asks for (E2B's NewSandbox). */
    public record NewSandbox(String templateId, Duration timeout, Map<String, String> metadata, Map<String, String> envVars,
                             boolean autoPause, boolean autoResume, boolean secure, boolean internet) {}

    /** A sandbox with its live state from the node. */
    public record View(SandboxRow row, SandboxRecord live) {}

    public static final class NotFound extends RuntimeException {
        public NotFound(String m) { super(m); }
    }

    public View create(Team team, NewSandbox req) throws IOException {
        var rootfs = node.template(req.templateId()).orElseThrow(() -> new NotFound("template '" + req.templateId() + "' not found"));
        String id = newId();
        String token = req.secure() ? HexFormat.of().formatHex(randomBytes(16)) : null;
        int vcpus = DEFAULT_VCPUS, memoryMb = DEFAULT_MEMORY_MB, diskMb = DEFAULT_DISK_MB;
        SandboxSpec spec = new SandboxSpec(id, req.templateId(), rootfs, vcpus, memoryMb, diskMb, 1024, req.internet(),
                req.envVars(), req.metadata(), token, "user");
        SandboxRecord live = node.create(spec, req.timeout(), req.autoPause() ? TimeoutAction.PAUSE : TimeoutAction.KILL,
                req.autoPause() && req.autoResume());
        SandboxRow row = new SandboxRow(id, team.id(), req.templateId(), node.id(), "running", req.metadata(), token, vcpus, memoryMb,
                diskMb, req.autoPause(), live.startedAt().toEpochMilli(), live.endAt() == null ? null : live.endAt().toEpochMilli());
        repo.insert(row);
        return new View(row, live);
    }

    public Optional<View> get(Team team, String id) {
        return repo.find(team.id(), id).flatMap(this::live);
    }

    private Optional<View> live(SandboxRow row) {
        Optional<SandboxRecord> live = node.get(row.id());
        if (live.isEmpty()) {
            repo.delete(row.id()); // ended on its node (its time ran out)
            return Optional.empty();
        }
        return Optional.of(new View(row, live.get()));
    }

    public java.util.Set<String> templates() {
        return node.templates();
    }

    /**
     * The server is the source of truth: a sandbox its node runs but no team owns (its row
     * is gone, say the server crashed between a kill and its record) is killed.
     * Returns the ids killed.
     */
    public List<String> reconcile() {
        java.util.Set<String> owned = new java.util.HashSet<>(repo.allIds());
        List<String> killed = new java.util.ArrayList<>();
        for (String id : node.sandboxIds()) {
            if (owned.contains(id)) continue;
            try {
                node.kill(id);
                killed.add(id);
            } catch (IOException | SandboxException e) {
                // gone already
            }
        }
        return killed;
    }

    public List<View> list(Team team) {
        return repo.list(team.id()).stream().map(this::live).flatMap(Optional::stream).toList();
    }

    public boolean kill(Team team, String id) throws IOException {
        Optional<View> v = get(team, id);
        if (v.isEmpty()) return false;
        try {
            node.kill(id);
        } catch (SandboxException.NotFound gone) {
            repo.delete(id); // it ended meanwhile (its time ran out while this call waited): not killed by us
            return false;
        }
        repo.delete(id);
        return true;
    }

    public View setTimeout(Team team, String id, Duration timeout) {
        View v = get(team, id).orElseThrow(() -> new NotFound("sandbox " + id + " not found"));
        SandboxRecord r = node.setTimeout(id, timeout);
        repo.updateState(id, state(r), r.endAt() == null ? null : r.endAt().toEpochMilli());
        return new View(v.row(), r);
    }

    public View pause(Team team, String id) {
        get(team, id).orElseThrow(() -> new NotFound("sandbox " + id + " not found"));
        SandboxRecord r = node.pause(id);
        repo.updateState(id, state(r), null);
        return get(team, id).orElseThrow();
    }

    /** Makes sure the sandbox runs: resumes it when paused. Returns whether it had to resume. */
    public boolean connect(Team team, String id, Duration timeout) {
        View v = get(team, id).orElseThrow(() -> new NotFound("sandbox " + id + " not found"));
        if (v.live().state() == SandboxState.RUNNING) {
            if (timeout != null) setTimeout(team, id, timeout);
            return false;
        }
        // a paused sandbox's deadline has usually passed: without a new one the reaper would act again at once
        SandboxRecord r = node.resume(id, timeout != null ? timeout : DEFAULT_TIMEOUT);
        repo.updateState(id, state(r), r.endAt() == null ? null : r.endAt().toEpochMilli());
        return true;
    }

    public List<dev.cella.node.metrics.MetricPoint> metrics(Team team, String id, long seconds) {
        get(team, id).orElseThrow(() -> new NotFound("sandbox " + id + " not found"));
        return node.metrics(id, seconds);
    }

    public List<dev.cella.node.sandbox.SandboxEvent> events(Team team, String id) throws IOException {
        get(team, id).orElseThrow(() -> new NotFound("sandbox " + id + " not found"));
        return node.events(id);
    }

    static String state(SandboxRecord r) {
        return r.state() == SandboxState.RUNNING ? "running" : "paused";
    }

    static String newId() {
        StringBuilder s = new StringBuilder(20);
        for (byte b : randomBytes(20)) s.append(ID_CHARS.charAt((b & 0xff) % ID_CHARS.length()));
        return s.toString();
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
