package dev.cella.server.template;

import dev.cella.server.Digests;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * What a build will do, worked out before anything runs: the layer each step that changes
 * files (RUN, COPY) makes, named by everything that made it (the template built on, every
 * step before it, the variables, directory and user it runs with), so that a layer another
 * build made the same way is taken instead of made again; and the state the template ends
 * in. Pure: no node, no sandbox, no database.
 *
 * @param steps the RUN and COPY steps, in order, each with the layer it makes
 * @param last  the variables, working directory and user after the last step
 */
public record BuildPlan(List<Planned> steps, State last) {

    /** What a step runs with: its variables, working directory and user. */
    public record State(Map<String, String> env, String workdir, String user) {}

    /** One step that changes files: its number, the state it runs in, the layer it makes. */
    public record Planned(int index, BuildSpec.Step step, State state, String layer) {
        public String describe() {
            return switch (step) {
                case BuildSpec.Run r -> "RUN " + r.cmd();
                case BuildSpec.Copy c -> "COPY " + c.src() + " " + c.dest();
                default -> step.toString();
            };
        }
    }

    /** A step that cannot be planned (a COPY whose files were never uploaded). */
    public static final class Unplannable extends RuntimeException {
        Unplannable(String message) {
            super(message);
        }
    }

    /**
     * @param fromTemplate the template built on (its own layer names the start)
     * @param start        the state the template built on ends in
     * @param forceFrom    the first step that must be made anew (a "force" in E2B's steps), -1 for none
     * @param forceToken   what makes the forced names new (the build's id)
     * @param uploaded     whether a COPY's files (by their hash) were uploaded
     */
    public static BuildPlan of(String fromTemplate, State start, BuildSpec spec, int forceFrom, String forceToken,
                               Predicate<String> uploaded) {
        String key = "from:" + fromTemplate;
        State state = start;
        List<Planned> plan = new ArrayList<>();
        for (int i = 0; i < spec.steps().size(); i++) {
            if (i == forceFrom) key = key + "\nforced by " + forceToken; // new names from here: nothing below is reused
            switch (spec.steps().get(i)) {
                case BuildSpec.Run r -> {
                    key = Digests.sha256Hex(key + "\n" + i + "\n" + new BuildSpec("", List.of(r), null, null).toJson() + "\n"
                            + new TreeMap<>(state.env()) + "\n" + state.workdir() + "\n" + state.user());
                    plan.add(new Planned(i, r, state, Templates.LAYER_PREFIX + key.substring(0, 40)));
                }
                case BuildSpec.Copy c -> { // the files' hash names their content: a changed file is a new layer
                    if (!uploaded.test(c.filesHash())) {
                        throw new Unplannable("step " + (i + 1) + " (COPY " + c.src() + "): its files were not uploaded");
                    }
                    key = Digests.sha256Hex(key + "\n" + i + "\n" + new BuildSpec("", List.of(c), null, null).toJson() + "\n"
                            + state.workdir() + "\n" + state.user());
                    plan.add(new Planned(i, c, state, Templates.LAYER_PREFIX + key.substring(0, 40)));
                }
                case BuildSpec.Env e -> {
                    Map<String, String> env = new LinkedHashMap<>(state.env());
                    env.putAll(e.vars());
                    state = new State(env, state.workdir(), state.user());
                }
                case BuildSpec.Workdir w -> state = new State(state.env(), w.path(), state.user());
                case BuildSpec.User u -> state = new State(state.env(), state.workdir(), u.name());
            }
        }
        return new BuildPlan(List.copyOf(plan), state);
    }

    /** How many steps from the start are made already (their layers are on the node): those are taken, not run. */
    public int cached(Predicate<String> present) {
        int first = 0;
        while (first < steps.size() && present.test(steps.get(first).layer())) first++;
        return first;
    }

    /**
     * The small last layer that makes the working directory exist, named by the layer under
     * it and the directory; null when the template has no working directory.
     */
    public String workdirLayer(String fromTemplate) {
        if (last.workdir() == null) return null;
        String top = steps.isEmpty() ? fromTemplate : steps.getLast().layer();
        return Templates.LAYER_PREFIX + Digests.sha256Hex(top + "\nworkdir\n" + last.workdir()).substring(0, 40);
    }
}
