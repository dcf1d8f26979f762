package dev.cella.server;

import dev.cella.node.proxy.SandboxProxy;
import dev.cella.node.sys.Periodic;
import dev.cella.server.api.ApiServer;
import dev.cella.server.api.E2bApi;
import dev.cella.server.api.template.TemplateRoutes;
import dev.cella.server.api.v1.AccountRoutes;
import dev.cella.server.api.v1.CapsuleRoutes;
import dev.cella.server.api.v1.FileRoutes;
import dev.cella.server.api.v1.OAuthRoutes;
import dev.cella.server.api.v1.ProcessSockets;
import dev.cella.server.api.v1.SnapshotRoutes;
import dev.cella.server.api.v1.TeamRoutes;
import dev.cella.server.api.v1.V1Api;
import dev.cella.server.auth.ApiKeys;
import dev.cella.server.auth.GithubOAuth;
import dev.cella.server.auth.Team;
import dev.cella.server.auth.Tokens;
import dev.cella.server.auth.Users;
import dev.cella.server.db.Database;
import dev.cella.server.db.Jdbc;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.proxy.ServerRoutes;
import dev.cella.server.sandbox.Reconciler;
import dev.cella.server.sandbox.SandboxRepository;
import dev.cella.server.sandbox.SandboxService;
import dev.cella.server.sandbox.TeamUsage;
import dev.cella.server.team.Teams;
import dev.cella.server.template.BuildLogs;
import dev.cella.server.template.Builder;
import dev.cella.server.template.Builds;
import dev.cella.server.template.TemplateFiles;
import dev.cella.server.template.Templates;
import io.javalin.Javalin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * The control plane, wired by hand, here: the database, teams and keys, sandboxes on the
 * fleet's nodes, the E2B API on PORT and the sandbox traffic proxy on PORT+1, and the
 * reconciler. {@code cella up} gives it a node in its own process, {@code cella server}
 * remote ones; nothing else differs.
 */
final class Server implements AutoCloseable {

    private final Database db;
    private final Javalin app;
    final E2bApi e2b;
    final V1Api v1;
    private final Periodic sampler;
    private final ProcessSockets sockets;
    private final Builder builder;
    private final SandboxProxy proxy;
    private final Periodic reconciler;
    private final String firstKey;
    final String host;
    final Path data;

    Server(ServerSettings o, Fleet fleet) throws IOException {
        data = o.dataDir();
        Files.createDirectories(data);
        int port = o.port();
        host = o.host();
        db = o.dbUrl() != null ? Database.postgres(o.dbUrl(), o.dbUser(), o.dbPassword())
                : Database.sqlite(data.resolve("cella.db"));
        Jdbc jdbc = new Jdbc(db.dataSource());
        ApiKeys keys = new ApiKeys(jdbc);
        String key = null;
        if (!keys.anyTeam()) {
            Team admin = Teams.team(new Teams(jdbc).create("admin", null));
            key = keys.createKey(admin, "first key");
        }
        firstKey = key;
        SandboxRepository repo = new SandboxRepository(jdbc);
        SandboxService sandboxes = new SandboxService(repo, fleet, o.quota());
        // at the start no build runs: a build sandbox of a server before this one is nobody's
        new Reconciler(repo, fleet, id -> false).run();
        int rate = o.rateLimit();
        Teams teams = new Teams(jdbc);
        Users users = new Users(jdbc);
        Tokens tokens = new Tokens(jdbc, Clock.systemUTC());
        Templates templates = new Templates(jdbc, fleet);
        TeamUsage usage = new TeamUsage(jdbc, repo);
        sampler = Periodic.every(TeamUsage.INTERVAL, "usage-sampler", () -> usage.sample(System.currentTimeMillis()));
        Builds builds = new Builds(jdbc);
        BuildLogs buildLogs = new BuildLogs(jdbc);
        TemplateFiles templateFiles = new TemplateFiles(data.resolve("template-files"));
        builder = new Builder(templates, builds, buildLogs, fleet, templateFiles, o.concurrentBuilds(), o.readyTimeout());
        Reconciler reconcile = new Reconciler(repo, fleet, builder::isBuildSandbox);
        reconciler = Periodic.every(Duration.ofSeconds(30), "server-reconciler", () -> {
            fleet.refresh();
            reconcile.run();
        });
        sandboxes.onSpawn(templates::spawned);
        e2b = new E2bApi(keys, sandboxes, templates,
                new TemplateRoutes(templates, builder, builds, buildLogs, templateFiles, tokens.derivedKey("template-files")), rate, o.domain());
        CapsuleRoutes capsules = new CapsuleRoutes(sandboxes, templates, usage);
        sockets = new ProcessSockets(sandboxes, o.ptyIdle());
        SnapshotRoutes snapshots = new SnapshotRoutes(sandboxes, templates, fleet);
        AccountRoutes accounts = new AccountRoutes(jdbc, users, teams, tokens, keys);
        ServerSettings.Github gh = o.github();
        GithubOAuth github = gh == null ? null : new GithubOAuth(gh.clientId(), gh.clientSecret(), gh.url(), gh.apiUrl());
        Supplier<String> publicUrl = () -> o.publicUrl() != null ? o.publicUrl() : "http://" + host + ":" + apiPort();
        v1 = new V1Api(keys, tokens, teams, rate, List.of(
                accounts,
                new OAuthRoutes(github, publicUrl, o.frontendUrl(), tokens.derivedKey("oauth-state"), users, teams, accounts),
                new TeamRoutes(teams, users, t -> {
                    keys.forgetTeam(t.id()); // its keys stop working now, not when the key cache expires
                    sandboxes.destroyAll(Teams.team(t));
                    snapshots.deleteAll(t.id());
                }),
                snapshots,
                capsules,
                new FileRoutes(capsules, o.maxUploadBytes(), data.resolve("tmp/uploads")),
                sockets));
        app = ApiServer.start(host, port, List.of(e2b, v1));
        proxy = new SandboxProxy(new ServerRoutes(repo, fleet)).start(host, port == 0 ? 0 : port + 1);
    }

    int apiPort() { return app.port(); }

    int proxyPort() { return proxy.port(); }

    /** Prints how to use it: the three exports and an example, each on its own line. */
    void printWelcome() {
        System.out.println("Cella is up. In another shell:");
        System.out.println("export E2B_API_URL=http://" + host + ":" + apiPort());
        System.out.println("export E2B_SANDBOX_URL=http://" + host + ":" + proxyPort());
        System.out.println("export E2B_API_KEY=" + (firstKey != null ? firstKey : "<the key printed at the first start of " + data + ">"));
        System.out.println("node -e \"const {Sandbox} = require('e2b');");
        System.out.println("  Sandbox.create().then(async s => { console.log((await s.commands.run('echo hello from $(hostname)')).stdout);");
        System.out.println("  await s.kill(); });\"");
        System.out.flush();
    }

    @Override
    public void close() {
        reconciler.close();
        sampler.close();
        sockets.close();
        builder.close();
        app.stop();
        proxy.stop();
        db.close();
    }
}
