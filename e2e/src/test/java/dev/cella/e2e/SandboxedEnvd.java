package dev.cella.e2e;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * envd started exactly as {@code ./cella dev envd} starts it (scripts/envd-sandbox.sh):
 * in its own mount, pid, uts and ipc namespaces, over a throwaway layer on a root
 * filesystem, from the packaged runtime.
 */
final class SandboxedEnvd implements AutoCloseable {
    final int port;
    final String base;
    private final Process process;
    private final Path log;

    /**
     * A port free now, for an envd whose port does not matter: a fixed one inside the
     * kernel's ephemeral range was once held by an outgoing connection (BindException).
     */
    static int freePort() throws IOException {
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    SandboxedEnvd(Path rootfs, int port, boolean overlay) throws IOException, InterruptedException {
        this.port = port;
        this.base = "http://127.0.0.1:" + port;
        this.log = Files.createTempFile("envd-sandbox", ".log");
        List<String> cmd = new ArrayList<>(List.of(Repo.script("envd-sandbox.sh").toString(),
                "--root", rootfs.toString(), "--runtime", Repo.envdRuntime().toString(), "--port", Integer.toString(port)));
        if (overlay) cmd.add("--overlay");
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) throw new IllegalStateException("envd-sandbox exited: " + Files.readString(log));
            try {
                var r = http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 204) return;
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        close();
        throw new IllegalStateException("envd did not become healthy: " + Files.readString(log));
    }

    /** The pid of envd's JVM as the host sees it (the sandbox's pid 1). */
    Optional<Long> envdPid() {
        return process.descendants().filter(p -> p.info().commandLine().orElse("").contains("dev.cella.envd.Envd"))
                .map(ProcessHandle::pid).findFirst();
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() throws IOException {
        process.destroy(); // the script's trap ends the sandbox; --kill-child takes pid 1 with it
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(log);
    }
}
