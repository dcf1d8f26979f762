package dev.cella.server.template;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A build's plan: which layers it makes and which names stay the same between builds. Needs no root. */
@Tag("unit")
class BuildPlanTest {
    static final BuildPlan.State START = new BuildPlan.State(Map.of("PATH", "/usr/bin"), null, "user");

    static BuildSpec spec(BuildSpec.Step... steps) {
        return new BuildSpec("base", List.of(steps), null, null);
    }

    static BuildPlan plan(BuildSpec spec) {
        return BuildPlan.of("base", START, spec, -1, "build-1", hash -> true);
    }

    static List<String> layers(BuildPlan p) {
        return p.steps().stream().map(BuildPlan.Planned::layer).toList();
    }

    static BuildSpec.Run run(String cmd) {
        return new BuildSpec.Run(cmd, null, null);
    }

    @Test
    void onlyStepsThatChangeFilesMakeLayersAndTheOthersSetTheirState() {
        BuildPlan p = plan(spec(new BuildSpec.Env(Map.of("A", "1")), run("make"), new BuildSpec.Workdir("/app"),
                new BuildSpec.User("root"), run("make install")));
        assertThat(p.steps()).extracting(BuildPlan.Planned::index).containsExactly(1, 4);
        assertThat(p.steps().getFirst().state().env()).containsEntry("A", "1").containsEntry("PATH", "/usr/bin");
        assertThat(p.steps().get(1).state()).extracting(BuildPlan.State::workdir, BuildPlan.State::user).containsExactly("/app", "root");
        assertThat(p.last().workdir()).isEqualTo("/app");
        assertThat(layers(p)).allMatch(l -> l.startsWith(Templates.LAYER_PREFIX) && l.length() == Templates.LAYER_PREFIX.length() + 40);
    }

    @Test
    void theSameStepsMakeTheSameNamesAndAChangeRenamesItsStepAndAllAfter() {
        List<String> first = layers(plan(spec(run("a"), run("b"), run("c"))));
        assertThat(layers(plan(spec(run("a"), run("b"), run("c"))))).isEqualTo(first);
        List<String> changed = layers(plan(spec(run("a"), run("B"), run("c"))));
        assertThat(changed.getFirst()).isEqualTo(first.getFirst());
        assertThat(changed.get(1)).isNotEqualTo(first.get(1));
        assertThat(changed.get(2)).as("a layer stands on all before it").isNotEqualTo(first.get(2));
        // a variable set before a RUN is part of its name; the order variables were set in is not
        List<String> withX = layers(plan(spec(new BuildSpec.Env(Map.of("X", "1")), run("a"))));
        assertThat(withX).isNotEqualTo(layers(plan(spec(run("a")))));
        List<String> xThenY = layers(plan(spec(new BuildSpec.Env(Map.of("X", "1")), new BuildSpec.Env(Map.of("Y", "2")), run("a"))));
        List<String> yThenX = layers(plan(spec(new BuildSpec.Env(Map.of("Y", "2")), new BuildSpec.Env(Map.of("X", "1")), run("a"))));
        assertThat(xThenY).isEqualTo(yThenX);
    }

    @Test
    void anotherBaseTemplateRenamesEverything() {
        BuildPlan other = BuildPlan.of("python", START, spec(run("a")), -1, "build-1", hash -> true);
        assertThat(layers(other)).doesNotContainAnyElementsOf(layers(plan(spec(run("a")))));
    }

    @Test
    void aForcedStepAndAllAfterItGetNewNamesPerBuild() {
        BuildSpec s = spec(run("a"), run("b"), run("c"));
        List<String> normal = layers(plan(s));
        List<String> forced = layers(BuildPlan.of("base", START, s, 1, "build-2", hash -> true));
        assertThat(forced.getFirst()).isEqualTo(normal.getFirst());
        assertThat(forced.subList(1, 3)).doesNotContainAnyElementsOf(normal);
        assertThat(layers(BuildPlan.of("base", START, s, 1, "build-3", hash -> true)).get(1)).isNotEqualTo(forced.get(1));
    }

    @Test
    void aCopyIsNamedByItsFilesAndNeedsThemUploaded() {
        BuildSpec.Copy one = new BuildSpec.Copy("hash1", "src", "/app/", null, null);
        BuildSpec.Copy two = new BuildSpec.Copy("hash2", "src", "/app/", null, null);
        assertThat(layers(plan(spec(one)))).isNotEqualTo(layers(plan(spec(two))));
        assertThatThrownBy(() -> BuildPlan.of("base", START, spec(run("a"), one), -1, "b", hash -> false))
                .isInstanceOf(BuildPlan.Unplannable.class).hasMessageContaining("step 2 (COPY src)");
    }

    @Test
    void theStepsAlreadyMadeAreTakenFromTheStartOnly() {
        BuildPlan p = plan(spec(run("a"), run("b"), run("c")));
        List<String> l = layers(p);
        assertThat(p.cached(Set.of(l.get(0), l.get(1))::contains)).isEqualTo(2);
        assertThat(p.cached(Set.of(l.get(1), l.get(2))::contains)).as("a layer is only taken on the ones before it").isZero();
    }

    @Test
    void theWorkingDirectoryGetsItsOwnSmallLayerNamedByWhatIsUnderIt() {
        assertThat(plan(spec(run("a"))).workdirLayer("base")).isNull();
        BuildPlan p = plan(spec(run("a"), new BuildSpec.Workdir("/app")));
        assertThat(p.workdirLayer("base")).startsWith(Templates.LAYER_PREFIX).isNotIn(layers(p));
        assertThat(plan(spec(run("b"), new BuildSpec.Workdir("/app"))).workdirLayer("base")).isNotEqualTo(p.workdirLayer("base"));
    }
}
