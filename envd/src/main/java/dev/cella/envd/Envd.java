package dev.cella.envd;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.envd.connect.ConnectRouter;
import dev.cella.envd.files.FileTransfer;
import dev.cella.envd.fs.FileEntries;
import dev.cella.envd.fs.FilesystemService;
import dev.cella.envd.fs.Ownership;
import dev.cella.envd.http.EnvdHttp;
import dev.cella.envd.linux.Arch;
import dev.cella.envd.linux.LibC;
import dev.cella.envd.metrics.SandboxMetrics;
import dev.cella.envd.process.Launcher;
import dev.cella.envd.process.ProcessManager;
import dev.cella.envd.process.ProcessService;
import dev.cella.envd.user.UserResolver;
import dev.cella.envd.user.Users;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * envd: the daemon inside every sandbox. Wires its parts by hand, in one place.
 *
 * <pre>envd [--host 0.0.0.0] [--port 49983] [--default-user user] [--access-token T]</pre>
 */
public final class Envd {
    private static final Logger log = LoggerFactory.getLogger(Envd.class);

    /** The parsed command line. */
    public record Options(String host, int port, String defaultUser, String accessToken, Path etc) {
        public static Options parse(String[] args) {
            String host = "0.0.0.0", user = null, token = null;
            int port = 49983;
            Path etc = Path.of("/etc");
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String v = i + 1 < args.length ? args[i + 1] : null;
                switch (a) {
                    case "--host" -> { host = need(a, v); i++; }
                    case "--port" -> { port = Integer.parseInt(need(a, v)); i++; }
                    case "--default-user" -> { user = need(a, v); i++; }
                    case "--access-token" -> { token = need(a, v); i++; }
                    case "--etc" -> { etc = Path.of(need(a, v)); i++; }
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            return new Options(host, port, user, token, etc);
        }

        private static String need(String option, String value) {
            if (value == null) throw new IllegalArgumentException(option + " needs a value");
            return value;
        }
    }

    private final EnvdHttp http;

    public Envd(Options options) {
        ObjectMapper json = new ObjectMapper();
        Users users = new Users(options.etc());
        String defaultUser = options.defaultUser() != null ? options.defaultUser()
                : users.byName("user").isPresent() ? "user" : "root";
        EnvdState state = new EnvdState(defaultUser);
        state.accessToken(options.accessToken());
        Ownership ownership = new Ownership();

        UserResolver userResolver = new UserResolver(users, state);

        ConnectRouter router = new ConnectRouter(json);
        new ProcessService(new ProcessManager(), new Launcher(state), json).register(router);
        new FilesystemService(json, new FileEntries(json, users), ownership).register(router);

        FileTransfer files = new FileTransfer(json, state, ownership, userResolver);
        this.http = new EnvdHttp(json, state, users, userResolver, router, files, new SandboxMetrics());
    }

    public Envd start(String host, int port) throws IOException {
        http.start(host, port);
        return this;
    }

    public int port() { return http.port(); }

    public void stop() { http.stop(); }

    /** Links the libc downcalls and exercises JSON once, so the first real call is fast too. */
    static void warmUp() {
        try {
            long t0 = System.nanoTime();
            LibC.link();
            long t1 = System.nanoTime();
            ObjectMapper json = new ObjectMapper();
            json.readTree(json.writeValueAsBytes(Map.of("warm", List.of(1, "up"))));
            log.debug("warm-up: libc linked in {} ms, JSON in {} ms", (t1 - t0) / 1_000_000, (System.nanoTime() - t1) / 1_000_000);
        } catch (Exception | LinkageError e) {
            log.warn("warm-up failed (envd runs on, the first calls will be slower): {}", e.toString());
        }
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            Arch.current(); // refuses a machine whose syscall numbers envd does not know, before anything starts
            options = Options.parse(args);
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            System.err.println("envd: " + e.getMessage());
            System.exit(2);
            return;
        }
        Envd envd = new Envd(options).start(options.host(), options.port());
        // Listening first, then the costly first-time work, off the path to /health.
        Thread.ofVirtual().name("warm-up").start(Envd::warmUp);
        log.info("envd {} listening on {}:{}", EnvdHttp.VERSION, options.host(), envd.port());
    }
}
