package dev.cella.server.api.v1;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cella.node.sandbox.SandboxState;
import dev.cella.server.Ids;
import dev.cella.server.api.ApiError;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.sandbox.SandboxService;
import dev.cella.server.sandbox.SandboxService.View;
import dev.cella.server.template.Templates;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Snapshots (the Wrenn API): a template made from a capsule's files, which new capsules of
 * the team start from. As the Wrenn API describes it, the capsule is paused for the copy and
 * destroyed after. On its node the template is a layer over the capsule's own template,
 * so it costs what the capsule wrote.
 */
public final class SnapshotRoutes implements Consumer<V1Api> {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}");

    private final SandboxService sandboxes;
    private final Templates templates;
    private final Fleet fleet;

    public SnapshotRoutes(SandboxService sandboxes, Templates templates, Fleet fleet) {
        this.sandboxes = sandboxes;
        this.templates = templates;
        this.fleet = fleet;
    }

    @Override
    public void accept(V1Api api) {
        api.route(HandlerType.POST, "/v1/snapshots", V1Api.Access.TEAM, this::create);
        api.route(HandlerType.GET, "/v1/snapshots", V1Api.Access.TEAM, this::list);
        api.route(HandlerType.DELETE, "/v1/snapshots/{name}", V1Api.Access.TEAM, ctx -> {
            String name = ctx.pathParam("name");
            if (isBuiltIn(name)) throw ApiError.forbidden("template " + name + " is built in and cannot be deleted");
            Templates.TeamTemplate t = templates.byName(V1Api.caller(ctx).team().id(), name)
                    .orElseThrow(() -> ApiError.notFound("template not found"));
            delete(t);
            ctx.status(204);
        });
    }

    private boolean isBuiltIn(String name) {
        return name.equals(Templates.MINIMAL) || templates.builtIn().contains(name);
    }

    private void delete(Templates.TeamTemplate t) throws IOException {
        // a snapshot's files are its own; a build's layers are a cache other templates of the same steps share
        if (t.nodeTemplate() != null && t.nodeTemplate().startsWith(Templates.SNAPSHOT_PREFIX)) fleet.node(t.nodeId()).deleteTemplate(t.nodeTemplate());
        templates.delete(t.id());
    }

    /** Deletes every template of a team (the team was deleted). */
    public void deleteAll(String teamId) {
        for (Templates.TeamTemplate t : templates.ofTeam(teamId)) {
            try {
                delete(t);
            } catch (IOException | RuntimeException e) {
                templates.delete(t.id()); // its node's files are removed when the node is reachable again: it no longer names it
            }
        }
    }

    private void create(Context ctx) throws IOException {
        JsonNode b = V1Api.body(ctx);
        String sandboxId = V1Api.text(b, "sandbox_id", true);
        String name = V1Api.text(b, "name", false);
        if (name == null || name.isBlank()) name = "template-" + Ids.hex(4);
        if (!NAME.matcher(name).matches()) {
            throw ApiError.badRequest("a template name is 1 to 64 letters, digits, '.', '_' or '-', beginning with a letter or digit");
        }
        boolean overwrite = "true".equals(ctx.queryParam("overwrite"));
        Caller c = V1Api.caller(ctx);
        if (isBuiltIn(name)) throw new ApiError(409, "name_reserved", "template name '" + name + "' is reserved");
        View v = sandboxes.getOrMissing(c.team(), sandboxId).orElseThrow(() -> ApiError.notFound("capsule " + sandboxId + " not found"));
        if (v.live() == null || v.live().state() == SandboxState.HIBERNATED) {
            throw new ApiError(409, "invalid_state", "sandbox is not running (status: " + v.status() + ")");
        }
        var existing = templates.byName(c.team().id(), name);
        if (existing.isPresent()) {
            if (!overwrite) throw new ApiError(409, "template_name_taken", "a template named '" + name + "' exists: use overwrite=true to replace it");
            delete(existing.get());
        }
        String id = Templates.SNAPSHOT_PREFIX + Ids.id(20);
        if (v.live().state() == SandboxState.RUNNING) sandboxes.pause(c.team(), sandboxId);
        var node = fleet.node(v.row().nodeId());
        long size = node.snapshot(sandboxId, id);
        Templates.TeamTemplate t = Templates.TeamTemplate.snapshot(id, c.team().id(), name, node.id(), v.row().vcpus(),
                v.row().memoryMb(), size, System.currentTimeMillis());
        templates.insert(t);
        sandboxes.kill(c.team(), sandboxId);
        V1Api.json(ctx, 201, template(t));
    }

    private void list(Context ctx) {
        String type = ctx.queryParam("type");
        if (type != null && !type.equals("base") && !type.equals("snapshot")) throw ApiError.badRequest("type must be base or snapshot");
        List<Map<String, Object>> out = new ArrayList<>();
        if (type == null || type.equals("base")) {
            for (String name : templates.builtIn()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", name);
                m.put("type", "base");
                m.put("vcpus", null);
                m.put("memory_mb", null);
                m.put("size_bytes", 0);
                m.put("created_at", V1Api.iso(STARTED));
                out.add(m);
            }
        }
        if (type == null || type.equals("snapshot")) {
            for (Templates.TeamTemplate t : templates.ofTeam(V1Api.caller(ctx).team().id())) out.add(template(t));
        }
        V1Api.json(ctx, 200, out);
    }

    private static final long STARTED = System.currentTimeMillis();

    /** The Wrenn API's Template. */
    static Map<String, Object> template(Templates.TeamTemplate t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", t.name());
        m.put("type", t.type().wrenn());
        m.put("vcpus", t.vcpus());
        m.put("memory_mb", t.memoryMb());
        m.put("size_bytes", t.sizeBytes());
        m.put("created_at", V1Api.iso(t.createdAt()));
        return m;
    }

}
