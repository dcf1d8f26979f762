package dev.cella.node.metrics;

import java.util.ArrayList;
import java.util.List;

/**
 * A sandbox's metrics in three tiers, each a fixed ring, so memory per sandbox is
 * bounded: 500 ms samples for 10 minutes, 30-second averages for 2 hours, 5-minute
 * averages for 24 hours (the tiers of the Wrenn API's metrics endpoint).
 */
public final class MetricsRing {
    /** A tier: how many raw samples one point averages, and how many points it keeps. */
    enum Tier {
        TEN_MINUTES(1, 1200), TWO_HOURS(60, 240), DAY(600, 288);

        final int samplesPerPoint;
        final int capacity;

        Tier(int samplesPerPoint, int capacity) {
            this.samplesPerPoint = samplesPerPoint;
            this.capacity = capacity;
        }
    }

    private final Ring[] rings = new Ring[Tier.values().length];

    public MetricsRing() {
        for (Tier t : Tier.values()) rings[t.ordinal()] = new Ring(t);
    }

    public synchronized void add(MetricPoint sample) {
        for (Ring r : rings) r.add(sample);
    }

    /** The points of the tier that covers {@code seconds}, newer than that many seconds before {@code nowUnix}. */
    public synchronized List<MetricPoint> range(long seconds, long nowUnix) {
        Tier tier = seconds <= 600 ? Tier.TEN_MINUTES : seconds <= 7200 ? Tier.TWO_HOURS : Tier.DAY;
        return rings[tier.ordinal()].since(nowUnix - seconds);
    }

    private static final class Ring {
        final Tier tier;
        final MetricPoint[] points;
        int next, size;
        // the running average of the point being built
        int pending;
        double cpu;
        long mem, disk, lastTs;

        Ring(Tier tier) {
            this.tier = tier;
            this.points = new MetricPoint[tier.capacity];
        }

        void add(MetricPoint s) {
            pending++;
            cpu += s.cpuPct();
            mem += s.memBytes();
            disk += s.diskBytes();
            lastTs = s.timestampUnix();
            if (pending < tier.samplesPerPoint) return;
            double avgCpu = Math.round(cpu / pending * 100) / 100.0;
            points[next] = new MetricPoint(lastTs, avgCpu, mem / pending, disk / pending);
            next = (next + 1) % points.length;
            size = Math.min(size + 1, points.length);
            pending = 0;
            cpu = 0;
            mem = 0;
            disk = 0;
        }

        List<MetricPoint> since(long fromUnix) {
            List<MetricPoint> out = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                MetricPoint p = points[(next - size + i + points.length) % points.length];
                if (p.timestampUnix() >= fromUnix) out.add(p);
            }
            return out;
        }
    }
}
