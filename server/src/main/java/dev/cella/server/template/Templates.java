package dev.cella.server.template;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.problem.Problem;
import dev.cella.server.db.Jdbc;
import dev.cella.server.nodes.Fleet;

import java.io.IOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The templates a team can start capsules from: the nodes' built-in ones (type base; the
 * native API's default {@code minimal} is Cella's {@code base}) and the team's own
 * (snapshots), which only that team sees.
 */
public final class Templates {
    /** The native API's default template name, which is Cella's base. */
    public static final String MINIMAL = "minimal", BASE = "base";

    private final Jdbc db;
    private final Fleet fleet;

    public Templates(Jdbc db, Fleet fleet) {
        this.db = db;
        this.fleet = fleet;
    }

    /** A team's template as stored. */
    public record TeamTemplate(String id, String teamId, String name, TemplateType type, String nodeId, Integer vcpus, Integer memoryMb,
                               long sizeBytes, long createdAt, String nodeTemplate, TemplateStatus status, Defaults defaults, Integer diskMb) {
        /** A snapshot: ready at once, its node template its own id, no defaults of its own. */
        public static TeamTemplate snapshot(String id, String teamId, String name, String nodeId, Integer vcpus, Integer memoryMb,
                                            long sizeBytes, long createdAt) {
            return new TeamTemplate(id, teamId, name, TemplateType.SNAPSHOT, nodeId, vcpus, memoryMb, sizeBytes, createdAt, id, TemplateStatus.READY,
                    Defaults.NONE, null);
        }
    }

    /** What sandboxes of a template start with: variables, working directory, user, a start command and its ready check. */
    public record Defaults(Map<String, String> env, String workdir, String user, String startCmd, String readyCmd) {
        public static final Defaults NONE = new Defaults(Map.of(), null, null, null, null);

        public Defaults {
            env = Map.copyOf(env);
        }
    }

    /** What a name resolves to: the node's template id, the sizes a snapshot keeps, the defaults a build gave it. */
    public record Resolved(String templateId, String name, Integer vcpus, Integer memoryMb, Defaults defaults) {}

    public Resolved resolve(String teamId, String nameWithTag) {
        String name = nameWithTag.contains(":") ? nameWithTag.substring(0, nameWithTag.indexOf(':')) : nameWithTag; // E2B's name:tag
        String tag = nameWithTag.contains(":") ? nameWithTag.substring(nameWithTag.indexOf(':') + 1) : null;
        Optional<TeamTemplate> own = byName(teamId, name);
        if (own.isPresent() && tag != null && !tag.isEmpty()) {
            TeamTemplate t = own.get();
            String layer = taggedLayer(t.id(), tag).orElseThrow(() -> new Problem.NotFound("template '" + name + "' has no ready build tagged '" + tag + "'"));
            return new Resolved(layer, name, t.vcpus(), t.memoryMb(), t.defaults());
        }
        if (own.isPresent()) {
            TeamTemplate t = own.get();
            if (t.nodeTemplate() == null) {
                throw Problem.invalidState("template '" + name + "' has no finished build yet (status: " + t.status().db() + ")");
            }
            return new Resolved(t.nodeTemplate(), name, t.vcpus(), t.memoryMb(), t.defaults());
        }
        // another team's template that was made public
        Optional<TeamTemplate> shared = db.one("SELECT * FROM templates WHERE name = ? AND public = ? AND node_template IS NOT NULL ORDER BY created_at LIMIT 1",
                Templates::row, name, true);
        if (shared.isPresent()) {
            TeamTemplate t = shared.get();
            return new Resolved(t.nodeTemplate(), name, t.vcpus(), t.memoryMb(), t.defaults());
        }
        String builtIn = name.equals(MINIMAL) ? BASE : name;
        if (fleet.reachable().isEmpty()) throw new Problem.Unavailable("no node is reachable to start a sandbox on", null);
        // only what a node's operator gave it is everyone's: the rest on a node (snapshots, build
        // layers, pulled images) is a team's, reached through that team's rows above
        if (fleet.isBuiltIn(builtIn)) return new Resolved(builtIn, name, null, null, Defaults.NONE);
        throw new Problem.NotFound("template '" + name + "' not found");
    }

    /** Node-level ids of teams' templates begin so (snapshots, build layers); a pulled image's is {@code img-<digest>}. */
    public static final String SNAPSHOT_PREFIX = "tpl", LAYER_PREFIX = "lyr";

    public Optional<TeamTemplate> byName(String teamId, String name) {
        return db.one("SELECT * FROM templates WHERE team_id = ? AND name = ?", Templates::row, teamId, name);
    }

    public Optional<TeamTemplate> byId(String id) {
        return db.one("SELECT * FROM templates WHERE id = ?", Templates::row, id);
    }

    public List<TeamTemplate> ofTeam(String teamId) {
        return db.query("SELECT * FROM templates WHERE team_id = ? ORDER BY created_at, name", Templates::row, teamId);
    }

    /** The built-in templates of the nodes that answer (see {@link dev.cella.server.nodes.NodeClient#builtInTemplates}). */
    public List<String> builtIn() {
        return new ArrayList<>(fleet.builtInTemplates().stream().sorted().toList());
    }

    /**
     * How a sandbox's template is named to its team: a template of the team's (or a public
     * one) by its name, a built-in one by its id. Another team's private template of the
     * same files is never named.
     */
    public String nameOf(String teamId, String templateId) {
        if (fleet.isBuiltIn(templateId)) return templateId; // no SQL, no copy on the hot path (GET of a sandbox)
        return db.one("SELECT name FROM templates WHERE (team_id = ? OR public = ?) AND (node_template = ? OR id = ?)"
                        + " ORDER BY CASE WHEN team_id = ? THEN 0 ELSE 1 END, created_at LIMIT 1",
                rs -> rs.getString(1), teamId, true, templateId, templateId, teamId).orElse(templateId);
    }

    public void insert(TeamTemplate t) {
        db.update("INSERT INTO templates (id, team_id, name, type, node_id, vcpus, memory_mb, size_bytes, created_at, node_template, status,"
                        + " env, workdir, user_name, start_cmd, ready_cmd, disk_mb, updated_at, build_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                t.id(), t.teamId(), t.name(), t.type().db(), t.nodeId(), t.vcpus(), t.memoryMb(), t.sizeBytes(), t.createdAt(), t.nodeTemplate(),
                t.status().db(), json(t.defaults().env()), t.defaults().workdir(), t.defaults().user(), t.defaults().startCmd(),
                t.defaults().readyCmd(), t.diskMb(), t.createdAt(), t.nodeTemplate() != null ? 1 : 0);
    }

    /** A build finished well: the template now starts from its layer, with its defaults. */
    public void built(String id, String nodeId, String nodeTemplate, long sizeBytes, Defaults d) {
        db.update("UPDATE templates SET node_id = ?, node_template = ?, size_bytes = ?, status = 'ready', env = ?, workdir = ?, user_name = ?,"
                        + " start_cmd = ?, ready_cmd = ?, build_count = build_count + 1, updated_at = ? WHERE id = ?",
                nodeId, nodeTemplate, sizeBytes, json(d.env()), d.workdir(), d.user(), d.startCmd(), d.readyCmd(), System.currentTimeMillis(), id);
    }

    public void status(String id, TemplateStatus status) {
        db.update("UPDATE templates SET status = ?, updated_at = ? WHERE id = ?", status.db(), System.currentTimeMillis(), id);
    }

    public void spec(String id, String specJson, Integer vcpus, Integer memoryMb, Integer diskMb) {
        db.update("UPDATE templates SET spec = ?, vcpus = ?, memory_mb = ?, disk_mb = ?, updated_at = ? WHERE id = ?", specJson, vcpus, memoryMb,
                diskMb, System.currentTimeMillis(), id);
    }

    public Optional<String> specOf(String id) {
        return db.one("SELECT spec FROM templates WHERE id = ?", rs -> rs.getString(1), id).filter(s -> s != null && !s.isBlank());
    }

    /** The layer of the ready build a tag names. */
    public Optional<String> taggedLayer(String templateId, String tag) {
        return db.one("SELECT b.layer FROM template_tags t JOIN template_builds b ON b.id = t.build_id WHERE t.template_id = ? AND t.tag = ?"
                + " AND b.status = 'ready'", rs -> rs.getString(1), templateId, tag);
    }

    /** Points tags at a build (moving them when they named another). */
    public void tag(String templateId, String buildId, List<String> tags) {
        db.transaction(tx -> {
            for (String tag : tags) {
                tx.update("DELETE FROM template_tags WHERE template_id = ? AND tag = ?", templateId, tag);
                tx.update("INSERT INTO template_tags (template_id, tag, build_id, created_at) VALUES (?, ?, ?, ?)", templateId, tag, buildId,
                        System.currentTimeMillis());
            }
            return null;
        });
    }

    public void untag(String templateId, List<String> tags) {
        for (String tag : tags) db.update("DELETE FROM template_tags WHERE template_id = ? AND tag = ?", templateId, tag);
    }

    public record Tag(String tag, String buildId, long createdAt) {}

    public List<Tag> tags(String templateId) {
        return db.query("SELECT tag, build_id, created_at FROM template_tags WHERE template_id = ? ORDER BY tag", rs -> new Tag(rs.getString(1),
                rs.getString(2), rs.getLong(3)), templateId);
    }

    /** The last build that became ready. */
    public Optional<String> lastReadyBuild(String templateId) {
        return db.one("SELECT id FROM template_builds WHERE template_id = ? AND status = 'ready' ORDER BY finished_at DESC, id DESC LIMIT 1",
                rs -> rs.getString(1), templateId);
    }

    /** What a template's listing shows beyond its row's essentials. */
    public record Stats(boolean isPublic, int spawnCount, Long lastSpawnedAt, int buildCount, long updatedAt, String lastBuild) {}

    public Stats stats(String id) {
        String lastBuild = db.one("SELECT id FROM template_builds WHERE template_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
                rs -> rs.getString(1), id).orElse(null);
        return db.one("SELECT public, spawn_count, last_spawned_at, build_count, updated_at, created_at FROM templates WHERE id = ?", rs -> {
            long spawned = rs.getLong(3);
            Long last = rs.wasNull() ? null : spawned;
            long updated = rs.getLong(5);
            return new Stats(rs.getBoolean(1), rs.getInt(2), last, rs.getInt(4), rs.wasNull() ? rs.getLong(6) : updated, lastBuild);
        }, id).orElseThrow();
    }

    public void publicity(String id, boolean isPublic) {
        db.update("UPDATE templates SET public = ?, updated_at = ? WHERE id = ?", isPublic, System.currentTimeMillis(), id);
    }

    /** A sandbox was started from it. */
    public void spawned(String nodeTemplate) {
        db.update("UPDATE templates SET spawn_count = spawn_count + 1, last_spawned_at = ? WHERE node_template = ?", System.currentTimeMillis(), nodeTemplate);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    static String json(Map<String, String> m) {
        try {
            return JSON.writeValueAsString(m);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, String> env(String s) {
        try {
            return s == null ? Map.of() : JSON.readValue(s, new TypeReference<Map<String, String>>() {});
        } catch (IOException e) {
            return Map.of();
        }
    }

    public void delete(String id) {
        db.update("DELETE FROM templates WHERE id = ?", id);
    }

    private static TeamTemplate row(ResultSet rs) throws SQLException {
        int v = rs.getInt("vcpus");
        Integer vcpus = rs.wasNull() ? null : v;
        int m = rs.getInt("memory_mb");
        Integer memory = rs.wasNull() ? null : m;
        int d = rs.getInt("disk_mb");
        Integer disk = rs.wasNull() ? null : d;
        return new TeamTemplate(rs.getString("id"), rs.getString("team_id"), rs.getString("name"), TemplateType.of(rs.getString("type")),
                rs.getString("node_id"), vcpus, memory, rs.getLong("size_bytes"), rs.getLong("created_at"), rs.getString("node_template"),
                TemplateStatus.of(rs.getString("status")), new Defaults(env(rs.getString("env")), rs.getString("workdir"), rs.getString("user_name"),
                rs.getString("start_cmd"), rs.getString("ready_cmd")), disk);
    }
}
