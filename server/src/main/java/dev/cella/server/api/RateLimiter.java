package dev.cella.server.api;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Token buckets by key (a team, or a client address for failed authentication): a
 * rate per second and a burst of the same size, as Lelantos' limits read. Buckets of
 * keys idle for a minute are dropped, so the map stays small.
 */
public final class RateLimiter {
    private final double perSecond;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
    private long lastSweep = System.nanoTime();

    public RateLimiter(double perSecond) {
        this.perSecond = perSecond;
    }

    private static final class Bucket {
        double tokens;
        long at;

        Bucket(double tokens, long at) {
            this.tokens = tokens;
            this.at = at;
        }
    }

    /** Takes one token; returns 0 when allowed, else the seconds to wait before the next one (at least 1). */
    public long acquire(String key) {
        long now = System.nanoTime();
        sweep(now);
        Bucket b = buckets.computeIfAbsent(key, k -> new Bucket(perSecond, now));
        synchronized (b) {
            b.tokens = Math.min(perSecond, b.tokens + (now - b.at) / 1e9 * perSecond);
            b.at = now;
            if (b.tokens >= 1) {
                b.tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - b.tokens) / perSecond));
        }
    }

    /** Gives back a token taken for something that turned out not to count (a login that succeeded). */
    public void refund(String key) {
        Bucket b = buckets.get(key);
        if (b == null) return;
        synchronized (b) {
            b.tokens = Math.min(perSecond, b.tokens + 1);
        }
    }

    private void sweep(long now) {
        if (now - lastSweep < 60_000_000_000L) return;
        lastSweep = now;
        buckets.entrySet().removeIf(e -> now - e.getValue().at > 60_000_000_000L);
    }
}
