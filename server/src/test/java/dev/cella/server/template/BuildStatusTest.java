package dev.cella.server.template;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

@Tag("unit")
class BuildStatusTest {
    @Test
    void eachStatusIsStoredLowercaseAndReadBack() {
        for (BuildStatus s : BuildStatus.values()) assertThat(BuildStatus.of(s.db())).isEqualTo(s);
        assertThat(BuildStatus.CANCELLED.db()).isEqualTo("cancelled");
    }

    @Test
    void eachDialectSeesItsOwnWords() {
        assertThat(BuildStatus.FAILED.e2b()).isEqualTo("error");
        assertThat(BuildStatus.CANCELLED.e2b()).isEqualTo("error");
        assertThat(BuildStatus.WAITING.e2b()).isEqualTo("waiting");
        assertThat(BuildStatus.WAITING.superserve()).isEqualTo("building");
        assertThat(BuildStatus.CANCELLED.superserve()).isEqualTo("failed");
        assertThat(BuildStatus.READY.superserve()).isEqualTo("ready");
        assertThat(BuildStatus.READY.finished()).isTrue();
        assertThat(BuildStatus.BUILDING.finished()).isFalse();
    }
}
