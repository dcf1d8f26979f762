package dev.cella.node.proxy;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@Tag("unit")
class SandboxProxyRelayTest {
    /** Pieces that arrive in bursts: within a burst the next piece is already there (available() > 0), between bursts nothing is. */
    static final class Bursts extends InputStream {
        final ArrayDeque<byte[]> pieces = new ArrayDeque<>();
        final ArrayDeque<Boolean> lastOfBurst = new ArrayDeque<>();
        byte[] current;
        int pos;
        boolean currentEndsBurst;

        void burst(byte[]... ps) {
            for (int i = 0; i < ps.length; i++) {
                pieces.add(ps[i]);
                lastOfBurst.add(i == ps.length - 1);
            }
        }

        @Override
        public int read() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (current == null || pos == current.length) {
                if (pieces.isEmpty()) return -1;
                current = pieces.poll();
                currentEndsBurst = lastOfBurst.poll();
                pos = 0;
            }
            int n = Math.min(len, current.length - pos);
            System.arraycopy(current, pos, b, off, n);
            pos += n;
            return n;
        }

        @Override
        public int available() {
            if (current != null && pos < current.length) return current.length - pos;
            return current != null && !currentEndsBurst && !pieces.isEmpty() ? 1 : 0;
        }
    }

    /** Records every write and where the flushes fall. */
    static final class Recorder extends ByteArrayOutputStream {
        final List<Integer> writes = new ArrayList<>();
        final List<Integer> flushedAt = new ArrayList<>();

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            writes.add(len);
            super.write(b, off, len);
        }

        @Override
        public void flush() {
            flushedAt.add(size());
        }
    }

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) seed);
        return b;
    }

    @Test
    void whatHasArrivedGoesInOneLargeWriteAndEveryBurstIsFlushedAtOnce() throws Exception {
        Bursts in = new Bursts();
        in.burst(bytes(10, 1)); // a Connect message on its own
        byte[][] file = new byte[100][];
        for (int i = 0; i < file.length; i++) file[i] = bytes(16 * 1024, i); // 1.6 MiB arriving as fast as it can be read
        in.burst(file);
        in.burst(bytes(5, 2));
        Recorder out = new Recorder();
        SandboxProxy.relay(in, out);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(bytes(10, 1));
        for (byte[] f : file) expected.writeBytes(f);
        expected.writeBytes(bytes(5, 2));
        assertThat(out.toByteArray()).isEqualTo(expected.toByteArray());
        int fileEnd = 10 + 100 * 16 * 1024;
        // each burst is out before the next one arrives: nothing waits for a full buffer
        assertThat(out.flushedAt).contains(10, fileEnd, fileEnd + 5);
        // the file went in writes of the relay's block, not of 16 KiB each
        assertThat(out.writes).hasSize(1 + (100 * 16 * 1024 + SandboxProxy.RELAY_BLOCK - 1) / SandboxProxy.RELAY_BLOCK + 1);
        assertThat(out.writes).allMatch(n -> n <= SandboxProxy.RELAY_BLOCK);
    }
}
