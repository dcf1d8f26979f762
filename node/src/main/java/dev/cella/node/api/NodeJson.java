package dev.cella.node.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The node API's JSON, for both of its ends: the node writes its answers and reads its
 * requests with {@link #node()}, a server with {@link #server()}. The messages are records
 * of this package ({@link NewSandbox}, {@link NodeSandbox}, {@link NodeReport},
 * {@link NodeTemplate}, {@link SnapshotTaken}, {@link SandboxMetrics}); instants are ISO-8601.
 */
public final class NodeJson {
    private NodeJson() {}

    /** The node's side. */
    public static ObjectMapper node() {
        return new ObjectMapper().registerModule(new JavaTimeModule()).disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    }

    /** A server's side: a field it does not know (a newer node's) is passed over, so nodes can be upgraded one at a time. */
    public static ObjectMapper server() {
        return node().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }
}
