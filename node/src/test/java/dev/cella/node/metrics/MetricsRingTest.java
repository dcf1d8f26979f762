package dev.cella.node.metrics;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

@Tag("unit")
class MetricsRingTest {
    @Test
    void tiersKeepBoundedHistoryAndAverage() {
        MetricsRing ring = new MetricsRing();
        long t0 = 1_000_000;
        // 2 hours of 500 ms samples: cpu alternates 0 and 100, memory grows by 1 each sample
        int samples = 2 * 3600 * 2;
        for (int i = 0; i < samples; i++) ring.add(new MetricPoint(t0 + i / 2, i % 2 == 0 ? 0 : 100, i, 7));
        long now = t0 + samples / 2;
        var tenMinutes = ring.range(600, now);
        assertThat(tenMinutes).hasSize(1200); // the ring holds exactly its 10 minutes
        var twoHours = ring.range(7200, now);
        assertThat(twoHours).hasSizeBetween(239, 240);
        assertThat(twoHours).allSatisfy(p -> assertThat(p.cpuPct()).isEqualTo(50.0)); // 30 s averages
        assertThat(twoHours).allSatisfy(p -> assertThat(p.diskBytes()).isEqualTo(7));
        var day = ring.range(86400, now);
        assertThat(day).hasSize(samples / 600);
        assertThat(ring.range(300, now)).hasSizeBetween(599, 601);
    }
}
