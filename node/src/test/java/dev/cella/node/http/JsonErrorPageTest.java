package dev.cella.node.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What Jetty answers before any route (a request line it cannot parse): the APIs' JSON
 * error, never Jetty's HTML page, and the connection closed after it so that a body
 * after a HEAD cannot be read as the next answer. Raw sockets: an HTTP client refuses
 * to send such paths.
 */
@Tag("unit")
class JsonErrorPageTest {
    static Javalin app;

    @BeforeAll
    static void start() {
        app = JsonHttp.start("127.0.0.1", 0, new ObjectMapper(), config -> config.routes.get("/health", ctx -> ctx.result("ok")));
    }

    @AfterAll
    static void stop() {
        app.stop();
    }

    static String exchange(String requests) throws IOException {
        try (Socket s = new Socket("127.0.0.1", app.port())) {
            s.setSoTimeout(3000);
            s.getOutputStream().write(requests.getBytes(StandardCharsets.US_ASCII));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0; ) out.write(buf, 0, n);
            } catch (SocketTimeoutException e) {
                // the server kept the connection open: the answer is what came so far
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void anUnparsablePathIsAJsonErrorAndTheConnectionCloses() throws Exception {
        for (String method : new String[] {"GET", "HEAD", "POST"}) {
            for (String path : new String[] {"/..", "/%", "/%zz"}) {
                // a second request on the same connection: it must not be answered after such an error
                String answer = exchange(method + " " + path + " HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(answer).as(method + " " + path).startsWith("HTTP/1.1 400 ").contains("Content-Type: application/json")
                        .containsIgnoringCase("Connection: close").doesNotContain("<html").doesNotContain("\r\n\r\nok");
                if (!method.equals("HEAD")) assertThat(answer).as(method + " " + path).endsWith("{\"code\":400,\"message\":\"Bad Request\"}");
            }
        }
        assertThat(exchange("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 200 ").endsWith("ok");
    }

    @Test
    void messagesAreEscapedForJson() {
        assertThat(JsonErrorPage.escape("a \"b\" \\ c\n")).isEqualTo("a \\\"b\\\" \\\\ c\\u000a");
    }
}
