package dev.cella.envd.log;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

@Tag("unit")
class LineLoggerTest {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final LineLogger log = new LineLogger("dev.cella.envd.Envd", Level.INFO, new PrintStream(bytes, true, StandardCharsets.UTF_8));

    String written() { return bytes.toString(StandardCharsets.UTF_8); }

    @Test
    void writesLogbacksDefaultLayoutWithTheArgumentsFilledIn() {
        log.info("envd {} listening on {}:{}", "0.6.4", "0.0.0.0", 49983);
        assertThat(written()).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\[[^\\]]+\\] INFO dev\\.cella\\.envd\\.Envd -- envd 0\\.6\\.4 listening on 0\\.0\\.0\\.0:49983\n");
    }

    @Test
    void dropsWhatIsBelowItsThreshold() {
        log.debug("not {}", "shown");
        log.trace("nor this");
        log.warn("shown");
        assertThat(log.isDebugEnabled()).isFalse();
        assertThat(log.isWarnEnabled()).isTrue();
        assertThat(written()).doesNotContain("not").endsWith("WARN dev.cella.envd.Envd -- shown\n");
    }

    @Test
    void aTrailingThrowableIsPrintedWithItsStackTrace() {
        log.warn("warm-up failed: {}", "link", new IllegalStateException("no libc"));
        assertThat(written()).contains("-- warm-up failed: link\njava.lang.IllegalStateException: no libc\n\tat ");
    }

    @Test
    void aLoneThrowableArgumentIsPrintedAsTheThrowable() {
        log.error("linking failed", (Object) new IllegalStateException("no libc"));
        log.info("failed: {}", (Object) new IllegalStateException("shown as text"));
        assertThat(written()).contains("-- linking failed\njava.lang.IllegalStateException: no libc\n\tat ")
                .contains("-- failed: java.lang.IllegalStateException: shown as text\n");
    }

    @Test
    void theThresholdComesFromAPropertyAndFallsBackToInfo() {
        String before = System.getProperty("envd.log.level");
        try {
            System.setProperty("envd.log.level", "debug");
            assertThat(LineLogger.threshold()).isEqualTo(Level.DEBUG);
            System.setProperty("envd.log.level", "loud");
            assertThat(LineLogger.threshold()).isEqualTo(Level.INFO);
        } finally {
            if (before == null) System.clearProperty("envd.log.level"); else System.setProperty("envd.log.level", before);
        }
    }

    @Test
    void theProviderGivesOneLoggerPerName() {
        var provider = new EnvdLogging();
        provider.initialize();
        assertThat(provider.getLoggerFactory().getLogger("a")).isSameAs(provider.getLoggerFactory().getLogger("a"))
                .isNotSameAs(provider.getLoggerFactory().getLogger("b"));
        assertThat(provider.getLoggerFactory().getLogger("a").getName()).isEqualTo("a");
    }
}
