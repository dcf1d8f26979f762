package dev.cella.protocol.envd;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client's own parts that need no envd: envelopes, Start requests, requests' headers.
 * Its calls are tested against a real envd by envd's tests (EnvdFixture) and in real
 * sandboxes by the node's and e2e's. Needs no root.
 */
@Tag("unit")
class EnvdClientTest {
    final EnvdClient client = new EnvdClient(EnvdClient.newHttpClient(Duration.ofSeconds(1)), URI.create("http://10.0.0.2:49983/"));

    @Test
    void anEnvelopeIsFlagsLengthAndTheJson() {
        byte[] e = EnvdClient.envelope("{\"a\":1}");
        ByteBuffer b = ByteBuffer.wrap(e);
        assertThat(b.get()).isZero();
        assertThat(b.getInt()).isEqualTo(7);
        assertThat(new String(e, 5, 7, StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
    }

    @Test
    void aStartRequestIsWhatTheSdkSends() {
        var json = EnvdClient.Start.of("/bin/bash", "-l", "-c", "true").envs(Map.of("A", "1")).cwd("/tmp").tag("t").noStdin().json();
        assertThat(json.toString()).isEqualTo(
                "{\"process\":{\"cmd\":\"/bin/bash\",\"args\":[\"-l\",\"-c\",\"true\"],\"envs\":{\"A\":\"1\"},\"cwd\":\"/tmp\"},\"tag\":\"t\",\"stdin\":false}");
        assertThat(EnvdClient.Start.bash("echo").pty(80, 24).json().path("pty").path("size").path("cols").asInt()).isEqualTo(80);
    }

    @Test
    void requestsCarryTheTokenTheUserAndTheRouteHeaders() {
        var req = client.withAccessToken("tok").as("user").withHeaders(Map.of("E2b-Sandbox-Id", "sbx"))
                .request("/health", Duration.ofSeconds(1)).GET().build();
        assertThat(req.uri()).isEqualTo(URI.create("http://10.0.0.2:49983/health"));
        assertThat(req.headers().firstValue("X-Access-Token")).hasValue("tok");
        assertThat(req.headers().firstValue("E2b-Sandbox-Id")).hasValue("sbx");
        assertThat(req.headers().firstValue("Authorization"))
                .hasValue("Basic " + Base64.getEncoder().encodeToString("user:".getBytes(StandardCharsets.UTF_8)));
        var plain = client.request("/health", null).GET().build();
        assertThat(plain.headers().map()).doesNotContainKeys("X-Access-Token", "Authorization");
    }

    @Test
    void connectCodesMapToTheirHttpStatus() {
        assertThat(EnvdException.statusOf("not_found")).isEqualTo(404);
        assertThat(EnvdException.statusOf("invalid_argument")).isEqualTo(400);
        assertThat(EnvdException.statusOf("deadline_exceeded")).isEqualTo(504);
        assertThat(EnvdException.statusOf("something_new")).isEqualTo(500);
    }
}
