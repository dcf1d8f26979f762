package dev.cella.server;

import dev.cella.node.cli.Options;
import dev.cella.server.sandbox.TeamQuota;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * How a server runs, every default in one place: read from the command line of
 * {@code cella up} and {@code cella server} by {@link #from}.
 *
 * @param dataDir          --data-dir (/var/lib/cella): the SQLite database, template files, uploads
 * @param host             --host (127.0.0.1)
 * @param port             --port (3000; 0: any free one): the API; the sandbox proxy listens on the next port
 * @param dbUrl            --db-url (none: SQLite under the data directory), with --db-user and --db-password
 * @param domain           --domain: sandbox host names PORT-ID.DOMAIN
 * @param rateLimit        --rate-limit (200): requests per second per team
 * @param maxUploadBytes   --max-upload-mb (10240): the native API's streaming upload limit
 * @param ptyIdle          --pty-idle-seconds (120)
 * @param concurrentBuilds --concurrent-builds (2)
 * @param readyTimeout     --ready-timeout-seconds (120): a template's ready command's limit
 * @param github           --github-client-id with --github-client-secret (or CELLA_GITHUB_CLIENT_SECRET),
 *                         --github-url, --github-api-url; null when sign-in with GitHub is off
 * @param publicUrl        --public-url: where browsers reach the API (null: http://HOST:PORT)
 * @param frontendUrl      --frontend-url: where sign-in sends the browser back to
 * @param quota            --team-max-sandboxes (200), --team-max-vcpus (400), --team-max-memory-mb (409600): what one team may run at once
 */
public record ServerSettings(Path dataDir, String host, int port, String dbUrl, String dbUser, String dbPassword, String domain,
                             int rateLimit, long maxUploadBytes, Duration ptyIdle, int concurrentBuilds, Duration readyTimeout,
                             Github github, String publicUrl, String frontendUrl, TeamQuota quota) {

    /** The options every server takes. */
    public static final Set<String> OPTIONS = Set.of("data-dir", "port", "host", "db-url", "db-user", "db-password", "domain",
            "rate-limit", "max-upload-mb", "pty-idle-seconds", "github-client-id", "github-client-secret", "github-url",
            "github-api-url", "public-url", "frontend-url", "concurrent-builds", "ready-timeout-seconds",
            "team-max-sandboxes", "team-max-vcpus", "team-max-memory-mb");

    /** A GitHub OAuth app (or a server speaking its protocol, in tests). */
    public record Github(String clientId, String clientSecret, String url, String apiUrl) {}

    public static ServerSettings from(Options o) {
        String githubId = o.get("github-client-id", null);
        String githubSecret = o.get("github-client-secret", System.getenv("CELLA_GITHUB_CLIENT_SECRET"));
        if (githubId != null && githubSecret == null) {
            throw o.invalid("--github-client-id needs its secret: --github-client-secret or CELLA_GITHUB_CLIENT_SECRET");
        }
        return new ServerSettings(o.path("data-dir", Path.of("/var/lib/cella")), o.get("host", "127.0.0.1"),
                o.integer("port", 3000, 0, 65534), o.get("db-url", null), o.get("db-user", null), o.get("db-password", null),
                o.get("domain", null), o.integer("rate-limit", 200, 1, 1_000_000),
                (long) o.integer("max-upload-mb", 10240, 1, 1 << 20) << 20,
                Duration.ofSeconds(o.integer("pty-idle-seconds", 120, 1, 86_400)), o.integer("concurrent-builds", 2, 1, 64),
                Duration.ofSeconds(o.integer("ready-timeout-seconds", 120, 1, 86_400)),
                githubId == null ? null : new Github(githubId, githubSecret, o.get("github-url", "https://github.com"),
                        o.get("github-api-url", "https://api.github.com")),
                o.get("public-url", null), o.get("frontend-url", null),
                new TeamQuota(o.integer("team-max-sandboxes", TeamQuota.DEFAULT.sandboxes(), 1, 1_000_000),
                        o.integer("team-max-vcpus", TeamQuota.DEFAULT.vcpus(), 1, 10_000_000),
                        o.integer("team-max-memory-mb", (int) TeamQuota.DEFAULT.memoryMb(), 128, Integer.MAX_VALUE)));
    }
}
