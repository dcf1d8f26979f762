package dev.cella.server.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import javax.sql.DataSource;

/** Plain JDBC with parameters and a row mapper: enough for a handful of tables, no ORM. */
public final class Jdbc {
    private final DataSource ds;
    /** Inside {@link #transaction}: the one connection every statement uses. */
    private final Connection bound;

    public Jdbc(DataSource ds) {
        this.ds = ds;
        this.bound = null;
    }

    private Jdbc(Connection bound) {
        this.ds = null;
        this.bound = bound;
    }

    /**
     * Runs {@code work} in one transaction: committed when it returns, rolled back when it
     * throws. Statements inside must go through the {@code Jdbc} it is given (with SQLite's
     * single connection, the outer one would wait for ever).
     */
    public <T> T transaction(Function<Jdbc, T> work) {
        if (bound != null) return work.apply(this);
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.apply(new Jdbc(c));
                c.commit();
                return result;
            } catch (RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw failure(e);
        }
    }

    private interface SqlWork<T> { T run(Connection c) throws SQLException; }

    /** Runs on the transaction's connection, or on one from the pool that is given back after. */
    private <T> T withConnection(SqlWork<T> work) {
        try {
            if (bound != null) return work.run(bound);
            try (Connection c = ds.getConnection()) {
                return work.run(c);
            }
        } catch (SQLException e) {
            throw failure(e);
        }
    }

    @FunctionalInterface
    public interface Row<T> { T map(ResultSet rs) throws SQLException; }

    /** A unique constraint broken is the caller's conflict; anything else is the database's failure. */
    private static RuntimeException failure(SQLException e) {
        if ("23505".equals(e.getSQLState()) || (e.getErrorCode() == 19 && String.valueOf(e.getMessage()).contains("UNIQUE"))) {
            return new Duplicate(e.getMessage());
        }
        return new IllegalStateException("database: " + e.getMessage(), e);
    }

    /** A row that would break a unique constraint (an email or name taken meanwhile). */
    public static final class Duplicate extends RuntimeException {
        Duplicate(String message) {
            super(message);
        }
    }

    public int update(String sql, Object... params) {
        return withConnection(c -> {
            try (PreparedStatement ps = prepare(c, sql, params)) {
                return ps.executeUpdate();
            }
        });
    }

    public <T> List<T> query(String sql, Row<T> row, Object... params) {
        return withConnection(c -> {
            try (PreparedStatement ps = prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
                List<T> out = new ArrayList<>();
                while (rs.next()) out.add(row.map(rs));
                return out;
            }
        });
    }

    public <T> Optional<T> one(String sql, Row<T> row, Object... params) {
        List<T> all = query(sql, row, params);
        return all.isEmpty() ? Optional.empty() : Optional.ofNullable(all.getFirst()); // a NULL column is no value
    }

    private static PreparedStatement prepare(Connection c, String sql, Object... params) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < params.length; i++) ps.setObject(i + 1, params[i]);
        return ps;
    }
}
