package dev.cella.server.auth;

import dev.cella.server.db.Jdbc;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;

/** The users table. Emails are kept in lower case: one address, one account. */
public final class Users {
    private final Jdbc db;

    public Users(Jdbc db) {
        this.db = db;
    }

    public static String normalise(String email) {
        return email.trim().toLowerCase(Locale.ROOT);
    }

    public User create(String email, String name, String passwordHash, String githubId) {
        User u = new User("usr_" + UUID.randomUUID().toString().replace("-", ""), normalise(email), name, System.currentTimeMillis());
        db.update("INSERT INTO users (id, email, name, password_hash, github_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                u.id(), u.email(), u.name(), passwordHash, githubId, u.createdAt());
        return u;
    }

    public Optional<User> byId(String id) {
        return db.one("SELECT * FROM users WHERE id = ?", Users::row, id);
    }

    public Optional<User> byEmail(String email) {
        return db.one("SELECT * FROM users WHERE email = ?", Users::row, normalise(email));
    }

    public Optional<User> byGithubId(String githubId) {
        return db.one("SELECT * FROM users WHERE github_id = ?", Users::row, githubId);
    }

    /** The stored hash, for a login: null for an account made through GitHub. */
    public Optional<String> passwordHash(String userId) {
        return db.one("SELECT password_hash FROM users WHERE id = ?", rs -> rs.getString(1), userId);
    }

    /** Up to ten users whose email starts with the prefix. */
    public List<User> searchByEmailPrefix(String prefix) {
        String p = normalise(prefix).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
        return db.query("SELECT * FROM users WHERE email LIKE ? ESCAPE '\\' ORDER BY email LIMIT 10", Users::row, p + "%");
    }

    private static User row(ResultSet rs) throws SQLException {
        return new User(rs.getString("id"), rs.getString("email"), rs.getString("name"), rs.getLong("created_at"));
    }
}
