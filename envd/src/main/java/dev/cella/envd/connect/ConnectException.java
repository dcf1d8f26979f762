package dev.cella.envd.connect;

/** An RPC failure with the Connect code the client will see. */
public class ConnectException extends RuntimeException {
    public final ConnectCode code;

    public ConnectException(ConnectCode code, String message) {
        super(message);
        this.code = code;
    }

    public static ConnectException notFound(String message) { return new ConnectException(ConnectCode.NOT_FOUND, message); }
    public static ConnectException invalid(String message) { return new ConnectException(ConnectCode.INVALID_ARGUMENT, message); }
    public static ConnectException internal(String message) { return new ConnectException(ConnectCode.INTERNAL, message); }
}
