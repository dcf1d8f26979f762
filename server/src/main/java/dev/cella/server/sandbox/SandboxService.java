package dev.cella.server.sandbox;

import dev.cella.node.api.NodeSandbox;
import dev.cella.node.envd.EnvdRuntime;
import dev.cella.node.metrics.MetricPoint;
import dev.cella.node.problem.Problem;
import dev.cella.node.proxy.SandboxRoutes;
import dev.cella.node.sandbox.SandboxEvent;
import dev.cella.node.sandbox.SandboxState;
import dev.cella.server.Ids;
import dev.cella.server.auth.Team;
import dev.cella.server.envd.Envd;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.nodes.NodeClient;
import dev.cella.server.template.StartCommand;
import dev.cella.server.template.Templates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Sandboxes as teams see them. The server's table says whose a sandbox is, how it was
 * made and which node hosts it; the node says whether it still runs: a sandbox the node
 * no longer has (its time ran out) is forgotten when next looked at. A node that does not
 * answer makes its sandboxes' calls fail with 503; nothing is forgotten for that.
 */
public final class SandboxService {
    /** E2B's defaults for a sandbox of the base template. */
    public static final int DEFAULT_VCPUS = 2, DEFAULT_MEMORY_MB = 512, DEFAULT_DISK_MB = 2048;
    /** E2B's default lifetime: 300 s. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(300);
    private static final Logger log = LoggerFactory.getLogger(SandboxService.class);

    private final SandboxRepository repo;
    private final Fleet fleet;
    /** Told the node template of every sandbox started (templates count their spawns). */
    private Consumer<String> spawned;
    /** How long a template's ready command may take to succeed when a sandbox starts. */
    static final Duration START_READY_LIMIT = Duration.ofSeconds(60);

    public void onSpawn(Consumer<String> spawned) {
        this.spawned = spawned;
    }

    private final TeamQuota quota;
    /** A team's quota check and its row's insert are one step (two creates at once cannot both take the last place). */
    private final Map<String, Object> teamLocks = new ConcurrentHashMap<>();

    public SandboxService(SandboxRepository repo, Fleet fleet) {
        this(repo, fleet, TeamQuota.DEFAULT);
    }

    public SandboxService(SandboxRepository repo, Fleet fleet, TeamQuota quota) {
        this.repo = repo;
        this.fleet = fleet;
        this.quota = quota;
    }

    /** What a create asks for (E2B's NewSandbox); {@code publicTraffic} false gives the sandbox a traffic token. */
    public record NewSandbox(String templateId, Duration timeout, Map<String, String> metadata, Map<String, String> envVars,
                             boolean autoPause, boolean autoResume, boolean secure, boolean internet, boolean publicTraffic,
                             int vcpus, int memoryMb, int inactivityTimeoutSec, Templates.Defaults defaults) {
        /** What E2B's create asks for: E2B's sizes (or the template's), no inactivity timeout. */
        public static NewSandbox e2b(Templates.Resolved t, Duration timeout, Map<String, String> metadata, Map<String, String> envVars,
                                     boolean autoPause, boolean autoResume, boolean secure, boolean internet, boolean publicTraffic) {
            return new NewSandbox(t.templateId(), timeout, metadata, envVars, autoPause, autoResume, secure, internet, publicTraffic,
                    t.vcpus() != null ? t.vcpus() : DEFAULT_VCPUS, t.memoryMb() != null ? t.memoryMb() : DEFAULT_MEMORY_MB, 0, t.defaults());
        }
    }

    /**
     * A sandbox with its live state from the node; {@code live} is null while it is being
     * made, or when its node does not answer.
     */
    public record View(SandboxRow row, NodeSandbox live) {
        /** The Wrenn API's status: starting, running, paused, hibernated, or missing (its node is away). */
        public String status() {
            if (row.state() == RowState.CREATING) return "starting";
            if (live == null) return "missing";
            return switch (live.state()) {
                case RUNNING -> "running";
                case PAUSED -> "paused";
                case HIBERNATED -> "hibernated";
            };
        }
    }


    public View create(Team team, NewSandbox req) throws IOException {
        NodeClient node = fleet.place(req.templateId(), repo.countByNode()).orElseThrow(() -> fleet.reachable().isEmpty()
                ? new Problem.Unavailable("no node is reachable to start the sandbox on", null)
                : new Problem.NotFound("template '" + req.templateId() + "' not found"));
        String id = Ids.id(20);
        String token = req.secure() ? Ids.hex(16) : null;
        String trafficToken = req.publicTraffic() ? null : Ids.hex(16);
        int vcpus = req.vcpus(), memoryMb = req.memoryMb(), diskMb = DEFAULT_DISK_MB;
        Templates.Defaults d = req.defaults() == null ? Templates.Defaults.NONE : req.defaults();
        Map<String, String> env = new LinkedHashMap<>(d.env());
        env.putAll(req.envVars()); // the request's variables win over the template's
        // what the node is asked for: the node API's create, whichever way the node is reached
        dev.cella.node.api.NewSandbox create = new dev.cella.node.api.NewSandbox(id, req.templateId(), vcpus, memoryMb, diskMb, 1024, req.internet(), env, req.metadata(),
                req.timeout() == null ? null : req.timeout().toSeconds(), req.autoPause() ? "pause" : "kill",
                req.autoPause() && req.autoResume(), token, d.user() != null ? d.user() : "user", trafficToken, d.workdir());
        // the row first: a sandbox that runs must always be owned, or the reconciler would kill it
        SandboxRow row = new SandboxRow(id, team.id(), req.templateId(), node.id(), RowState.CREATING, req.metadata(), token, vcpus, memoryMb,
                diskMb, req.autoPause(), System.currentTimeMillis(), null, trafficToken, req.inactivityTimeoutSec(), null);
        synchronized (teamLocks.computeIfAbsent(team.id(), k -> new Object())) {
            quota.admit(repo.held(team.id()), vcpus, memoryMb);
            repo.insert(row);
        }
        NodeSandbox live;
        try {
            live = node.create(create);
        } catch (IOException | RuntimeException e) {
            repo.delete(id);
            throw e;
        }
        row = row.running(live.startedAt().toEpochMilli(), live.endAt() == null ? null : live.endAt().toEpochMilli());
        repo.created(id, row.startedAt(), row.endAt());
        if (d.startCmd() != null || d.readyCmd() != null) {
            try {
                var route = node.route(id, EnvdRuntime.PORT).orElseThrow();
                StartCommand.run(new Envd(route, token), d, START_READY_LIMIT);
            } catch (RuntimeException e) {
                kill(team, id);
                throw new Problem.Upstream("agent_error", "the template's start command did not become ready: " + e.getMessage());
            }
        }
        if (spawned != null) spawned.accept(req.templateId());
        return new View(row, live);
    }

    public Optional<View> get(Team team, String id) {
        return repo.find(team.id(), id).flatMap(this::live);
    }

    /** As {@link #get}, but a sandbox whose node is away is shown (status missing), not refused. */
    public Optional<View> getOrMissing(Team team, String id) {
        Optional<SandboxRow> row = repo.find(team.id(), id);
        if (row.isEmpty()) return Optional.empty();
        if (row.get().state() == RowState.CREATING) return Optional.of(new View(row.get(), null));
        try {
            return live(row.get());
        } catch (Problem.Unavailable e) {
            return Optional.of(new View(row.get(), null));
        }
    }

    /**
     * Someone used the capsule (exec, ping): it is active now, and its inactivity timeout,
     * if it has one, starts again (the node pauses it when its deadline passes).
     */
    public View touch(Team team, String id) {
        return touch(require(team, id));
    }

    /** As {@link #touch(Team, String)}, for a sandbox the caller has looked up already. */
    public View touch(View v) {
        String id = v.row().id();
        long now = System.currentTimeMillis();
        repo.touch(id, now);
        if (v.row().inactivityTimeoutSec() > 0 && v.live().state() == SandboxState.RUNNING) {
            NodeSandbox r = fleet.node(v.row().nodeId()).setTimeout(id, Duration.ofSeconds(v.row().inactivityTimeoutSec()));
            return new View(v.row(), r);
        }
        return v;
    }

    /** Where envd of a running sandbox is reached from here, and its access token. */
    public record EnvdAccess(SandboxRoutes.Route route, String accessToken) {}

    public EnvdAccess envd(Team team, String id) {
        return envd(require(team, id));
    }

    /** As {@link #envd(Team, String)}, for a sandbox the caller has looked up already. */
    public EnvdAccess envd(View v) {
        String id = v.row().id();
        if (v.live() == null || v.live().state() != SandboxState.RUNNING) {
            throw Problem.invalidState("sandbox is not running (status: " + v.status() + ")");
        }
        var route = fleet.node(v.row().nodeId()).route(id, EnvdRuntime.PORT)
                .orElseThrow(() -> Problem.invalidState("sandbox is not running"));
        return new EnvdAccess(route, v.row().envdAccessToken());
    }

    /** Destroys every sandbox of a team (the team was deleted). Returns how many. */
    public int destroyAll(Team team) {
        int n = 0;
        for (SandboxRow row : repo.list(team.id())) {
            try {
                fleet.node(row.nodeId()).kill(row.id());
                n++;
            } catch (IOException | Problem e) {
                log.warn("sandbox {} of deleted team {} not destroyed now ({}); the reconciler removes it", row.id(), team.id(), e.getMessage());
            }
            repo.delete(row.id());
        }
        return n;
    }

    /**
     * The row with what its node says of it; empty when the node no longer has it (its time
     * ran out). A read does not write: the {@link Reconciler} removes such rows (within its
     * 30 s round), and until then every read here treats them as gone.
     */
    private Optional<View> live(SandboxRow row) {
        if (row.state() == RowState.CREATING) return Optional.empty();
        return fleet.node(row.nodeId()).get(row.id()).map(live -> new View(row, live));
    }

    private NodeClient nodeOf(Team team, String id) {
        View v = require(team, id);
        return fleet.node(v.row().nodeId());
    }

    public Set<String> templates() {
        return fleet.templates();
    }

    /** The team's running and paused sandboxes (E2B's list), with one call per node that hosts any of them. */
    public List<View> list(Team team) {
        return listAll(team).stream().filter(v -> v.live() != null).toList();
    }

    /** Every sandbox of the team: also those being made (starting) and those whose node is away (missing). */
    public List<View> listAll(Team team) {
        List<SandboxRow> rows = repo.list(team.id());
        Map<String, Map<String, NodeSandbox>> byNode = new HashMap<>();
        List<View> out = new ArrayList<>();
        for (SandboxRow row : rows) {
            if (row.state() == RowState.CREATING) {
                out.add(new View(row, null));
                continue;
            }
            Map<String, NodeSandbox> live = byNode.computeIfAbsent(row.nodeId(), nodeId -> {
                try {
                    Map<String, NodeSandbox> m = new HashMap<>();
                    for (NodeSandbox r : fleet.node(nodeId).list()) m.put(r.sandboxId(), r);
                    return m;
                } catch (Problem.Unavailable e) {
                    log.warn("listing without the sandboxes of node {}: {}", nodeId, e.getMessage());
                    return null;
                }
            });
            if (live == null) { // its node is away: not forgotten
                out.add(new View(row, null));
                continue;
            }
            NodeSandbox r = live.get(row.id());
            if (r != null) out.add(new View(row, r)); // else it ended on its node: the reconciler removes its row
        }
        return out;
    }

    public boolean kill(Team team, String id) throws IOException {
        Optional<View> v = get(team, id);
        if (v.isEmpty()) return false;
        try {
            fleet.node(v.get().row().nodeId()).kill(id);
        } catch (Problem.NotFound gone) {
            repo.delete(id); // it ended meanwhile (its time ran out while this call waited): not killed by us
            return false;
        }
        repo.delete(id);
        return true;
    }

    /** The team's sandbox, or {@link Problem.NotFound}: the one lookup a request makes, its row and its node's record. */
    public View require(Team team, String id) {
        return get(team, id).orElseThrow(() -> new Problem.NotFound("sandbox " + id + " not found"));
    }

    public View setTimeout(Team team, String id, Duration timeout) {
        return setTimeout(require(team, id), timeout);
    }

    /** As {@link #setTimeout(Team, String, Duration)}, for a sandbox the caller has looked up already. */
    public View setTimeout(View v, Duration timeout) {
        String id = v.row().id();
        NodeSandbox r = fleet.node(v.row().nodeId()).setTimeout(id, timeout);
        repo.updateState(id, state(r), r.endAt() == null ? null : r.endAt().toEpochMilli());
        return new View(v.row(), r);
    }

    public View pause(Team team, String id) {
        return pause(require(team, id));
    }

    /** As {@link #pause(Team, String)}, for a sandbox the caller has looked up already. */
    public View pause(View v) {
        String id = v.row().id();
        NodeSandbox r = fleet.node(v.row().nodeId()).pause(id);
        repo.updateState(id, state(r), null);
        return new View(v.row(), r);
    }

    /**
     * The native API's resume: a paused capsule runs again with its inactivity timeout (or
     * none); 409 when it is not paused.
     */
    public View resume(Team team, String id) {
        View v = require(team, id);
        if (v.live().state() == SandboxState.RUNNING) {
            throw Problem.invalidState("sandbox is not paused (status: running)");
        }
        int ttl = v.row().inactivityTimeoutSec();
        Duration timeout = ttl > 0 ? Duration.ofSeconds(ttl) : v.live().endAt() != null ? DEFAULT_TIMEOUT : null;
        NodeSandbox r = fleet.node(v.row().nodeId()).resume(v.row().id(), timeout);
        repo.updateState(v.row().id(), state(r), r.endAt() == null ? null : r.endAt().toEpochMilli());
        repo.touch(v.row().id(), System.currentTimeMillis());
        return new View(v.row(), r);
    }

    /** A sandbox made sure to run, and whether it had to be resumed for that. */
    public record Connected(View view, boolean resumed) {}

    /** Makes sure the sandbox runs: resumes it when paused (with a new deadline), else sets the timeout asked for. */
    public Connected connect(View v, Duration timeout) {
        if (v.live().state() == SandboxState.RUNNING) {
            return new Connected(timeout != null ? setTimeout(v, timeout) : v, false);
        }
        // a paused sandbox's deadline has usually passed: without a new one the reaper would act again at once
        String id = v.row().id();
        NodeSandbox r = fleet.node(v.row().nodeId()).resume(id, timeout != null ? timeout : DEFAULT_TIMEOUT);
        repo.updateState(id, state(r), r.endAt() == null ? null : r.endAt().toEpochMilli());
        return new Connected(new View(v.row(), r), true);
    }

    public List<MetricPoint> metrics(Team team, String id, long seconds) {
        return nodeOf(team, id).metrics(id, seconds);
    }

    public List<SandboxEvent> events(Team team, String id) throws IOException {
        return nodeOf(team, id).events(id);
    }

    static RowState state(NodeSandbox r) {
        return r.state() == SandboxState.RUNNING ? RowState.RUNNING : RowState.PAUSED;
    }

}
