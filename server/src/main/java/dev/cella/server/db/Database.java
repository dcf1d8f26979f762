package dev.cella.server.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;

import java.nio.file.Path;
import javax.sql.DataSource;

/**
 * The server's state: SQLite in the data directory by default, PostgreSQL when a JDBC
 * URL is given; one set of Flyway migrations for both.
 */
public final class Database implements AutoCloseable {
    private final HikariDataSource pool;
    private final boolean sqlite;

    private Database(String url, String user, String password) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(url);
        if (user != null) c.setUsername(user);
        if (password != null) c.setPassword(password);
        sqlite = url.startsWith("jdbc:sqlite:");
        // SQLite has one writer: one connection avoids "database is locked"; WAL lets it read while writing
        c.setMaximumPoolSize(sqlite ? 1 : 10);
        if (sqlite) {
            c.addDataSourceProperty("journal_mode", "WAL");
            // in WAL mode NORMAL syncs at checkpoints, not at every commit: a create's three small
            // writes stop waiting for the disk, and a crash of the process still loses nothing
            // (only the machine losing power can take the last commits with it)
            c.addDataSourceProperty("synchronous", "NORMAL");
            c.addDataSourceProperty("foreign_keys", "true");
            c.addDataSourceProperty("busy_timeout", "5000");
        }
        c.setPoolName("cella-db");
        pool = new HikariDataSource(c);
        Flyway.configure().dataSource(pool).locations("classpath:db/migration").load().migrate();
    }

    public static Database sqlite(Path file) {
        return new Database("jdbc:sqlite:" + file.toAbsolutePath(), null, null);
    }

    public static Database postgres(String url, String user, String password) {
        return new Database(url, user, password);
    }

    public DataSource dataSource() {
        return pool;
    }

    public boolean isSqlite() {
        return sqlite;
    }

    @Override
    public void close() {
        pool.close();
    }
}
