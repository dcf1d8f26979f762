package dev.cella.envd.linux;

/**
 * The machine architectures envd runs on, with what differs between them in the calls envd
 * makes itself. Everything else envd calls goes through glibc, whose constants (open flags,
 * errno values, poll events, TIOCSWINSZ, posix_spawn flags) are the same on both.
 *
 * <p>Raw syscall numbers are where they part: x86_64 keeps its historic table, aarch64 the
 * generic one ({@code asm-generic/unistd.h}).
 */
public enum Arch {
    X86_64(116, 117, 119),
    AARCH64(159, 147, 149);

    public final long sysSetgroups, sysSetresuid, sysSetresgid;

    Arch(long sysSetgroups, long sysSetresuid, long sysSetresgid) {
        this.sysSetgroups = sysSetgroups;
        this.sysSetresuid = sysSetresuid;
        this.sysSetresgid = sysSetresgid;
    }

    /** The architecture of a JVM's {@code os.arch}; any other is refused with a message that says so. */
    public static Arch of(String osArch) {
        return switch (osArch == null ? "" : osArch) {
            case "amd64", "x86_64" -> X86_64;
            case "aarch64", "arm64" -> AARCH64;
            default -> throw new UnsupportedOperationException("envd runs on x86_64 and aarch64 Linux, not on '" + osArch
                    + "': its raw syscall numbers are known for those two only");
        };
    }

    /** This machine's. */
    public static Arch current() {
        return of(System.getProperty("os.arch"));
    }
}
