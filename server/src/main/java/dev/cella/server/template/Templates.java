package dev.cella.server.template;

import dev.cella.server.api.ApiError;
import dev.cella.server.db.Jdbc;
import dev.cella.server.nodes.Fleet;
import dev.cella.server.nodes.NodeUnavailable;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
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
    public record TeamTemplate(String id, String teamId, String name, String type, String nodeId, Integer vcpus, Integer memoryMb,
                               long sizeBytes, long createdAt) {}

    /** What a name resolves to: the node's template id, and the sizes a snapshot keeps. */
    public record Resolved(String templateId, String name, Integer vcpus, Integer memoryMb) {}

    public Resolved resolve(String teamId, String name) {
        Optional<TeamTemplate> own = byName(teamId, name);
        if (own.isPresent()) return new Resolved(own.get().id(), name, own.get().vcpus(), own.get().memoryMb());
        String builtIn = name.equals(MINIMAL) ? BASE : name;
        if (fleet.reachable().isEmpty()) throw new NodeUnavailable("no node is reachable to start a sandbox on", null);
        if (fleet.templates().contains(builtIn) && !builtIn.startsWith(SNAPSHOT_PREFIX)) return new Resolved(builtIn, name, null, null);
        throw ApiError.notFound("template '" + name + "' not found");
    }

    /** Node-level ids of teams' templates begin so; built-in ones never do. */
    public static final String SNAPSHOT_PREFIX = "tpl";

    public Optional<TeamTemplate> byName(String teamId, String name) {
        return db.one("SELECT * FROM templates WHERE team_id = ? AND name = ?", Templates::row, teamId, name);
    }

    public Optional<TeamTemplate> byId(String id) {
        return db.one("SELECT * FROM templates WHERE id = ?", Templates::row, id);
    }

    public List<TeamTemplate> ofTeam(String teamId) {
        return db.query("SELECT * FROM templates WHERE team_id = ? ORDER BY created_at, name", Templates::row, teamId);
    }

    /** The built-in templates of the nodes that answer. */
    public List<String> builtIn() {
        return new ArrayList<>(fleet.templates().stream().filter(t -> !t.startsWith(SNAPSHOT_PREFIX)).sorted().toList());
    }

    /** How a capsule's template is named to its team: a snapshot by its name, a built-in one by its id. */
    public String nameOf(String templateId) {
        if (!templateId.startsWith(SNAPSHOT_PREFIX)) return templateId;
        return byId(templateId).map(TeamTemplate::name).orElse(templateId);
    }

    public void insert(TeamTemplate t) {
        db.update("INSERT INTO templates (id, team_id, name, type, node_id, vcpus, memory_mb, size_bytes, created_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", t.id(), t.teamId(), t.name(), t.type(), t.nodeId(), t.vcpus(), t.memoryMb(),
                t.sizeBytes(), t.createdAt());
    }

    public void delete(String id) {
        db.update("DELETE FROM templates WHERE id = ?", id);
    }

    private static TeamTemplate row(ResultSet rs) throws SQLException {
        int v = rs.getInt("vcpus");
        Integer vcpus = rs.wasNull() ? null : v;
        int m = rs.getInt("memory_mb");
        Integer memory = rs.wasNull() ? null : m;
        return new TeamTemplate(rs.getString("id"), rs.getString("team_id"), rs.getString("name"), rs.getString("type"),
                rs.getString("node_id"), vcpus, memory, rs.getLong("size_bytes"), rs.getLong("created_at"));
    }
}
