package dev.cella.node.metrics;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The ranges a sandbox's metrics are asked for by (the native API's and the node API's
 * {@code range}), shortest first: one table for every side that reads or sends them.
 */
public enum MetricRange {
    M5("5m", 300), M10("10m", 600), H1("1h", 3600), H2("2h", 7200), H6("6h", 21600), H12("12h", 43200), H24("24h", 86400);

    public final String label;
    public final long seconds;

    MetricRange(String label, long seconds) {
        this.label = label;
        this.seconds = seconds;
    }

    public static Optional<MetricRange> of(String label) {
        return Arrays.stream(values()).filter(r -> r.label.equals(label)).findFirst();
    }

    /** The shortest range that covers this many seconds (the longest when none does). */
    public static MetricRange covering(long seconds) {
        return Arrays.stream(values()).filter(r -> r.seconds >= seconds).findFirst().orElse(H24);
    }

    /** "5m, 10m, ..., 24h": for the message that refuses another. */
    public static String labels() {
        return Arrays.stream(values()).map(r -> r.label).collect(Collectors.joining(", "));
    }
}
