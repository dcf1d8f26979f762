package dev.cella.node.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The proxy's HTTP forwarding against a local stand-in for a sandbox (no root, no crun):
 * bodies both ways byte for byte, streaming, the headers it passes and the ones it
 * drops, and its JSON answers when it cannot forward.
 */
@Tag("unit")
class HttpForwarderTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static HttpServer sandbox;
    static SandboxProxy proxy;
    static int closedPort;
    /** The last request's headers as the stand-in saw them, by request path. */
    static final Map<String, Headers> seen = new ConcurrentHashMap<>();
    static final AtomicInteger initCalls = new AtomicInteger();

    @BeforeAll
    static void start() throws IOException {
        sandbox = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        sandbox.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        sandbox.createContext("/echo", HttpForwarderTest::echo);
        sandbox.createContext("/stream", HttpForwarderTest::stream);
        sandbox.createContext("/init", ex -> { // as envd's: only its node may call it
            initCalls.incrementAndGet();
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        sandbox.createContext("/headers", ex -> {
            seen.put("/headers", ex.getRequestHeaders());
            ex.getResponseHeaders().add("X-From-Sandbox", "yes");
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        sandbox.start();
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        URI base = URI.create("http://127.0.0.1:" + sandbox.getAddress().getPort());
        proxy = new SandboxProxy(new SandboxRoutes() {
            @Override
            public Optional<Route> route(String sandboxId, int port) {
                return switch (sandboxId) {
                    case "sb1" -> Optional.of(new Route(base, Map.of("X-Route", "r1"), null));
                    case "gone" -> Optional.of(new Route(URI.create("http://127.0.0.1:" + closedPort), Map.of(), null));
                    default -> Optional.empty();
                };
            }

            @Override
            public Optional<String> signedBy(String path, String operation, String user, String signature, String expiration) {
                return Optional.empty();
            }
        }).start("127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        if (proxy != null) proxy.stop();
        if (sandbox != null) sandbox.stop(0);
    }

    /** Answers with the request body, its length and digest in headers. */
    static void echo(HttpExchange ex) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        ex.getResponseHeaders().add("X-Length", Integer.toString(body.length));
        ex.getResponseHeaders().add("X-Sha256", sha256(body));
        ex.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    /** A first piece, a pause, a second piece: no length, so chunked. */
    static void stream(HttpExchange ex) throws IOException {
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            out.write("first\n".getBytes());
            out.flush();
            sleep(1200);
            out.write("second\n".getBytes());
        }
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static HttpRequest.Builder to(String path, String sandboxId) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
                .header("E2b-Sandbox-Id", sandboxId).header("E2b-Sandbox-Port", "8080");
    }

    @Test
    void bodiesGoThroughByteForByteBothWays() throws Exception {
        byte[] body = new byte[24 * 1024 * 1024 + 17];
        new Random(7).nextBytes(body);
        HttpResponse<byte[]> r = CLIENT.send(to("/echo", "sb1").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Length")).contains(Integer.toString(body.length));
        assertThat(r.headers().firstValue("X-Sha256")).contains(sha256(body));
        assertThat(r.headers().firstValue("Content-Length")).as("the sandbox's length is kept").contains(Integer.toString(body.length));
        assertThat(sha256(r.body())).isEqualTo(sha256(body));
    }

    @Test
    void aStreamedAnswerArrivesPieceByPiece() throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<InputStream> r = CLIENT.send(to("/stream", "sb1").build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            byte[] first = new byte[6];
            int n = 0;
            while (n < first.length) n += in.read(first, n, first.length - n);
            long firstAt = System.nanoTime();
            String rest = new String(in.readAllBytes());
            long end = System.nanoTime();
            assertThat(new String(first)).isEqualTo("first\n");
            assertThat(rest).isEqualTo("second\n");
            assertThat((end - firstAt) / 1_000_000).as("the first piece came before the pause").isGreaterThan(800);
            assertThat((firstAt - t0) / 1_000_000).isLessThan(1000);
        }
    }

    @Test
    void headersNamingTheSandboxStayHereTheRoutesAndTheClientsGoOn() throws Exception {
        HttpResponse<String> r = CLIENT.send(to("/headers?x=1", "sb1").header("User-Agent", "agent/1")
                .header("X-Custom", "kept").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(204);
        assertThat(r.headers().firstValue("X-From-Sandbox")).contains("yes");
        var h = seen.get("/headers");
        assertThat(h.getFirst("X-Custom")).isEqualTo("kept");
        assertThat(h.get("User-Agent")).as("the client's, and no other").containsExactly("agent/1");
        assertThat(h.getFirst("X-Route")).isEqualTo("r1");
        assertThat(h.getFirst("X-Forwarded-For")).isEqualTo("127.0.0.1");
        assertThat(h.getFirst("Host")).isEqualTo("127.0.0.1:" + sandbox.getAddress().getPort());
        assertThat(h.containsKey("E2b-Sandbox-Id")).isFalse();
        assertThat(h.containsKey("E2b-Sandbox-Port")).isFalse();
        assertThat(h.containsKey("Accept-Encoding")).as("no compression asked for on the client's behalf").isFalse();
        assertThat(h.containsKey("Via")).isFalse();
    }

    @Test
    void whatCannotBeForwardedIsAnsweredInE2bsJson() throws Exception {
        HttpResponse<String> unnamed = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/echo")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unnamed.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(unnamed.body()).path("message").asText()).contains("E2b-Sandbox-Id");

        HttpResponse<String> unknown = CLIENT.send(to("/echo", "nosuch").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(unknown.statusCode()).isEqualTo(502);
        JsonNode u = JSON.readTree(unknown.body());
        assertThat(u.path("sandboxId").asText()).isEqualTo("nosuch");
        assertThat(u.path("code").asInt()).isEqualTo(502);

        HttpResponse<String> down = CLIENT.send(to("/echo", "gone").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(down.statusCode()).isEqualTo(502);
        assertThat(down.headers().firstValue("Content-Type")).contains("application/json");
        assertThat(JSON.readTree(down.body()).path("message").asText()).startsWith("the sandbox did not answer on port 8080");

        HttpResponse<String> init = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/init"))
                .header("E2b-Sandbox-Id", "sb1").POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(init.statusCode()).as("envd's internal route").isEqualTo(403);
    }

    /** envd decodes a path once and matches by prefix: every spelling of /init that reaches it there is refused here. */
    @Test
    void envdsInternalRouteIsOutOfReachHoweverItIsSpelt() throws Exception {
        for (String path : new String[] {"/init", "/%69nit", "/%69%6E%69%74", "/init/", "/init/x", "//init", "/./init", "/x/../init", "/%2e/init"}) {
            HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
                    .header("E2b-Sandbox-Id", "sb1").POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path).isIn(400, 403);
        }
        assertThat(initCalls).as("requests that reached the stand-in's /init").hasValue(0);
        assertThat(SandboxProxy.internalEnvdPath("/%zz")).as("does not decode").isTrue();
        assertThat(SandboxProxy.internalEnvdPath("/initialise")).isFalse();
        assertThat(SandboxProxy.internalEnvdPath("/files")).isFalse();
        assertThat(SandboxProxy.internalEnvdPath("/%2569nit")).as("decoded once by envd: /%69nit, no route").isFalse();
    }
}
