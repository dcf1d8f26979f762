package dev.cella.protocol.envd;

/** The facts of envd's protocol every side must agree on. */
public final class EnvdProtocol {
    private EnvdProtocol() {}

    /**
     * The envd version envd reports and the API gives clients ({@code envdVersion}). The E2B
     * SDK gates features on it (0.3.0 stdin, 0.4.0 the default user, 0.5.7 octet-stream
     * uploads, 0.6.2 file metadata, 0.6.3 watch events with their entry), so it may name a
     * release only when everything up to it works here.
     */
    public static final String VERSION = "0.6.4";

    /** The port envd listens on in every sandbox. */
    public static final int PORT = 49983;
}
