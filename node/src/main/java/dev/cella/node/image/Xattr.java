package dev.cella.node.image;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/** setxattr(2), for the trusted.* attributes overlayfs reads (an opaque directory); Java's own views reach user.* only. */
final class Xattr {
    private static final MethodHandle SETXATTR = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("setxattr").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT), Linker.Option.captureCallState("errno"));
    private static final long ERRNO = Linker.Option.captureStateLayout().byteOffset(MemoryLayout.PathElement.groupElement("errno"));

    private Xattr() {}

    static void set(Path path, String name, String value) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Linker.Option.captureStateLayout());
            MemorySegment v = a.allocateFrom(value).reinterpret(value.length());
            int rc = (int) SETXATTR.invokeExact(state, a.allocateFrom(path.toString()), a.allocateFrom(name), v, (long) value.length(), 0);
            if (rc != 0) throw new IOException("setxattr " + name + " on " + path + ": errno " + state.get(ValueLayout.JAVA_INT, ERRNO));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("setxattr failed", t);
        }
    }
}
