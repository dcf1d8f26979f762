package dev.cella.node.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.envd.EnvdRuntime;
import dev.cella.node.net.SandboxAddress;
import dev.cella.node.sandbox.SandboxSpec;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The OCI config a sandbox's container is created from (no root: nothing is started). */
@Tag("unit")
class OciConfigTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode config(Path envdDir, boolean pooled) throws IOException {
        Files.writeString(envdDir.resolve("envd.args"), "-Xmx64m\n");
        Files.createDirectories(envdDir.resolve("glibc"));
        Files.writeString(envdDir.resolve("glibc/ld.so"), "");
        SandboxSpec spec = new SandboxSpec("sb1", "base", Path.of("/templates/base"), 3, 768, 2048, 200, true,
                Map.of(), Map.of(), null, "user", null, null);
        return OciConfig.build(JSON, spec, SandboxAddress.of(5, "sb1", 231), Path.of("/run/cella/sb1/root"),
                new EnvdRuntime(envdDir), "/cella/sb1", pooled);
    }

    static List<String> args(JsonNode c) {
        List<String> out = new ArrayList<>();
        c.path("process").path("args").forEach(a -> out.add(a.asText()));
        return out;
    }

    @Test
    void aSandboxGetsItsLimitsItsNetworkAndNoNewPrivileges(@TempDir Path envd) throws IOException {
        JsonNode c = config(envd, false);
        JsonNode res = c.path("linux").path("resources");
        assertThat(res.path("cpu").path("quota").asLong()).isEqualTo(300_000L);
        assertThat(res.path("cpu").path("period").asLong()).isEqualTo(100_000L);
        assertThat(res.path("cpu").path("shares").asLong()).isEqualTo(OciConfig.CPU_SHARES);
        assertThat(res.path("memory").path("limit").asLong()).isEqualTo(768L << 20);
        assertThat(res.path("memory").path("swap").asLong()).as("no swap beyond memory").isEqualTo(768L << 20);
        assertThat(res.path("pids").path("limit").asInt()).isEqualTo(200);
        assertThat(c.path("hostname").asText()).isEqualTo("sb1");
        assertThat(c.path("process").path("noNewPrivileges").asBoolean()).isTrue();
        assertThat(c.path("linux").path("cgroupsPath").asText()).isEqualTo("/cella/sb1");
        assertThat(c.path("linux").path("namespaces").findValuesAsText("path")).containsExactly("/run/netns/cella-sb1");
        assertThat(c.path("linux").path("seccomp").path("defaultAction").asText()).isNotEmpty();
        assertThat(args(c)).endsWith("dev.cella.envd.Envd", "--port", Integer.toString(EnvdRuntime.PORT))
                .noneMatch(a -> a.startsWith("-XX:CompileThresholdScaling"));
        assertThat(c.path("process").path("env").toString()).as("a UTF-8 locale from envd's runtime: file names beyond ASCII")
                .contains("\"LOCPATH=/.cella/envd/locale\"", "\"LC_CTYPE=C.UTF-8\"");
        // envd starts through the runtime's own loader, named alike on every architecture
        assertThat(args(c)).startsWith("/.cella/envd/glibc/ld.so", "--library-path", "/.cella/envd/glibc", "/.cella/envd/jre/bin/java");
    }

    @Test
    void aRuntimeBuiltBeforeTheLoaderWasNamedLdSoIsRefusedWithAMessage(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("envd.args"), "-Xmx64m\n");
        assertThatThrownBy(() -> new EnvdRuntime(dir)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rebuild it");
    }

    @Test
    void aPooledSandboxYieldsTheCpuAndCompilesEarly(@TempDir Path envd) throws IOException {
        JsonNode c = config(envd, true);
        assertThat(c.path("linux").path("resources").path("cpu").path("shares").asLong()).isEqualTo(OciConfig.BACKGROUND_CPU_SHARES);
        // its JIT thresholds are lowered, so the pool's warm-up compiles envd's request paths
        assertThat(args(c)).contains("-XX:CompileThresholdScaling=0.05");
        assertThat(args(c).indexOf("-XX:CompileThresholdScaling=0.05")).isLessThan(args(c).indexOf("dev.cella.envd.Envd"));
    }
}
