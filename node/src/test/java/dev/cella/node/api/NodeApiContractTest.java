package dev.cella.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cella.node.metrics.MetricPoint;
import dev.cella.node.pool.WarmPool;
import dev.cella.node.problem.Problem;
import dev.cella.node.sandbox.SandboxState;
import dev.cella.node.sandbox.TimeoutAction;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The node API's messages cross the wire intact: what one end writes with its mapper
 * ({@link NodeJson}) the other reads back equal, under the field names both sides and the
 * docs use. No root: the records and mappers only (NodeApiTest drives the real API).
 */
@Tag("unit")
class NodeApiContractTest {
    static final ObjectMapper NODE = NodeJson.node(), SERVER = NodeJson.server();
    static final Instant T = Instant.parse("2026-12-02T09:00:00.123Z");

    static <T> T nodeToServer(T message, Class<T> type) throws Exception {
        return SERVER.readValue(NODE.writeValueAsString(message), type);
    }

    @Test
    void aSandboxAsTheNodeShowsItReachesTheServerWhole() throws Exception {
        var s = new NodeSandbox("sbx1", "poolabc", "base", SandboxState.PAUSED, "http://10.231.0.2:49983", T, T.plusSeconds(300),
                TimeoutAction.PAUSE, true, 2, 512, 2048, 1024, false, Map.of("owner", "tests"), "user", "/home/user");
        assertThat(nodeToServer(s, NodeSandbox.class)).isEqualTo(s);
        JsonNode wire = NODE.valueToTree(s);
        assertThat(wire.path("state").asText()).isEqualTo("paused");
        assertThat(wire.path("onTimeout").asText()).isEqualTo("pause");
        assertThat(wire.path("startedAt").asText()).isEqualTo("2026-12-02T09:00:00.123Z");
        assertThat(wire.toString()).doesNotContain("Token", "rootfs");
    }

    @Test
    void aCreateAsTheServerAsksItReachesTheNodeWhole() throws Exception {
        var n = new NewSandbox("sbx1", "base", 2, 512, 2048, 1024, true, Map.of("A", "1"), Map.of("k", "v"), 300L, "kill", false,
                "envd-token", "user", "traffic-token", "/work");
        assertThat(NewSandbox.from(NODE.readTree(SERVER.writeValueAsString(n)), NODE)).isEqualTo(n);
    }

    @Test
    void theNodesReportGivesTheSchedulerWhatItReads() throws Exception {
        var r = new NodeReport("node-1", "container", 3001, 2, 24_000, 20_000, 100_000, 80_000, new NodeReport.Counts(3, 1, 2),
                new NodeReport.Committed(6, 1536, 6144), Map.of("base", 4), new NodeReport.StartQueue(1, 0, 2));
        assertThat(nodeToServer(r, NodeReport.class)).isEqualTo(r);
        JsonNode wire = NODE.valueToTree(r);
        assertThat(wire.path("nodeId").asText()).isEqualTo("node-1");
        assertThat(wire.path("proxyPort").asInt()).isEqualTo(3001);
        assertThat(wire.path("sandboxes").path("running").asInt()).isEqualTo(3);
        assertThat(wire.path("committed").path("memoryMb").asInt()).isEqualTo(1536);
        assertThat(wire.path("starts").path("concurrent").asInt()).isEqualTo(2);

        var pool = new NodeReport.Pool(List.of(new WarmPool.TemplatePool("base", 4, 3, 1, 10, 2, 14, 1, 0, T)), r.starts());
        assertThat(nodeToServer(pool, NodeReport.Pool.class)).isEqualTo(pool);
    }

    @Test
    void aServerPassesOverWhatANewerNodeAdds() throws Exception {
        ObjectNode newer = NODE.valueToTree(new NodeTemplate("base", "/var/cache/cella/rootfs/base-1", true));
        newer.put("architecture", "aarch64");
        assertThat(SERVER.treeToValue(newer, NodeTemplate.class)).isEqualTo(new NodeTemplate("base", "/var/cache/cella/rootfs/base-1", true));
    }

    @Test
    void metricsSnapshotsAndTemplatesKeepTheirNames() throws Exception {
        var m = new SandboxMetrics("sbx1", "10m", List.of(new MetricPoint(1_764_666_000L, 12.5, 100_000_000L, 5_000_000L)));
        assertThat(nodeToServer(m, SandboxMetrics.class)).isEqualTo(m);
        assertThat(NODE.valueToTree(m).toString()).isEqualTo(
                "{\"sandbox_id\":\"sbx1\",\"range\":\"10m\",\"points\":[{\"timestamp_unix\":1764666000,\"cpu_pct\":12.5,\"mem_bytes\":100000000,\"disk_bytes\":5000000}]}");
        var snap = new SnapshotTaken("tplabc", 123_456L);
        assertThat(nodeToServer(snap, SnapshotTaken.class)).isEqualTo(snap);
        assertThat(SERVER.valueToTree(new SnapshotTaken.Request("tplabc")).toString()).isEqualTo("{\"templateId\":\"tplabc\"}");
        var t = new NodeTemplate("base", "/rootfs", true);
        assertThat(NODE.valueToTree(t).toString()).isEqualTo("{\"templateId\":\"base\",\"rootfs\":\"/rootfs\",\"builtIn\":true}");
    }

    @Test
    void theSmallRequestsAreRecordsBothEndsBind() throws Exception {
        for (Object request : List.of(new NodeRequests.PoolSize(3), new NodeRequests.PoolSize(null), NodeRequests.NewTimeout.of(Duration.ofMinutes(2)),
                NodeRequests.NewTimeout.of(null), new NodeRequests.ImagePull("registry.local/app:1", "u", "p"), new SnapshotTaken.Request("tpl1"))) {
            JsonNode wire = NODE.readTree(SERVER.writeValueAsString(request));
            assertThat(NodeRequests.read(wire, NODE, request.getClass(), "a request")).isEqualTo(request);
        }
        assertThat(SERVER.valueToTree(NodeRequests.NewTimeout.of(Duration.ofMinutes(2))).toString()).isEqualTo("{\"timeoutSeconds\":120}");
        assertThat(NodeRequests.NewTimeout.of(Duration.ofMinutes(2)).checked(true)).isEqualTo(Duration.ofMinutes(2));
        assertThat(NodeRequests.NewTimeout.of(null).checked(false)).isNull();
        assertThatThrownBy(() -> NodeRequests.NewTimeout.of(null).checked(true)).isInstanceOf(Problem.Invalid.class).hasMessage("timeoutSeconds is required");
        assertThatThrownBy(() -> new NodeRequests.NewTimeout(-1L).checked(false)).isInstanceOf(Problem.Invalid.class);
        assertThatThrownBy(() -> new NodeRequests.PoolSize(1001).checked()).isInstanceOf(Problem.Invalid.class);
        assertThat(new NodeRequests.PoolSize(0).checked()).isZero();
        assertThatThrownBy(() -> new NodeRequests.ImagePull(" ", null, null).checkedReference()).hasMessage("reference is required");
    }

    @Test
    void aFieldOfTheWrongTypeIsNamedAndWhatANewerServerAddsIsPassedOver() throws Exception {
        assertThatThrownBy(() -> NodeRequests.read(NODE.readTree("{\"size\":{\"n\":1}}"), NODE, NodeRequests.PoolSize.class, "a pool size"))
                .isInstanceOf(Problem.Invalid.class).hasMessage("size has the wrong type");
        assertThat(NodeRequests.read(NODE.readTree("{\"size\":2,\"priority\":\"low\"}"), NODE, NodeRequests.PoolSize.class, "a pool size"))
                .isEqualTo(new NodeRequests.PoolSize(2));
    }
}
