package dev.cella.server;

import dev.cella.node.cli.Options;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The server's settings: the defaults of an empty command line, and the refusals. Needs no root. */
@Tag("unit")
class ServerSettingsTest {

    static ServerSettings settings(String... args) {
        return ServerSettings.from(Options.parse("cella up", args, ServerSettings.OPTIONS));
    }

    @Test
    void anEmptyCommandLineGivesTheDefaults() {
        ServerSettings s = settings();
        assertThat(s.dataDir()).isEqualTo(Path.of("/var/lib/cella"));
        assertThat(s.host()).isEqualTo("127.0.0.1");
        assertThat(s.port()).isEqualTo(3000);
        assertThat(s.dbUrl()).isNull();
        assertThat(s.rateLimit()).isEqualTo(200);
        assertThat(s.maxUploadBytes()).isEqualTo(10240L << 20);
        assertThat(s.ptyIdle()).isEqualTo(Duration.ofSeconds(120));
        assertThat(s.readyTimeout()).isEqualTo(Duration.ofSeconds(120));
        assertThat(s.concurrentBuilds()).isEqualTo(2);
        assertThat(s.publicUrl()).isNull();
    }

    @Test
    void githubSignInNeedsBothHalvesOfItsApp() {
        assertThat(settings("--github-client-id", "id", "--github-client-secret", "secret").github())
                .isEqualTo(new ServerSettings.Github("id", "secret", "https://github.com", "https://api.github.com"));
        if (System.getenv("CELLA_GITHUB_CLIENT_SECRET") == null) {
            assertThatThrownBy(() -> settings("--github-client-id", "id")).isInstanceOf(Options.Invalid.class)
                    .hasMessageContaining("--github-client-secret");
        }
    }

    @Test
    void badValuesAreRefusedByName() {
        assertThatThrownBy(() -> settings("--port", "65535")).isInstanceOf(Options.Invalid.class)
                .hasMessageContaining("--port takes a number from 0 to 65534"); // the proxy takes the next port
        assertThatThrownBy(() -> settings("--rate-limit", "0")).isInstanceOf(Options.Invalid.class).hasMessageContaining("--rate-limit");
        assertThatThrownBy(() -> settings("--pool-size", "4")).isInstanceOf(Options.Invalid.class)
                .hasMessageContaining("unknown option --pool-size"); // a node's option: cella up takes it, cella server not
    }
}
