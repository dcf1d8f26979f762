package dev.cella.server.team;

import dev.cella.node.problem.Problem;
import dev.cella.server.Ids;
import dev.cella.server.auth.Team;
import dev.cella.server.auth.User;
import dev.cella.server.db.Jdbc;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Teams and who is in them, with the Wrenn API's rules: the owner made the team and alone may
 * delete it; owners and admins rename it and manage members; the owner can be neither
 * changed, removed nor leave. A deleted team is kept (soft delete) and its slug with it,
 * so a slug is never given out twice.
 */
public final class Teams {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9 _]{1,128}");
    private final Jdbc db;

    public Teams(Jdbc db) {
        this.db = db;
    }

    public static String validName(String name) {
        if (name == null || !NAME.matcher(name).matches() || name.isBlank()) {
            throw new Problem.Invalid("a team name is 1 to 128 characters: letters, digits, spaces and _");
        }
        return name;
    }

    /** Makes a team with its owner (in the caller's transaction when it has one). */
    public TeamInfo create(Jdbc tx, String name, String ownerUserId) {
        validName(name);
        String id = "team_" + UUID.randomUUID().toString().replace("-", "");
        long now = System.currentTimeMillis();
        while (true) {
            String slug = slug();
            try {
                tx.update("INSERT INTO teams (id, name, created_at, slug) VALUES (?, ?, ?, ?)", id, name, now, slug);
                if (ownerUserId != null) {
                    tx.update("INSERT INTO team_members (team_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)", id, ownerUserId,
                            Role.OWNER.wire(), now);
                }
                return new TeamInfo(id, name, slug, now);
            } catch (Jdbc.Duplicate slugTaken) {
                // 48 random bits: taken only by chance; draw again
            }
        }
    }

    public TeamInfo create(String name, String ownerUserId) {
        return db.transaction(tx -> create(tx, name, ownerUserId));
    }

    /** A slug as the Wrenn API shows one: 12 hex digits in two halves, a1b2c3-d1e2f3. */
    private static String slug() {
        String h = Ids.hex(6);
        return h.substring(0, 6) + "-" + h.substring(6);
    }

    /** A team that exists (not deleted). */
    public Optional<TeamInfo> get(String id) {
        return db.one("SELECT * FROM teams WHERE id = ? AND deleted_at IS NULL", Teams::info, id);
    }

    public Optional<Role> roleOf(String teamId, String userId) {
        return db.one("SELECT m.role FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.team_id = ? AND m.user_id = ?"
                + " AND t.deleted_at IS NULL", rs -> Role.parse(rs.getString(1)).orElseThrow(), teamId, userId);
    }

    /** The teams a user is in, with their role in each, oldest first. */
    public List<TeamWithRole> teamsOf(String userId) {
        return db.query("SELECT t.*, m.role FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = ? AND t.deleted_at IS NULL"
                + " ORDER BY m.joined_at, t.id", rs -> new TeamWithRole(info(rs), Role.parse(rs.getString("role")).orElseThrow()), userId);
    }

    public record TeamWithRole(TeamInfo team, Role role) {}

    /** The user's first team: where a login lands. */
    public Optional<TeamWithRole> firstTeamOf(String userId) {
        List<TeamWithRole> all = teamsOf(userId);
        return all.stream().filter(t -> t.role() == Role.OWNER).findFirst().or(() -> all.stream().findFirst());
    }

    public List<Member> members(String teamId) {
        return db.query("SELECT m.user_id, u.email, m.role, m.joined_at FROM team_members m JOIN users u ON u.id = m.user_id"
                        + " WHERE m.team_id = ? ORDER BY m.joined_at, u.email",
                rs -> new Member(rs.getString(1), rs.getString(2), Role.parse(rs.getString(3)).orElseThrow(), rs.getLong(4)), teamId);
    }

    public Optional<Member> member(String teamId, String userId) {
        return members(teamId).stream().filter(m -> m.userId().equals(userId)).findFirst();
    }

    public void rename(String teamId, String name) {
        db.update("UPDATE teams SET name = ? WHERE id = ?", validName(name), teamId);
    }

    public Member add(String teamId, User user) {
        if (member(teamId, user.id()).isPresent()) throw new Problem.Invalid(user.email() + " is already a member of this team");
        long now = System.currentTimeMillis();
        db.update("INSERT INTO team_members (team_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)", teamId, user.id(), Role.MEMBER.wire(), now);
        return new Member(user.id(), user.email(), Role.MEMBER, now);
    }

    public void setRole(String teamId, String userId, Role role) {
        db.update("UPDATE team_members SET role = ? WHERE team_id = ? AND user_id = ?", role.wire(), teamId, userId);
    }

    public void remove(String teamId, String userId) {
        db.update("DELETE FROM team_members WHERE team_id = ? AND user_id = ?", teamId, userId);
    }

    /** Soft delete: the row (and its slug) stay; the team is gone for every request. */
    public void delete(String teamId) {
        db.update("UPDATE teams SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", System.currentTimeMillis(), teamId);
    }

    public static Team team(TeamInfo t) {
        return new Team(t.id(), t.name());
    }

    private static TeamInfo info(ResultSet rs) throws SQLException {
        return new TeamInfo(rs.getString("id"), rs.getString("name"), rs.getString("slug"), rs.getLong("created_at"));
    }
}
