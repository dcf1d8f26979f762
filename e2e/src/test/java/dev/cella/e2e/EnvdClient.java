package dev.cella.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;

/** Just enough of envd's protocol to run a command and read what it printed. */
final class EnvdClient {
    static final ObjectMapper JSON = new ObjectMapper();
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final String base;

    EnvdClient(String base) {
        this.base = base;
    }

    /** What a command printed (the first MiB of it), how much in all, and how it ended. */
    /** {@code output}: the first MiB of stdout, stderr and terminal output as they came; {@code stdout}: the first MiB of stdout alone. */
    record Result(String output, long bytes, int exitCode, JsonNode trailer, String stdout) {}

    /** Runs {@code /bin/sh -c script} (as the default user, or root) and collects stdout, stderr or terminal output. */
    Result run(String script, boolean pty, String user) throws Exception {
        var req = JSON.createObjectNode();
        var p = req.putObject("process");
        p.put("cmd", "/bin/sh");
        p.putArray("args").add("-c").add(script);
        if (pty) req.putObject("pty").putObject("size").put("cols", 80).put("rows", 24);
        byte[] body = JSON.writeValueAsBytes(req);
        byte[] env = ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(body.length).put(body).array();
        var b = HttpRequest.newBuilder(URI.create(base + "/process.Process/Start"))
                .header("Content-Type", "application/connect+json").POST(HttpRequest.BodyPublishers.ofByteArray(env));
        if (user != null) b.header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString((user + ":").getBytes()));
        HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        ByteArrayOutputStream out = new ByteArrayOutputStream(), stdout = new ByteArrayOutputStream();
        long bytes = 0;
        int exit = Integer.MIN_VALUE;
        JsonNode trailer = null;
        try (DataInputStream in = new DataInputStream(r.body())) {
            while (true) {
                int flags = in.readUnsignedByte();
                JsonNode m = JSON.readTree(in.readNBytes(in.readInt()));
                if ((flags & 2) != 0) { trailer = m; break; }
                JsonNode ev = m.path("event");
                for (String k : new String[] {"stdout", "stderr", "pty"}) {
                    if (ev.path("data").has(k)) {
                        byte[] chunk = ev.path("data").get(k).binaryValue();
                        bytes += chunk.length;
                        if (out.size() < (1 << 20)) out.write(chunk);
                        if (k.equals("stdout") && stdout.size() < (1 << 20)) stdout.write(chunk);
                    }
                }
                if (ev.has("end")) exit = ev.path("end").path("exitCode").asInt(0);
            }
        } catch (EOFException ignored) {
            // the stream ended
        }
        return new Result(out.toString(), bytes, exit, trailer, stdout.toString());
    }
}
