package dev.cella.envd.files;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * The gzip form of a download, made whole before the answer starts, so that it goes out
 * with a {@code Content-Length} in large writes.
 *
 * <p>Why not stream it: the JDK's server cuts a body of unknown length into 4 KiB chunks,
 * and Node's fetch (the E2B JS SDK) pushes every chunk of a gzip answer through zlib on
 * its own; its time then grows faster than the size (a 20 MiB file took 15 s, a 256 MiB
 * one never finished in a minute). Made whole, the body also tells whether gzip paid:
 * compression stops at the first block that leaves the output more than {@link #WORTH}
 * of the input (random or already compressed data), and the caller sends the file as it is.
 *
 * <p>The first {@link #MEMORY_BLOCKS} blocks of output stay in memory; the rest goes to
 * an unlinked temporary file, so the heap bounds nothing but those 4 MiB.
 */
final class GzipBody implements Closeable {
    static final int BLOCK = 256 * 1024;
    static final int MEMORY_BLOCKS = 16;
    /** gzip pays when its output is at most this share of the input. */
    static final double WORTH = 0.9;
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, Deflater.DEFLATED, 0, 0, 0, 0, 0, 0, (byte) 0xff};

    private final Path spillDir;
    private final List<byte[]> blocks = new ArrayList<>();
    private int used = BLOCK; // bytes filled in the last memory block
    private FileChannel spill;
    private byte[] scratch;
    private long spilled;
    private long length;

    private GzipBody(Path spillDir) {
        this.spillDir = spillDir;
    }

    /**
     * The gzip form of what {@code in} holds, or null when {@code always} is false and gzip
     * would not make it at most {@link #WORTH} of its size.
     *
     * @param spillDir where output past the in-memory blocks goes (a file unlinked at once)
     */
    static GzipBody compress(InputStream in, boolean always, Path spillDir) throws IOException {
        GzipBody body = new GzipBody(spillDir);
        Deflater deflater = new Deflater(Deflater.BEST_SPEED, true);
        CRC32 crc = new CRC32();
        byte[] input = new byte[BLOCK];
        boolean done = false;
        try {
            body.put(HEADER);
            long read = 0;
            int n;
            while ((n = in.readNBytes(input, 0, BLOCK)) > 0) {
                crc.update(input, 0, n);
                read += n;
                deflater.setInput(input, 0, n);
                // a sync flush puts out all the input so far, so the length tells the ratio exactly
                body.deflate(deflater, Deflater.SYNC_FLUSH);
                if (!always && body.length > WORTH * read) return null;
            }
            deflater.finish();
            body.deflate(deflater, Deflater.NO_FLUSH);
            byte[] trailer = new byte[8];
            int c = (int) crc.getValue(), size = (int) read;
            for (int i = 0; i < 4; i++) {
                trailer[i] = (byte) (c >>> (8 * i));
                trailer[4 + i] = (byte) (size >>> (8 * i));
            }
            body.put(trailer);
            if (!always && body.length > WORTH * read) return null;
            done = true;
            return body;
        } finally {
            deflater.end();
            if (!done) body.close();
        }
    }

    /** The number of bytes of the gzip form. */
    long length() {
        return length;
    }

    /** Writes the gzip form out, block by block. */
    void writeTo(OutputStream out) throws IOException {
        for (int i = 0; i < blocks.size(); i++) {
            out.write(blocks.get(i), 0, i == blocks.size() - 1 && spill == null ? used : BLOCK);
        }
        if (spill == null) return;
        ByteBuffer buf = ByteBuffer.wrap(scratch);
        long pos = 0;
        while (pos < spilled) {
            buf.clear();
            int n = spill.read(buf, pos);
            if (n < 0) break;
            out.write(scratch, 0, n);
            pos += n;
        }
    }

    @Override
    public void close() throws IOException {
        blocks.clear();
        if (spill != null) spill.close();
    }

    /** Runs the deflater until it asks for input (flush as given) or, once finishing, until it is finished. */
    private void deflate(Deflater d, int flush) throws IOException {
        while (true) {
            int n;
            if (spill == null && (used < BLOCK || startBlock())) {
                int space = BLOCK - used;
                n = d.deflate(blocks.getLast(), used, space, flush);
                used += n;
                length += n;
                if (more(d, flush, n, space)) continue;
                return;
            }
            n = d.deflate(scratch, 0, BLOCK, flush);
            spill(scratch, 0, n);
            if (!more(d, flush, n, BLOCK)) return;
        }
    }

    private static boolean more(Deflater d, int flush, int n, int space) {
        if (d.finished()) return false;
        if (flush == Deflater.SYNC_FLUSH) return n == space; // a full buffer may hide more output
        return !d.needsInput() || n > 0;
    }

    private void put(byte[] bytes) throws IOException {
        int off = 0;
        while (off < bytes.length) {
            if (spill == null && (used < BLOCK || startBlock())) {
                int n = Math.min(BLOCK - used, bytes.length - off);
                System.arraycopy(bytes, off, blocks.getLast(), used, n);
                used += n;
                off += n;
                length += n;
            } else {
                spill(bytes, off, bytes.length - off);
                return;
            }
        }
    }

    private void spill(byte[] bytes, int off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes, off, len);
        while (b.hasRemaining()) spilled += spill.write(b, spilled);
        length += len;
    }

    /** Adds a memory block; false, and the spill file opened instead, once the memory blocks are used. */
    private boolean startBlock() throws IOException {
        if (blocks.size() < MEMORY_BLOCKS) {
            blocks.add(new byte[BLOCK]);
            used = 0;
            return true;
        }
        Path file = Files.createTempFile(spillDir, ".cella-gzip-", ".part");
        try {
            spill = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } finally {
            Files.deleteIfExists(file); // nothing is left behind, whatever happens to envd
        }
        scratch = new byte[BLOCK];
        return false;
    }
}
