package dev.cella.envd.log;

import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Locale;

/**
 * A logger that writes {@code HH:mm:ss.SSS [thread] LEVEL logger -- message} (Logback's
 * default layout, UTC) and the stack trace of a throwable, as one write, so lines of
 * concurrent threads never interleave.
 */
final class LineLogger extends LegacyAbstractLogger {
    private static final long DAY_MS = 86_400_000L;
    private final transient int threshold; // Level.toInt(): TRACE 0 … ERROR 40
    private final transient PrintStream out;

    LineLogger(String name, Level threshold) {
        this(name, threshold, System.out);
    }

    LineLogger(String name, Level threshold, PrintStream out) {
        this.name = name;
        this.threshold = threshold.toInt();
        this.out = out;
    }

    /** The level named by {@code -Denvd.log.level}, info when unset or unknown. */
    static Level threshold() {
        String named = System.getProperty("envd.log.level", "info").toUpperCase(Locale.ROOT);
        for (Level l : Level.values()) if (l.name().equals(named)) return l;
        return Level.INFO;
    }

    @Override public boolean isTraceEnabled() { return Level.TRACE.toInt() >= threshold; }
    @Override public boolean isDebugEnabled() { return Level.DEBUG.toInt() >= threshold; }
    @Override public boolean isInfoEnabled() { return Level.INFO.toInt() >= threshold; }
    @Override public boolean isWarnEnabled() { return Level.WARN.toInt() >= threshold; }
    @Override public boolean isErrorEnabled() { return Level.ERROR.toInt() >= threshold; }

    @Override protected String getFullyQualifiedCallerName() { return null; }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args, Throwable thrown) {
        if (level.toInt() < threshold) return;
        if (thrown == null && args != null && args.length > 0 && args[args.length - 1] instanceof Throwable t
                && placeholders(pattern) < args.length) {
            // log.warn("x", (Object) e): SLF4J hands a lone argument over as is; Logback printed it as the throwable
            thrown = t;
            args = MessageFormatter.trimmedCopy(args);
        }
        var formatted = MessageFormatter.basicArrayFormat(pattern, args);
        StringBuilder line = new StringBuilder(96);
        long ms = Math.floorMod(System.currentTimeMillis(), DAY_MS);
        two(line, ms / 3_600_000).append(':');
        two(line, ms / 60_000 % 60).append(':');
        two(line, ms / 1000 % 60).append('.');
        long milli = ms % 1000;
        if (milli < 100) line.append('0');
        if (milli < 10) line.append('0');
        line.append(milli).append(" [").append(Thread.currentThread().getName()).append("] ")
                .append(level.name()).append(' ').append(name).append(" -- ").append(formatted).append('\n');
        if (thrown != null) {
            var trace = new StringWriter();
            thrown.printStackTrace(new PrintWriter(trace));
            line.append(trace);
        }
        out.print(line);
        out.flush();
    }

    private static int placeholders(String pattern) {
        int n = 0;
        for (int i = pattern == null ? -1 : pattern.indexOf("{}"); i >= 0; i = pattern.indexOf("{}", i + 2)) n++;
        return n;
    }

    private static StringBuilder two(StringBuilder b, long v) {
        if (v < 10) b.append('0');
        return b.append(v);
    }
}
