package dev.cella.node.runtime;

import dev.cella.node.sys.Command;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Formatted, empty disk images kept ready for new sandboxes' writable layers. Making one
 * (a sparse file and {@code mkfs.ext4}) costs a process and a few megabytes of writes that
 * no create needs to wait for: a create takes a ready image with a rename and the stock
 * is refilled in the background, by {@code mkfs} at low CPU priority ({@code nice}).
 * Images are made under a temporary name and renamed when complete, so a crash never
 * leaves a half-made one to be taken. Sizes are stocked once asked for, for a while.
 */
public final class DiskStock implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DiskStock.class);
    private static final Duration WANTED_FOR = Duration.ofMinutes(30);

    private final Path dir;
    private final int keep;
    private final Map<Integer, Long> wantedAt = new ConcurrentHashMap<>();
    private final AtomicLong serial = new AtomicLong();
    private final Semaphore wake = new Semaphore(0);
    private volatile boolean closed;
    private Thread filler;

    /** @param keep images kept ready per size (0: none, every create formats its own) */
    public DiskStock(Path dir, int keep) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.keep = keep;
        try (var s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) Files.deleteIfExists(p);
        }
    }

    public DiskStock start() {
        if (keep > 0) filler = Thread.ofVirtual().name("disk-stock").start(this::fillLoop);
        return this;
    }

    /** Puts a formatted, empty ext4 image of {@code sizeMb} at {@code target}: a ready one, or one made now. */
    public void take(int sizeMb, Path target) throws IOException {
        if (keep > 0) {
            wantedAt.put(sizeMb, System.nanoTime());
            wake.release();
            for (Path ready : ready(sizeMb)) {
                try {
                    Files.move(ready, target, StandardCopyOption.ATOMIC_MOVE);
                    return;
                } catch (NoSuchFileException takenMeanwhile) {
                    // another create took that one: try the next
                }
            }
        }
        make(sizeMb, target, false);
    }

    private List<Path> ready(int sizeMb) throws IOException {
        String prefix = sizeMb + "m-";
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix) && p.getFileName().toString().endsWith(".img")).toList();
        }
    }

    /** A sparse file of the size (no process for that), then mkfs: lazy inode tables and journal, no reserved blocks. */
    static void make(int sizeMb, Path target, boolean background) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(target.toFile(), "rw")) {
            f.setLength(sizeMb * 1024L * 1024L);
        }
        List<String> mkfs = List.of("mkfs.ext4", "-q", "-F", "-m", "0", "-E", "nodiscard,lazy_itable_init=1,lazy_journal_init=1", target.toString());
        if (background) {
            List<String> niced = new ArrayList<>(List.of("nice", "-n", "15"));
            niced.addAll(mkfs);
            mkfs = niced;
        }
        Command.run(mkfs, null, Duration.ofMinutes(5)); // niced, on a busy machine it waits its turn
    }

    private void fillLoop() {
        while (!closed) {
            try {
                wake.tryAcquire(1, TimeUnit.SECONDS);
                wake.drainPermits();
                long now = System.nanoTime();
                for (var e : Map.copyOf(wantedAt).entrySet()) {
                    if (now - e.getValue() > WANTED_FOR.toNanos()) {
                        wantedAt.remove(e.getKey());
                        for (Path p : ready(e.getKey())) Files.deleteIfExists(p); // not asked for in a while: give the space back
                        continue;
                    }
                    while (!closed && ready(e.getKey()).size() < keep) {
                        Path tmp = dir.resolve(e.getKey() + "m-" + serial.incrementAndGet() + "-" + System.nanoTime() + ".img.tmp");
                        try {
                            make(e.getKey(), tmp, true);
                            Files.move(tmp, dir.resolve(tmp.getFileName().toString().replace(".img.tmp", ".img")), StandardCopyOption.ATOMIC_MOVE);
                        } finally {
                            Files.deleteIfExists(tmp);
                        }
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                log.warn("disk stock: {}", e.toString());
                try {
                    Thread.sleep(5000);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        if (filler != null) filler.interrupt();
    }
}
