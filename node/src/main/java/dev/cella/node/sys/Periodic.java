package dev.cella.node.sys;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Work done again and again in the background (a reconcile, a usage sample): on a virtual
 * thread of its own, first after one {@code every}; a round that fails is logged and the
 * next one comes as usual. {@link #close} stops it.
 */
public final class Periodic implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Periodic.class);

    private final Thread thread;

    private Periodic(String name, Duration every, Runnable round) {
        thread = Thread.ofVirtual().name(name).start(() -> {
            while (true) {
                try {
                    Thread.sleep(every);
                    round.run();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    log.warn("{} failed, next round in {} s", name, every.toSeconds(), e);
                }
            }
        });
    }

    public static Periodic every(Duration every, String name, Runnable round) {
        return new Periodic(name, every, round);
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
