package dev.cella.node.runtime;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Renames a running container from outside: the node joins the container's UTS namespace
 * on one thread, calls sethostname(2) there, and goes back. A pooled sandbox is renamed to
 * the id of the create that takes it this way in ~0.1 ms, where {@code nsenter ... hostname}
 * costs a process (5-10 ms on a busy host); envd inside cannot do it (no CAP_SYS_ADMIN).
 *
 * <p>setns(2) changes the namespace of the calling OS thread only. So the calls run on one
 * dedicated platform thread (a virtual thread may move between OS threads at any blocking
 * point), which always returns to the node's own UTS namespace before it takes other work;
 * a UTS namespace holds nothing but the host and domain names.
 */
final class UtsNamespace {
    private static final int CLONE_NEWUTS = 0x04000000;
    private static final int O_RDONLY = 0, O_CLOEXEC = 0x80000;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final long ERRNO_OFFSET = Linker.Option.captureStateLayout().byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN = handle("open", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SETNS = handle("setns", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SETHOSTNAME = handle("sethostname",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final ExecutorService THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = Thread.ofPlatform().name("uts-namespace").daemon().unstarted(r);
        return t;
    });

    private UtsNamespace() {}

    private static MethodHandle handle(String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d, ERRNO);
    }

    /** Sets the host name seen inside the UTS namespace of process {@code pid}. */
    static void setHostname(long pid, String hostname) throws IOException {
        try {
            THREAD.submit(() -> {
                onThisThread(pid, hostname);
                return null;
            }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while renaming", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException("sethostname failed", e.getCause());
        }
    }

    private static void onThisThread(long pid, String hostname) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Linker.Option.captureStateLayout());
            int own = open(a, state, "/proc/self/ns/uts"); // the main thread's: home, whatever this thread went through
            try {
                int target = open(a, state, "/proc/" + pid + "/ns/uts");
                try {
                    check((int) SETNS.invokeExact(state, target, CLONE_NEWUTS), state, "setns into the sandbox's UTS namespace");
                    try {
                        byte[] name = hostname.getBytes(StandardCharsets.US_ASCII);
                        check((int) SETHOSTNAME.invokeExact(state, a.allocateFrom(hostname), (long) name.length), state, "sethostname");
                    } finally {
                        // back home before anything else runs on this thread; failing that, no later call may run here
                        if ((int) SETNS.invokeExact(state, own, CLONE_NEWUTS) != 0) {
                            throw new IllegalStateException("could not return to the node's UTS namespace: errno "
                                    + state.get(ValueLayout.JAVA_INT, ERRNO_OFFSET));
                        }
                    }
                } finally {
                    int ignored = (int) CLOSE.invokeExact(state, target);
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(state, own);
            }
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("sethostname failed", t);
        }
    }

    private static int open(Arena a, MemorySegment state, String path) throws Throwable {
        int fd = (int) OPEN.invokeExact(state, a.allocateFrom(path), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw new IOException("open " + path + ": errno " + state.get(ValueLayout.JAVA_INT, ERRNO_OFFSET));
        return fd;
    }

    private static void check(int rc, MemorySegment state, String what) throws IOException {
        if (rc != 0) throw new IOException(what + ": errno " + state.get(ValueLayout.JAVA_INT, ERRNO_OFFSET));
    }
}
