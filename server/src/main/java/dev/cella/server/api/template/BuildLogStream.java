package dev.cella.server.api.template;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.server.template.BuildLogs;
import dev.cella.server.template.Builds;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Superserve's live build log: {@code GET /templates/{id}/builds/{buildID}/logs} as
 * server-sent events, a {@code log} event per line as it comes, then one {@code status}
 * event when the build has ended.
 */
final class BuildLogStream {
    private static final ObjectMapper JSON = TemplateRoutes.JSON;
    /** No build runs longer: a stream left open by a client that never reads ends here. */
    static final Duration LIMIT = Duration.ofHours(2);

    private final Builds builds;
    private final BuildLogs logs;
    private final TemplateLookup lookup;

    BuildLogStream(Builds builds, BuildLogs logs, TemplateLookup lookup) {
        this.builds = builds;
        this.logs = logs;
        this.lookup = lookup;
    }

    void register(TemplateRoutes.Registrar r) {
        r.route(HandlerType.GET, "/templates/{id}/builds/{buildID}/logs", this::stream);
    }

    record LogEvent(String timestamp, String level, String message) {}

    record StatusEvent(String status, String error) {}

    private void stream(Context ctx) throws IOException, InterruptedException {
        Builds.Build b = lookup.build(ctx);
        ctx.status(200).contentType("text/event-stream").header("Cache-Control", "no-cache");
        OutputStream out = ctx.res().getOutputStream();
        int seq = 0;
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            List<BuildLogs.Line> lines = logs.read(b.id(), seq, 500);
            for (BuildLogs.Line l : lines) {
                LogEvent ev = new LogEvent(Instant.ofEpochMilli(l.at()).toString(), l.level(), l.text());
                out.write(("id: " + l.seq() + "\nevent: log\ndata: " + JSON.writeValueAsString(ev) + "\n\n").getBytes(StandardCharsets.UTF_8));
                seq = l.seq() + 1;
            }
            out.flush();
            Builds.Build now = builds.get(b.id()).orElseThrow();
            if (now.finished() && lines.isEmpty()) {
                StatusEvent status = new StatusEvent(now.status().superserve(), String.valueOf(now.error()));
                out.write(("event: status\ndata: " + JSON.writeValueAsString(status) + "\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                return;
            }
            if (lines.isEmpty()) Thread.sleep(200);
        }
    }
}
