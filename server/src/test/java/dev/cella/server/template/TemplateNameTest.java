package dev.cella.server.template;

import dev.cella.node.problem.Problem;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One rule for a template's name in every dialect (E2B name, Lelantos alias, Superserve name). */
@Tag("unit")
class TemplateNameTest {
    @Test
    void namesWrittenAsRegistryRepositoriesAreTaken() {
        for (String ok : new String[] {"a", "python-3.12", "team/app_v2", "x".repeat(128)}) {
            assertThat(TemplateName.check("name", ok)).isEqualTo(ok);
        }
    }

    @Test
    void anythingElseIsRefusedNamingTheField() {
        for (String bad : new String[] {"", "Upper", "-lead", "trail/", "sp ace", "x".repeat(129), "ünï"}) {
            assertThatThrownBy(() -> TemplateName.check("alias", bad)).as(bad).isInstanceOf(Problem.Invalid.class)
                    .hasMessageStartingWith("alias must be 1 to 128 of lowercase letters");
        }
        assertThatThrownBy(() -> TemplateName.check("name", null)).isInstanceOf(Problem.Invalid.class);
    }
}
