package dev.cella.envd.process;

/**
 * How a process ended, in the words E2B's envd uses (Go's ProcessState): exited with a
 * code ("exit status 1") or killed by a signal ("signal: killed", exit code -1).
 */
public record ExitStatus(int exitCode, boolean exited, String status, String error) {

    public static ExitStatus fromWaitStatus(int waitStatus) {
        if ((waitStatus & 0x7f) == 0) {
            int code = (waitStatus >> 8) & 0xff;
            String status = "exit status " + code;
            return new ExitStatus(code, true, status, code == 0 ? null : status);
        }
        int signal = waitStatus & 0x7f;
        String status = "signal: " + signalName(signal) + ((waitStatus & 0x80) != 0 ? " (core dumped)" : "");
        return new ExitStatus(-1, false, status, status);
    }

    static String signalName(int signal) {
        return switch (signal) {
            case 1 -> "hangup"; case 2 -> "interrupt"; case 3 -> "quit"; case 4 -> "illegal instruction";
            case 5 -> "trace/breakpoint trap"; case 6 -> "aborted"; case 7 -> "bus error";
            case 8 -> "floating point exception"; case 9 -> "killed"; case 10 -> "user defined signal 1";
            case 11 -> "segmentation fault"; case 12 -> "user defined signal 2"; case 13 -> "broken pipe";
            case 14 -> "alarm clock"; case 15 -> "terminated";
            default -> "signal " + signal;
        };
    }
}
