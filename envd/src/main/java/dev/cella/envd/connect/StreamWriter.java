package dev.cella.envd.connect;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes one server-stream response as Connect envelopes: a flag byte, a 4-byte
 * big-endian length, then the JSON message; the stream ends with flag 0x02.
 *
 * <p>Several threads write to one stream (stdout and stderr readers, the keepalive
 * loop), so every envelope is written and flushed under a lock. A write to a client
 * that went away fails once and the writer is then dead: callers check {@link #isOpen}.
 */
public final class StreamWriter {
    private static final int FLAG_END = 0x02;

    private final OutputStream out;
    private final ObjectMapper json;
    private boolean open = true;

    public StreamWriter(OutputStream out, ObjectMapper json) {
        this.out = out;
        this.json = json;
    }

    public synchronized boolean isOpen() {
        return open;
    }

    /** Sends one message; returns false (and closes) when the client is gone. */
    public synchronized boolean send(ObjectNode message) {
        return write(0, message);
    }

    /** Sends the end-of-stream envelope, with an error when {@code error} is non-null. */
    public synchronized void end(ConnectException error) {
        ObjectNode trailer = json.createObjectNode();
        if (error != null) {
            trailer.putObject("error").put("code", error.code.wire).put("message", error.getMessage());
        }
        write(FLAG_END, trailer);
        open = false;
    }

    private boolean write(int flag, ObjectNode message) {
        if (!open) return false;
        try {
            byte[] body = json.writeValueAsBytes(message);
            byte[] head = {(byte) flag, (byte) (body.length >>> 24), (byte) (body.length >>> 16),
                    (byte) (body.length >>> 8), (byte) body.length};
            out.write(head);
            out.write(body);
            out.flush();
            return true;
        } catch (IOException e) {
            open = false;
            return false;
        }
    }
}
