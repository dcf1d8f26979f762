package dev.cella.server.template;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Tag("unit")
class TemplateStatusTest {
    @Test
    void aTemplateThatBuiltOnceStaysReadyWhateverLaterBuildsDo() {
        for (BuildStatus ended : new BuildStatus[] {BuildStatus.READY, BuildStatus.FAILED, BuildStatus.CANCELLED}) {
            assertThat(TemplateStatus.afterBuild(ended, true)).as(ended.name()).isEqualTo(TemplateStatus.READY);
        }
    }

    @Test
    void aFirstBuildGivesItsOutcome() {
        assertThat(TemplateStatus.afterBuild(BuildStatus.READY, false)).isEqualTo(TemplateStatus.READY);
        assertThat(TemplateStatus.afterBuild(BuildStatus.FAILED, false)).isEqualTo(TemplateStatus.FAILED);
        assertThat(TemplateStatus.afterBuild(BuildStatus.CANCELLED, false)).isEqualTo(TemplateStatus.FAILED);
        assertThatThrownBy(() -> TemplateStatus.afterBuild(BuildStatus.BUILDING, false)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void superserveKnowsBuildingReadyAndFailedOnly() {
        assertThat(TemplateStatus.WAITING.superserve()).isEqualTo("building");
        assertThat(TemplateStatus.BUILDING.superserve()).isEqualTo("building");
        assertThat(TemplateStatus.READY.superserve()).isEqualTo("ready");
        assertThat(TemplateStatus.FAILED.superserve()).isEqualTo("failed");
    }

    @Test
    void storedAsTheLowercaseName() {
        for (TemplateStatus s : TemplateStatus.values()) assertThat(TemplateStatus.of(s.db())).isEqualTo(s);
        for (TemplateType t : TemplateType.values()) assertThat(TemplateType.of(t.db())).isEqualTo(t);
        assertThat(TemplateStatus.READY.db()).isEqualTo("ready");
        assertThat(TemplateType.SNAPSHOT.db()).isEqualTo("snapshot");
        assertThat(TemplateType.BUILD.db()).isEqualTo("build");
    }

    @Test
    void theWrennDialectKnowsBaseAndSnapshotOnly() {
        for (TemplateType t : TemplateType.values()) assertThat(t.wrenn()).isEqualTo("snapshot");
    }
}
