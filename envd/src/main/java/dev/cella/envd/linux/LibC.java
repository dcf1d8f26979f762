package dev.cella.envd.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The few libc calls envd needs that the JDK does not offer: spawning a process in
 * its own session with another user's credentials and a controlling terminal,
 * reading and writing raw file descriptors, waiting for children, signals.
 *
 * <p>Every call that can fail returns -1 and the errno is captured atomically with
 * the call (the JVM may clobber errno between two downcalls), then thrown as
 * {@link Errno}.
 */
public final class LibC {
    private LibC() {}

    /**
     * The linker and the errno capture, made on first use: making them costs ~20 ms of
     * class initialisation, and envd touches LibC on its way to listening ({@link #isRoot()}),
     * where it needs none of them.
     */
    private static final class Native {
        static final Linker LINKER = Linker.nativeLinker();
        static final SymbolLookup LOOKUP = LINKER.defaultLookup();
        static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    }

    // --- constants (glibc on x86_64 and aarch64 Linux: the same on both) ---
    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2;
    public static final int O_NOCTTY = 0x100, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public static final int EINTR = 4, EIO = 5, ECHILD = 10, EAGAIN = 11, ESRCH = 3;
    public static final int F_GETFL = 3, F_SETFL = 4;
    public static final int POLLIN = 0x1, POLLHUP = 0x10, POLLERR = 0x8;
    public static final int POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08, POSIX_SPAWN_SETSID = 0x80;
    public static final long TIOCSWINSZ = 0x5414;
    /** The raw syscall numbers of this machine (they differ between x86_64 and aarch64). */
    private static final Arch ARCH = Arch.current();

    // --- handles, grouped so that each group is linked on first use: linking a
    // downcall costs milliseconds, and envd's start must not pay for what it may never call ---

    /** posix_spawn and its attributes; the raw syscall for per-thread credentials. */
    private static final class Spawn {
        static final MethodHandle POSIX_SPAWN = errnoCall("posix_spawn",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle ATTR_INIT = call("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle ATTR_DESTROY = call("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle ATTR_SETFLAGS = call("posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
        static final MethodHandle ATTR_SETSIGMASK = call("posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle ATTR_SETSIGDEFAULT = call("posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle FA_INIT = call("posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle FA_DESTROY = call("posix_spawn_file_actions_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle FA_ADDOPEN = call("posix_spawn_file_actions_addopen", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        static final MethodHandle FA_ADDDUP2 = call("posix_spawn_file_actions_adddup2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        static final MethodHandle FA_ADDCHDIR = call("posix_spawn_file_actions_addchdir_np", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle FA_ADDCLOSEFROM = call("posix_spawn_file_actions_addclosefrom_np", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle SIGEMPTYSET = call("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SIGFILLSET = call("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SYSCALL3 = errnoCall("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    }

    /** plain descriptor I/O. */
    private static final class Fds {
        static final MethodHandle PIPE2 = errnoCall("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle READ = errnoCall("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle WRITE = errnoCall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle CLOSE = errnoCall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle POLL = errnoCall("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        static final MethodHandle FCNTL = errnoCall("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    }

    /** waiting for and signalling processes. */
    private static final class Children {
        static final MethodHandle WAITPID = errnoCall("waitpid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle KILL = errnoCall("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    /** pseudo-terminals. */
    private static final class Terminals {
        static final MethodHandle POSIX_OPENPT = errnoCall("posix_openpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle GRANTPT = errnoCall("grantpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle UNLOCKPT = errnoCall("unlockpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle PTSNAME_R = call("ptsname_r", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle IOCTL_PTR = errnoCall("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            Linker.Option.firstVariadicArg(2));
    }

    /** file ownership. */
    private static final class Owners {
        static final MethodHandle LCHOWN = errnoCall("lchown", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    }

    /** inotify. */
    private static final class Inotify {
        static final MethodHandle INOTIFY_INIT1 = errnoCall("inotify_init1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle INOTIFY_ADD_WATCH = errnoCall("inotify_add_watch", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** process ids. */
    private static final class Ids {
        static final MethodHandle GETPID = call("getpid", FunctionDescriptor.of(JAVA_INT));
        static final MethodHandle GETUID = call("geteuid", FunctionDescriptor.of(JAVA_INT));
    }

    private static MethodHandle call(String name, FunctionDescriptor fd, Linker.Option... options) {
        return Native.LOOKUP.find(name).map(s -> Native.LINKER.downcallHandle(s, fd, options)).orElse(null);
    }

    private static MethodHandle errnoCall(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, options, 1, extra.length);
        MethodHandle h = call(name, fd, options);
        if (h == null) throw new IllegalStateException("libc has no " + name);
        return h;
    }

    /** A failed libc call. */
    public static final class Errno extends IOException {
        public final int errno;
        public Errno(String call, int errno) {
            super(call + " failed: errno " + errno + " (" + describe(errno) + ")");
            this.errno = errno;
        }
    }

    static String describe(int errno) {
        return switch (errno) {
            case 1 -> "EPERM"; case 2 -> "ENOENT"; case 3 -> "ESRCH"; case 4 -> "EINTR"; case 5 -> "EIO";
            case 9 -> "EBADF"; case 10 -> "ECHILD"; case 11 -> "EAGAIN"; case 12 -> "ENOMEM"; case 13 -> "EACCES";
            case 20 -> "ENOTDIR"; case 22 -> "EINVAL"; case 24 -> "EMFILE"; case 32 -> "EPIPE";
            default -> "errno " + errno;
        };
    }

    private static int errno(MemorySegment state) {
        return (int) Native.ERRNO.get(state, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    // --- process spawning ---

    public static boolean hasCloseFrom() {
        return Spawn.FA_ADDCLOSEFROM != null;
    }

    /**
     * posix_spawn with the calling thread's credentials. File actions run in the child
     * after setsid (glibc order), so opening a terminal there makes it the controlling one.
     */
    public static int spawn(String path, String[] argv, String[] envp, SpawnActions actions) throws Errno {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(1024, 16);
            MemorySegment fa = arena.allocate(1024, 16);
            MemorySegment sigset = arena.allocate(128, 8);
            MemorySegment pid = arena.allocate(JAVA_INT);
            MemorySegment state = arena.allocate(Native.CAPTURE);
            check("posix_spawnattr_init", (int) Spawn.ATTR_INIT.invokeExact(attr));
            check("posix_spawn_file_actions_init", (int) Spawn.FA_INIT.invokeExact(fa));
            try {
                short flags = (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID);
                check("setflags", (int) Spawn.ATTR_SETFLAGS.invokeExact(attr, flags));
                check("sigemptyset", (int) Spawn.SIGEMPTYSET.invokeExact(sigset));
                check("setsigmask", (int) Spawn.ATTR_SETSIGMASK.invokeExact(attr, sigset));
                check("sigfillset", (int) Spawn.SIGFILLSET.invokeExact(sigset));
                check("setsigdefault", (int) Spawn.ATTR_SETSIGDEFAULT.invokeExact(attr, sigset));
                for (SpawnActions.Action a : actions.actions()) {
                    switch (a) {
                        case SpawnActions.Open o -> check("addopen", (int) Spawn.FA_ADDOPEN.invokeExact(fa, o.fd(), arena.allocateFrom(o.path()), o.flags(), o.mode()));
                        case SpawnActions.Dup2 d -> check("adddup2", (int) Spawn.FA_ADDDUP2.invokeExact(fa, d.from(), d.to()));
                        case SpawnActions.Chdir c -> check("addchdir_np", (int) Spawn.FA_ADDCHDIR.invokeExact(fa, arena.allocateFrom(c.dir())));
                        case SpawnActions.CloseFrom c -> check("addclosefrom_np", (int) Spawn.FA_ADDCLOSEFROM.invokeExact(fa, c.lowFd()));
                    }
                }
                int rc = (int) Spawn.POSIX_SPAWN.invokeExact(state, pid, arena.allocateFrom(path), fa, attr,
                        cStrings(arena, argv), cStrings(arena, envp));
                if (rc != 0) throw new Errno("posix_spawn " + path, rc);
                return pid.get(JAVA_INT, 0);
            } finally {
                int ignored1 = (int) Spawn.FA_DESTROY.invokeExact(fa);
                int ignored2 = (int) Spawn.ATTR_DESTROY.invokeExact(attr);
            }
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void check(String what, int rc) throws Errno {
        if (rc != 0) throw new Errno(what, rc);
    }

    private static MemorySegment cStrings(Arena arena, String[] strings) {
        MemorySegment array = arena.allocate(ADDRESS, strings.length + 1L);
        for (int i = 0; i < strings.length; i++) array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings[i]));
        array.setAtIndex(ADDRESS, strings.length, MemorySegment.NULL);
        return array;
    }

    // --- credentials of the calling thread only (raw syscalls, not glibc's process-wide wrappers) ---

    /** Sets this thread's groups, gid and uid, keeping saved ids 0 so {@link #threadCredentialsRoot} can restore them. */
    public static void threadCredentials(int uid, int gid, int[] groups) throws Errno {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment list = arena.allocate(JAVA_INT, Math.max(1, groups.length));
            for (int i = 0; i < groups.length; i++) list.setAtIndex(JAVA_INT, i, groups[i]);
            syscall(arena, "setgroups", ARCH.sysSetgroups, groups.length, list.address(), 0);
            syscall(arena, "setresgid", ARCH.sysSetresgid, gid, gid, 0);
            syscall(arena, "setresuid", ARCH.sysSetresuid, uid, uid, 0);
        }
    }

    public static void threadCredentialsRoot() throws Errno {
        try (Arena arena = Arena.ofConfined()) {
            syscall(arena, "setresuid", ARCH.sysSetresuid, 0, 0, 0);
            syscall(arena, "setresgid", ARCH.sysSetresgid, 0, 0, 0);
            syscall(arena, "setgroups", ARCH.sysSetgroups, 0, 0, 0);
        }
    }

    private static void syscall(Arena arena, String name, long nr, long a, long b, long c) throws Errno {
        MemorySegment state = arena.allocate(Native.CAPTURE);
        try {
            long rc = (long) Spawn.SYSCALL3.invokeExact(state, nr, a, b, c);
            if (rc < 0) throw new Errno(name, errno(state));
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // --- file descriptors ---

    /** Returns {readFd, writeFd}, both close-on-exec. */
    public static int[] pipe() throws Errno {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            MemorySegment state = arena.allocate(Native.CAPTURE);
            int rc = (int) Fds.PIPE2.invokeExact(state, fds, O_CLOEXEC);
            if (rc != 0) throw new Errno("pipe2", errno(state));
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** read(2) into buf; returns bytes read, 0 at end of file, -1 when a non-blocking descriptor has nothing. */
    public static int read(int fd, MemorySegment buf, MemorySegment state) throws Errno {
        try {
            while (true) {
                long n = (long) Fds.READ.invokeExact(state, fd, buf, buf.byteSize());
                if (n >= 0) return (int) n;
                int e = errno(state);
                if (e == EAGAIN) return -1;
                if (e != EINTR) throw new Errno("read", e);
            }
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** write(2) once; returns bytes written or -1 when the descriptor is non-blocking and full. */
    public static int write(int fd, MemorySegment buf, long len, MemorySegment state) throws Errno {
        try {
            while (true) {
                long n = (long) Fds.WRITE.invokeExact(state, fd, buf, len);
                if (n >= 0) return (int) n;
                int e = errno(state);
                if (e == EAGAIN) return -1;
                if (e != EINTR) throw new Errno("write", e);
            }
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** poll(2) for one descriptor; returns revents (0 on timeout). */
    public static int poll(int fd, int events, int timeoutMs, MemorySegment pollfd, MemorySegment state) throws Errno {
        pollfd.set(JAVA_INT, 0, fd);
        pollfd.set(JAVA_SHORT, 4, (short) events);
        pollfd.set(JAVA_SHORT, 6, (short) 0);
        try {
            int rc = (int) Fds.POLL.invokeExact(state, pollfd, 1L, timeoutMs);
            if (rc < 0) {
                int e = errno(state);
                if (e == EINTR) return 0;
                throw new Errno("poll", e);
            }
            return rc == 0 ? 0 : pollfd.get(JAVA_SHORT, 6);
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static MemorySegment newCaptureState(Arena arena) {
        return arena.allocate(Native.CAPTURE);
    }

    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) Fds.CLOSE.invokeExact(arena.allocate(Native.CAPTURE), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void setNonBlocking(int fd) throws Errno {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CAPTURE);
            int flags = (int) Fds.FCNTL.invokeExact(state, fd, F_GETFL, 0);
            if (flags < 0) throw new Errno("fcntl", errno(state));
            int rc = (int) Fds.FCNTL.invokeExact(state, fd, F_SETFL, flags | O_NONBLOCK);
            if (rc < 0) throw new Errno("fcntl", errno(state));
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // --- children and signals ---

    /** A reaped child: its pid and raw wait status. */
    public record Reaped(int pid, int status) {
        public boolean exited() { return (status & 0x7f) == 0; }
        public int exitCode() { return (status >> 8) & 0xff; }
        public int termSignal() { return status & 0x7f; }
    }

    /** Blocks until any child ends; null when there is no child at all (ECHILD). */
    public static Reaped waitAny() throws Errno {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(JAVA_INT);
            MemorySegment state = arena.allocate(Native.CAPTURE);
            while (true) {
                int pid = (int) Children.WAITPID.invokeExact(state, -1, status, 0);
                if (pid > 0) return new Reaped(pid, status.get(JAVA_INT, 0));
                int e = errno(state);
                if (e == ECHILD) return null;
                if (e != EINTR) throw new Errno("waitpid", e);
            }
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** kill(2); returns false when no such process (group) exists. */
    public static boolean kill(int pid, int signal) throws Errno {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CAPTURE);
            int rc = (int) Children.KILL.invokeExact(state, pid, signal);
            if (rc == 0) return true;
            int e = errno(state);
            if (e == ESRCH) return false;
            throw new Errno("kill", e);
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int getpid() {
        try { return (int) Ids.GETPID.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    /**
     * Links every group of handles now. envd calls this in the background once it is
     * listening, so the first command does not pay for linking either.
     */
    public static void link() {
        for (Class<?> group : new Class<?>[] {Spawn.class, Fds.class, Children.class, Terminals.class, Owners.class, Inotify.class}) {
            try {
                Class.forName(group.getName(), true, LibC.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Whether this process runs as root (effective uid 0), read from /proc without any downcall. */
    public static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) return line.split("\\s+")[2].equals("0");
            }
        } catch (IOException ignored) {
            // no /proc: ask libc below
        }
        return geteuid() == 0;
    }

    public static int geteuid() {
        try { return (int) Ids.GETUID.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    // --- terminals ---

    /** A new pseudo-terminal: the master descriptor and the slave's path. */
    public record Pty(int master, String slavePath) {}

    public static Pty openPty() throws Errno {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CAPTURE);
            int master = (int) Terminals.POSIX_OPENPT.invokeExact(state, O_RDWR | O_NOCTTY | O_CLOEXEC);
            if (master < 0) throw new Errno("posix_openpt", errno(state));
            try {
                if ((int) Terminals.GRANTPT.invokeExact(state, master) != 0) throw new Errno("grantpt", errno(state));
                if ((int) Terminals.UNLOCKPT.invokeExact(state, master) != 0) throw new Errno("unlockpt", errno(state));
                MemorySegment name = arena.allocate(128);
                int rc = (int) Terminals.PTSNAME_R.invokeExact(master, name, 128L);
                if (rc != 0) throw new Errno("ptsname_r", rc);
                return new Pty(master, name.getString(0));
            } catch (Errno e) {
                close(master);
                throw e;
            }
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void setWindowSize(int fd, int cols, int rows) throws Errno {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = arena.allocate(8, 2);
            ws.set(JAVA_SHORT, 0, (short) rows);
            ws.set(JAVA_SHORT, 2, (short) cols);
            MemorySegment state = arena.allocate(Native.CAPTURE);
            int rc = (int) Terminals.IOCTL_PTR.invokeExact(state, fd, TIOCSWINSZ, ws);
            if (rc != 0) throw new Errno("ioctl(TIOCSWINSZ)", errno(state));
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** lchown(2): the JDK's setAttribute("unix:uid") follows links; this does not. */
    public static void lchown(String path, int uid, int gid) throws Errno {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CAPTURE);
            int rc = (int) Owners.LCHOWN.invokeExact(state, arena.allocateFrom(path), uid, gid);
            if (rc != 0) throw new Errno("lchown " + path, errno(state));
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // --- inotify ---

    public static final int IN_MODIFY = 0x2, IN_ATTRIB = 0x4, IN_CLOSE_WRITE = 0x8, IN_MOVED_FROM = 0x40,
            IN_MOVED_TO = 0x80, IN_CREATE = 0x100, IN_DELETE = 0x200, IN_DELETE_SELF = 0x400, IN_MOVE_SELF = 0x800,
            IN_Q_OVERFLOW = 0x4000, IN_IGNORED = 0x8000, IN_ONLYDIR = 0x1000000, IN_DONT_FOLLOW = 0x2000000,
            IN_ISDIR = 0x40000000;

    public static int inotifyInit() throws Errno {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CAPTURE);
            int fd = (int) Inotify.INOTIFY_INIT1.invokeExact(state, O_CLOEXEC | O_NONBLOCK);
            if (fd < 0) throw new Errno("inotify_init1", errno(state));
            return fd;
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int inotifyAddWatch(int fd, String path, int mask) throws Errno {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CAPTURE);
            int wd = (int) Inotify.INOTIFY_ADD_WATCH.invokeExact(state, fd, arena.allocateFrom(path), mask);
            if (wd < 0) throw new Errno("inotify_add_watch " + path, errno(state));
            return wd;
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
