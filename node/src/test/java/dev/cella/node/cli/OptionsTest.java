package dev.cella.node.cli;

import dev.cella.node.NodeMain;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Command lines: what is valid is read, what is not is refused with a message that names it. Needs no root. */
@Tag("unit")
class OptionsTest {
    static final Set<String> KNOWN = Set.of("api", "port", "template", "pool", "name");

    static Options parse(String... args) {
        return Options.parse("cella test", args, KNOWN);
    }

    @Test
    void readsValuesInBothFormsAndKeepsRepeatedOnes() {
        Options o = parse("--name", "a", "--template", "base=/r1", "--template=py=/r2", "--name=b");
        assertThat(o.get("name", null)).isEqualTo("b"); // the last one wins
        assertThat(o.assignments("template", "ROOTFS")).containsExactly(Map.entry("base", "/r1"), Map.entry("py", "/r2"));
        assertThat(o.get("port", "3000")).isEqualTo("3000");
    }

    @Test
    void anUnknownOptionIsRefusedWithTheKnownOnes() {
        assertThatThrownBy(() -> parse("--nmae", "x")).isInstanceOf(Options.Invalid.class)
                .hasMessageStartingWith("cella test: unknown option --nmae").hasMessageContaining("--name");
        assertThatThrownBy(() -> parse("stray")).isInstanceOf(Options.Invalid.class).hasMessageContaining("'stray'");
    }

    @Test
    void anOptionWithoutItsValueIsRefused() {
        assertThatThrownBy(() -> parse("--name")).isInstanceOf(Options.Invalid.class).hasMessageContaining("--name needs a value");
        assertThatThrownBy(() -> parse("--name", "--port", "1")).isInstanceOf(Options.Invalid.class)
                .hasMessageContaining("--name needs a value");
    }

    @Test
    void numbersAreCheckedForFormAndRange() {
        assertThat(parse("--port", "8080").integer("port", 1, 0, 65535)).isEqualTo(8080);
        assertThatThrownBy(() -> parse("--port", "80x").integer("port", 1, 0, 65535)).isInstanceOf(Options.Invalid.class)
                .hasMessageContaining("--port takes a number, not '80x'");
        assertThatThrownBy(() -> parse("--port", "70000").integer("port", 1, 0, 65535)).isInstanceOf(Options.Invalid.class)
                .hasMessageContaining("from 0 to 65535, not 70000");
    }

    @Test
    void hostAndPortMustBothBeThere() {
        assertThat(parse("--api", "10.0.0.5:7301").hostPort("api", null)).isEqualTo(new Options.HostPort("10.0.0.5", 7301));
        assertThat(parse("--api", "[::1]:7301").hostPort("api", null)).isEqualTo(new Options.HostPort("::1", 7301));
        assertThat(parse().hostPort("api", new Options.HostPort("127.0.0.1", 7301)).port()).isEqualTo(7301);
        for (String bad : new String[] {"host", "host:", ":7301", "host:x", "host:99999", "host:-1"}) {
            assertThatThrownBy(() -> parse("--api", bad).hostPort("api", null)).as(bad).isInstanceOf(Options.Invalid.class)
                    .hasMessageContaining("--api takes HOST:PORT").hasMessageContaining("'" + bad + "'");
        }
    }

    @Test
    void assignmentsNeedAnIdAndAValue() {
        for (String bad : new String[] {"base", "=/r", "base="}) {
            assertThatThrownBy(() -> parse("--template", bad).assignments("template", "ROOTFS")).as(bad)
                    .isInstanceOf(Options.Invalid.class).hasMessageContaining("--template takes ID=ROOTFS");
        }
        assertThat(parse("--pool", "base=8").numberedAssignments("pool", 0, 1000)).containsExactly(Map.entry("base", 8));
        assertThatThrownBy(() -> parse("--pool", "base=x").numberedAssignments("pool", 0, 1000)).isInstanceOf(Options.Invalid.class)
                .hasMessageContaining("--pool takes ID=N");
        assertThatThrownBy(() -> parse("--pool", "base=5000").numberedAssignments("pool", 0, 1000)).isInstanceOf(Options.Invalid.class)
                .hasMessageContaining("from 0 to 1000");
    }

    @Test
    void aNodeCommandLineBecomesItsSettingsOrAMessage() throws Exception {
        Path state = Files.createTempDirectory("cella-options");
        var config = NodeMain.config(Options.parse("cella node", new String[] {"--state-dir", state.toString(), "--api", "0.0.0.0:9301",
                "--envd-runtime", "/opt/envd", "--template", "base=/r", "--pool-size", "0", "--pool", "base=2",
                "--registry-allow", "127.0.0.1:5000", "--registry-allow", "registry.lan"}, NodeMain.OPTIONS));
        assertThat(config.registryAllow()).containsExactlyInAnyOrder("127.0.0.1:5000", "registry.lan");
        assertThat(config.apiHost()).isEqualTo("0.0.0.0");
        assertThat(config.apiPort()).isEqualTo(9301);
        assertThat(config.proxyPort()).isEqualTo(7302);
        assertThat(config.templates()).containsEntry("base", Path.of("/r"));
        assertThat(config.pool().size()).isZero();
        assertThat(config.pool().sizes()).containsEntry("base", 2);
        assertThat(config.subnetOctet()).isEqualTo(231);
        assertThat(Files.readString(state.resolve("node-token")).trim()).hasSize(48);

        // `--api host` threw ArrayIndexOutOfBoundsException before
        assertThatThrownBy(() -> NodeMain.config(Options.parse("cella node", new String[] {"--state-dir", state.toString(),
                "--api", "host", "--envd-runtime", "/opt/envd"}, NodeMain.OPTIONS)))
                .isInstanceOf(Options.Invalid.class).hasMessage("cella node: --api takes HOST:PORT (such as 127.0.0.1:7301), not 'host'");
        assertThatThrownBy(() -> NodeMain.config(Options.parse("cella node", new String[] {"--state-dir", state.toString(),
                "--envd-runtime", "/opt/envd", "--registry-allow", "http://x/"}, NodeMain.OPTIONS)))
                .isInstanceOf(Options.Invalid.class).hasMessageContaining("--registry-allow takes HOST or HOST:PORT");
        assertThatThrownBy(() -> NodeMain.config(Options.parse("cella node", new String[] {"--state-dir", state.toString()}, NodeMain.OPTIONS)))
                .isInstanceOf(Options.Invalid.class).hasMessageContaining("--envd-runtime is required");
        assertThatThrownBy(() -> NodeMain.config(Options.parse("cella node", new String[] {"--state-dir", state.toString(),
                "--envd-runtime", "/opt/envd", "--pool-size", "x"}, NodeMain.OPTIONS)))
                .isInstanceOf(Options.Invalid.class).hasMessageContaining("--pool-size takes a number");
    }
}
