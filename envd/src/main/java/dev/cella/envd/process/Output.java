package dev.cella.envd.process;

/** Which stream a chunk of a process's output came from; names are the proto field names. */
public enum Output {
    STDOUT("stdout"), STDERR("stderr"), PTY("pty");

    public final String field;

    Output(String field) {
        this.field = field;
    }
}
