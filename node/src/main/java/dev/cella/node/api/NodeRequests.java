package dev.cella.node.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.problem.Problem;
import dev.cella.node.sandbox.Sandboxes;

import java.io.IOException;
import java.time.Duration;

/**
 * The node API's small requests, each a record both ends bind (the create is
 * {@link NewSandbox}, a snapshot {@link SnapshotTaken.Request}), and the one way the node
 * reads any of them. Each record checks what it was sent and says which field is wrong.
 */
public final class NodeRequests {
    private NodeRequests() {}

    /**
     * A request's body as {@code type}. A field of the wrong type is a {@link Problem.Invalid}
     * that names the field; fields the record does not know are passed over, so a newer
     * server may send more than this node reads.
     */
    public static <T> T read(JsonNode body, ObjectMapper json, Class<T> type, String what) {
        try {
            return json.readerFor(type).without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(body);
        } catch (JsonMappingException e) {
            String field = e.getPath().isEmpty() ? null : e.getPath().getFirst().getFieldName();
            throw new Problem.Invalid(field != null ? field + " has the wrong type" : "not " + what + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new Problem.Invalid("not " + what + ": " + e.getMessage());
        }
    }

    /** {@code PUT /v1/pool/{templateId}}: the pool's size, or null for the node's default. */
    public record PoolSize(Integer size) {
        public static final int MAX = 1000;

        /** The size asked for (null: the default), or {@link Problem.Invalid}. */
        public Integer checked() {
            if (size != null && (size < 0 || size > MAX)) {
                throw new Problem.Invalid("size must be a whole number from 0 to " + MAX + ", or null");
            }
            return size;
        }
    }

    /**
     * {@code POST /v1/sandboxes/{id}/timeout} (required) and {@code .../resume} (optional):
     * how long the sandbox may live from now.
     */
    public record NewTimeout(Long timeoutSeconds) {
        public static NewTimeout of(Duration d) {
            return new NewTimeout(d == null ? null : d.toSeconds());
        }

        /** The timeout, at most {@link Sandboxes#MAX_TIMEOUT}; null when none was sent and none is required. */
        public Duration checked(boolean required) {
            if (timeoutSeconds == null) {
                if (required) throw new Problem.Invalid("timeoutSeconds is required");
                return null;
            }
            return Sandboxes.timeout("timeoutSeconds", timeoutSeconds);
        }
    }

    /** {@code POST /v1/images}: an image to pull into the node's template store, with the registry's login if it needs one. */
    public record ImagePull(String reference, String username, String password) {
        /** Never the password: a request may be logged. */
        @Override
        public String toString() {
            return "ImagePull[reference=" + reference + ", username=" + username + (password == null ? "]" : ", password=***]");
        }

        public String checkedReference() {
            if (reference == null || reference.isBlank()) throw new Problem.Invalid("reference is required");
            return reference;
        }
    }
}
