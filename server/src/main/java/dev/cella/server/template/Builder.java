package dev.cella.server.template;

import dev.cella.node.api.NewSandbox;
import dev.cella.node.envd.EnvdRuntime;
import dev.cella.node.image.ImagePuller;
import dev.cella.node.problem.Problem;
import dev.cella.server.Ids;
import dev.cella.server.envd.Envd;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.nodes.NodeClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * The build engine behind every template front end. A build runs its steps in a build
 * sandbox (the same isolation as any sandbox) started from the template it builds on;
 * after each command the sandbox's changes become a layer on its node, named by the hash
 * of everything that made it (the layer under it, the step, the variables, directory and
 * user it ran with). A rebuild finds the layers it would make already there and runs only
 * from the first step that changed. Builds are queued, a few at a time; logs are kept
 * line by line as they come; cancel kills the step and the build sandbox.
 */
public final class Builder implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Builder.class);
    /** How long one step may run. */
    static final Duration STEP_LIMIT = Duration.ofMinutes(30);
    /** How long a template's ready command may take to succeed at the end of its build (--ready-timeout-seconds). */
    private final Duration readyLimit;

    private final Templates templates;
    private final Builds builds;
    private final BuildLogs logs;
    private final Fleet fleet;
    private final TemplateFiles files;
    private final Semaphore slots;
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final Set<String> buildSandboxes = ConcurrentHashMap.newKeySet();

    public Builder(Templates templates, Builds builds, BuildLogs logs, Fleet fleet, TemplateFiles files, int concurrentBuilds, Duration readyLimit) {
        this.readyLimit = readyLimit;
        this.files = files;
        this.templates = templates;
        this.builds = builds;
        this.logs = logs;
        this.fleet = fleet;
        this.slots = new Semaphore(concurrentBuilds, true);
        int failed = builds.failUnfinished();
        if (failed > 0) log.warn("{} builds were under way when the server stopped: marked failed", failed);
    }

    /** What a build is asked to make. */
    /**
     * What a build is asked to make. From step {@code forceFrom} on (0: all; -1: none) the cache is not used: those
     * steps run again and make new layers (E2B's skipCache and per-step force).
     */
    public record Request(String teamId, String templateId, BuildSpec spec, int vcpus, int memoryMb, int diskMb, int forceFrom,
                          RegistryLogin registry) {
        public Request(String teamId, String templateId, BuildSpec spec, int vcpus, int memoryMb, int diskMb) {
            this(teamId, templateId, spec, vcpus, memoryMb, diskMb, -1, null);
        }
    }

    /** A registry's username and password for a FROM image: used for this build's pull only, never stored. */
    public record RegistryLogin(String username, String password) {
        @Override
        public String toString() {
            return "RegistryLogin[" + username + ", ***]";
        }
    }

    /** A build under way: its thread, and what to kill on cancel. */
    private static final class Running {
        final Thread thread;
        volatile boolean cancelled;
        volatile NodeClient node;
        volatile String sandbox;

        Running(Thread thread) {
            this.thread = thread;
        }
    }

    private static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("cancelled");
        }
    }

    /** Whether a sandbox is one of the builds' (the reconciler leaves those alone). */
    public boolean isBuildSandbox(String sandboxId) {
        return buildSandboxes.contains(sandboxId);
    }

    /** Queues a build; returns its id at once. */
    public String submit(Request req) {
        return start(prepare(req.templateId()), req);
    }

    /** A build that waits for its steps (E2B's flow: the build is asked for, files uploaded, then it is triggered). */
    public String prepare(String templateId) {
        String buildId = "bld" + Ids.id(20);
        builds.insert(buildId, templateId, System.currentTimeMillis());
        return buildId;
    }

    /** Queues a prepared build. */
    public String start(String buildId, Request req) {
        templates.status(req.templateId(), TemplateStatus.BUILDING);
        logs.append(buildId, "info", "queued");
        Thread t = Thread.ofVirtual().name("build-" + buildId).unstarted(() -> run(buildId, req));
        running.put(buildId, new Running(t));
        t.start();
        return buildId;
    }

    /** Cancels a build: its step is killed and its sandbox removed within moments. False when it was not running. */
    public boolean cancel(String buildId) {
        Running r = running.get(buildId);
        if (r == null) return false;
        r.cancelled = true;
        r.thread.interrupt();
        killSandbox(r);
        return true;
    }

    private void run(String buildId, Request req) {
        Running me = running.get(buildId);
        try {
            slots.acquire();
        } catch (InterruptedException e) {
            finish(buildId, req, BuildStatus.CANCELLED, "cancelled while queued");
            running.remove(buildId);
            return;
        }
        BuildStatus status = BuildStatus.READY;
        String error = null;
        try {
            build(buildId, req, me);
        } catch (Cancelled | InterruptedException e) {
            status = BuildStatus.CANCELLED;
        } catch (RuntimeException e) {
            if (me.cancelled) {
                status = BuildStatus.CANCELLED; // the step died because it was killed
            } else {
                if (!(e instanceof BuildFailure)) log.warn("build {} failed", buildId, e);
                status = BuildStatus.FAILED;
                error = e instanceof BuildFailure ? e.getMessage() : "the build failed: " + e.getMessage();
                logs.append(buildId, "error", error);
            }
        } finally {
            // the build sandbox goes before the outcome is told: whoever reads it finds nothing left
            killSandbox(me);
            slots.release();
        }
        if (status == BuildStatus.CANCELLED) error = "cancelled";
        if (status != BuildStatus.READY) finish(buildId, req, status, error);
        else {
            builds.finished(buildId, BuildStatus.READY, null);
            logs.append(buildId, "info", "build ready");
        }
        running.remove(buildId);
        logs.done(buildId);
    }

    private void finish(String buildId, Request req, BuildStatus status, String error) {
        builds.finished(buildId, status, error);
        // a template whose earlier build is good stays usable; one that never built keeps the build's outcome
        var t = templates.byId(req.templateId());
        if (t.isPresent()) {
            templates.status(req.templateId(), TemplateStatus.afterBuild(status, t.get().nodeTemplate() != null));
        }
        if (status != BuildStatus.READY) logs.append(buildId, status == BuildStatus.CANCELLED ? "warn" : "error", "build " + status.db());
    }

    /** A step that failed, with what to show the user. */
    static final class BuildFailure extends RuntimeException {
        BuildFailure(String message) {
            super(message);
        }
    }

    private void build(String buildId, Request req, Running me) throws InterruptedException {
        BuildSpec spec = req.spec();
        int total = spec.steps().size();
        builds.started(buildId, total);
        logs.append(buildId, "info", "building from " + spec.from() + ": " + total + " steps");
        Templates.Resolved from;
        NodeClient node;
        try {
            // FROM names a template first (the team's, or a built-in one), else an image
            from = templates.resolve(req.teamId(), spec.from());
            String fromId = from.templateId();
            node = fleet.reachable().stream().filter(n -> n.templates().contains(fromId)).findFirst()
                    .orElseThrow(() -> new BuildFailure("no reachable node has template " + spec.from()));
        } catch (Problem.NotFound e) { // no template by that name: an image
            node = fleet.reachable().stream().findFirst().orElseThrow(() -> new BuildFailure("no node is reachable"));
            from = pull(buildId, node, spec.from(), req.registry());
        } catch (Problem e) {
            throw new BuildFailure("FROM " + spec.from() + ": " + e.getMessage());
        }
        me.node = node;
        Templates.Defaults parent = from.defaults();
        BuildPlan planned;
        try {
            planned = BuildPlan.of(from.templateId(), new BuildPlan.State(new LinkedHashMap<>(parent.env()), parent.workdir(), parent.user()),
                    spec, req.forceFrom(), buildId, hash -> files.present(req.teamId(), hash));
        } catch (BuildPlan.Unplannable e) {
            throw new BuildFailure(e.getMessage());
        }
        List<BuildPlan.Planned> plan = planned.steps();
        BuildPlan.State last = planned.last();
        String base = from.templateId();
        var present = node.templates();
        int first = planned.cached(present::contains);
        for (BuildPlan.Planned p : plan.subList(0, first)) {
            logs.append(buildId, "info", "step " + (p.index() + 1) + "/" + total + ": " + p.describe() + " (cached)");
            builds.step(buildId, p.index() + 1, p.layer());
            base = p.layer();
        }
        Templates.Defaults result = new Templates.Defaults(last.env(), last.workdir(), last.user(), spec.startCmd(), spec.readyCmd());
        // the working directory must exist in the template: a last small layer makes it
        String dirLayer = planned.workdirLayer(from.templateId());
        boolean needsDir = dirLayer != null && !present.contains(dirLayer);
        boolean checksStart = result.startCmd() != null || result.readyCmd() != null;
        long written = 0; // what this build's new layers hold
        if (first < plan.size() || needsDir || checksStart) {
            Envd envd = startSandbox(buildId, req, node, base, me);
            for (BuildPlan.Planned p : plan.subList(first, plan.size())) {
                if (me.cancelled) throw new Cancelled();
                if (p.step() instanceof BuildSpec.Copy c) copy(buildId, envd, p, c, req.teamId(), total);
                else runStep(buildId, envd, p, total);
                written += snapshot(node, me.sandbox, p.layer());
                builds.step(buildId, p.index() + 1, p.layer());
                base = p.layer();
            }
            if (needsDir) {
                exec(envd.as("root"), "mkdir -p '" + last.workdir().replace("'", "'\\''") + "'", Map.of(), null, buildId, false);
                snapshot(node, me.sandbox, dirLayer);
            }
            if (checksStart) {
                logs.append(buildId, "info", "checking the start command and that the template becomes ready");
                try {
                    StartCommand.run(envd.as(result.user() != null ? result.user() : "user"), result, readyLimit, line -> logs.append(buildId, "info", line));
                } catch (RuntimeException e) {
                    if (me.cancelled) throw new Cancelled();
                    throw new BuildFailure("the template never became ready: " + e.getMessage());
                }
            }
        }
        if (dirLayer != null) base = dirLayer;
        if (me.cancelled) throw new Cancelled();
        String before = templates.byId(req.templateId()).map(Templates.TeamTemplate::nodeTemplate).orElse(null);
        templates.built(req.templateId(), node.id(), base, written, result);
        // sandboxes kept ready from the build it replaces would start the old files: drain them
        if (before != null && !before.equals(base)) node.drainPool(before);
        builds.step(buildId, total, base);
        logs.append(buildId, "info", "template layer " + base);
    }

    /** FROM an image: pulled on the node (layers once per node), its config's variables, directory and user as defaults. */
    private Templates.Resolved pull(String buildId, NodeClient node, String image, RegistryLogin login) {
        logs.append(buildId, "info", "pulling image " + image);
        long t0 = System.nanoTime();
        ImagePuller.Image img;
        try {
            img = node.pullImage(image, login == null ? null : login.username(), login == null ? null : login.password());
        } catch (Problem.Invalid e) {
            throw new BuildFailure("FROM " + image + ": not a template of this team, a built-in one, nor an image reference (" + e.getMessage() + ")");
        } catch (IOException | RuntimeException e) {
            throw new BuildFailure("FROM " + image + ": the pull failed: " + e.getMessage());
        }
        logs.append(buildId, "info", "pulled " + image + " (" + img.digest() + ") in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        Map<String, String> env = new LinkedHashMap<>();
        for (String kv : img.env()) {
            int eq = kv.indexOf('=');
            if (eq > 0) env.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        // an image's processes run as its user, root when it names none (it may have no 'user' account)
        return new Templates.Resolved(img.templateId(), image, null, null,
                new Templates.Defaults(env, img.workdir(), img.user() != null ? img.user() : "root", null, null));
    }

    /** A build sandbox from the template built on: the build's sizes, internet, root by default (as Docker's RUN). */
    private Envd startSandbox(String buildId, Request req, NodeClient node, String template, Running me) {
        String id = "bldsbx" + Ids.id(14);
        String token = Ids.hex(16);
        buildSandboxes.add(id);
        me.sandbox = id;
        try {
            node.create(new NewSandbox(id, template, req.vcpus(), req.memoryMb(), Math.max(req.diskMb(), 1024), 4096, true, Map.of(),
                    Map.of("cella.build", buildId), Duration.ofHours(2).toSeconds(), "kill", false, token, "root", null, null));
        } catch (IOException e) {
            throw new BuildFailure("the build sandbox did not start: " + e.getMessage());
        }
        if (me.cancelled) throw new Cancelled();
        return new Envd(node.route(id, EnvdRuntime.PORT).orElseThrow(), token);
    }

    private static long snapshot(NodeClient node, String sandbox, String layer) {
        try {
            return node.snapshot(sandbox, layer);
        } catch (IOException e) {
            throw new BuildFailure("saving the step's layer failed: " + e.getMessage());
        }
    }

    /** Sends the context's tar into the build sandbox and copies its {@code src} to {@code dest} there, as root. */
    private void copy(String buildId, Envd envd, BuildPlan.Planned p, BuildSpec.Copy c, String teamId, int total) {
        logs.append(buildId, "info", "step " + (p.index() + 1) + "/" + total + ": " + p.describe());
        String tar = "/tmp/.cella-copy-" + c.filesHash() + ".tar", tmp = "/tmp/.cella-copy-" + c.filesHash();
        Path file = files.path(teamId, c.filesHash());
        envd.as("root").write(tar, () -> {
            try {
                return Files.newInputStream(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        String dest = c.dest().startsWith("/") || p.state().workdir() == null ? c.dest() : p.state().workdir() + "/" + c.dest();
        String src = c.src().replaceAll("^\\./", "").replaceAll("/+$", "");
        String script = "set -e; rm -rf " + q(tmp) + "; mkdir -p " + q(tmp) + "; tar -xf " + q(tar) + " -C " + q(tmp) + "; s=" + q(tmp + "/" + src)
                + "; d=" + q(dest) + "; if [ -d \"$s\" ]; then mkdir -p \"$d\"; cp -a \"$s\"/. \"$d\"/; t=\"$d\";"
                + " elif [ \"${d%/}\" != \"$d\" ] || [ -d \"$d\" ]; then mkdir -p \"$d\"; cp -a \"$s\" \"$d\"/; t=\"${d%/}/$(basename \"$s\")\";"
                + " else mkdir -p \"$(dirname \"$d\")\"; cp -a \"$s\" \"$d\"; t=\"$d\"; fi;"
                + (c.user() != null && !c.user().isBlank() ? " chown -R " + q(c.user()) + " \"$t\";" : "")
                + (c.mode() != null && !c.mode().isBlank() ? " chmod -R " + q(c.mode()) + " \"$t\";" : "")
                + " rm -rf " + q(tmp) + " " + q(tar);
        int code = exec(envd.as("root"), script, Map.of(), null, buildId, true);
        if (code != 0) throw new BuildFailure("step " + (p.index() + 1) + "/" + total + " (" + p.describe() + ") failed with exit code " + code);
    }

    private static String q(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private void runStep(String buildId, Envd envd, BuildPlan.Planned p, int total) {
        BuildSpec.Run r = (BuildSpec.Run) p.step();
        String workdir = r.workdir() != null ? r.workdir() : p.state().workdir();
        String user = r.user() != null ? r.user() : p.state().user() != null ? p.state().user() : "root";
        logs.append(buildId, "info", "step " + (p.index() + 1) + "/" + total + ": " + p.describe());
        if (workdir != null) exec(envd.as("root"), "mkdir -p '" + workdir.replace("'", "'\\''") + "'", Map.of(), null, buildId, false);
        int code = exec(envd.as(user), r.cmd(), p.state().env(), workdir, buildId, true);
        if (code != 0) {
            throw new BuildFailure("step " + (p.index() + 1) + "/" + total + " (RUN " + r.cmd() + ") failed with exit code " + code);
        }
    }

    /** Runs a shell command in the build sandbox, its output into the build's log; returns its exit code. */
    private int exec(Envd envd, String cmd, Map<String, String> env, String workdir, String buildId, boolean logOutput) {
        int[] exit = {-1};
        StringBuilder pending = new StringBuilder();
        try (Envd.Stream s = envd.start(new Envd.Command("/bin/sh", List.of("-c", cmd), env, workdir, null), null, null, STEP_LIMIT)) {
            s.follow(new Envd.Events() {
                @Override public void started(int pid) {}

                @Override
                public void output(String stream, byte[] data) {
                    if (!logOutput) return;
                    pending.append(new String(data, StandardCharsets.UTF_8));
                    int nl;
                    while ((nl = pending.indexOf("\n")) >= 0) {
                        logs.append(buildId, stream.equals("stderr") ? "warn" : "info", pending.substring(0, nl));
                        pending.delete(0, nl + 1);
                    }
                }

                @Override
                public void ended(int exitCode, String error) {
                    exit[0] = exitCode;
                    if (error != null) logs.append(buildId, "error", error);
                }
            });
        }
        if (logOutput && !pending.isEmpty()) logs.append(buildId, "info", pending.toString());
        return exit[0];
    }

    private void killSandbox(Running r) {
        if (r == null || r.sandbox == null || r.node == null) return;
        String id = r.sandbox;
        try {
            r.node.kill(id);
        } catch (Exception e) {
            log.debug("build sandbox {} gone: {}", id, e.toString());
        } finally {
            buildSandboxes.remove(id);
        }
    }

    @Override
    public void close() {
        for (String id : List.copyOf(running.keySet())) cancel(id);
    }

}
