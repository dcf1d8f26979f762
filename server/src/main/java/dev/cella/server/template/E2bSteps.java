package dev.cella.server.template;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * E2B's template build (the SDK's {@code Template.build}, TemplateBuildStartV2):
 * {@code {fromTemplate | fromImage, steps: [{type, args, filesHash}], startCmd, readyCmd}}
 * read into the one {@link BuildSpec} every dialect builds with, beside {@link Dockerfile}
 * (Lelantos) and {@link BuildSpec#parse} (Superserve). Malformed input is an
 * IllegalArgumentException naming the step, as theirs is.
 */
public final class E2bSteps {
    private E2bSteps() {}

    public static BuildSpec parse(JsonNode b) {
        String from;
        if (b.hasNonNull("fromTemplate")) from = b.get("fromTemplate").asText();
        else if (b.hasNonNull("fromImage")) from = b.get("fromImage").asText(); // an image reference: the engine pulls it
        else throw new IllegalArgumentException("fromTemplate or fromImage is required");
        List<BuildSpec.Step> steps = new ArrayList<>();
        int i = 0;
        for (JsonNode s : b.path("steps")) {
            i++;
            List<String> args = new ArrayList<>();
            s.path("args").forEach(a -> args.add(a.asText()));
            String type = s.path("type").asText("");
            switch (type) {
                case "RUN" -> {
                    if (args.isEmpty()) throw new IllegalArgumentException("step " + i + ": RUN needs a command");
                    steps.add(new BuildSpec.Run(args.get(0), null, args.size() > 1 && !args.get(1).isBlank() ? args.get(1) : null));
                }
                case "ENV" -> {
                    Map<String, String> vars = new LinkedHashMap<>();
                    for (int k = 0; k + 1 < args.size(); k += 2) vars.put(args.get(k), args.get(k + 1));
                    steps.add(new BuildSpec.Env(vars));
                }
                case "WORKDIR" -> steps.add(new BuildSpec.Workdir(first(args, i, type)));
                case "USER" -> steps.add(new BuildSpec.User(first(args, i, type)));
                case "COPY" -> {
                    if (args.size() < 2 || !s.hasNonNull("filesHash")) {
                        throw new IllegalArgumentException("step " + i + ": COPY needs src, dest and filesHash");
                    }
                    steps.add(new BuildSpec.Copy(s.get("filesHash").asText(), args.get(0), args.get(1),
                            args.size() > 2 && !args.get(2).isBlank() ? args.get(2) : null,
                            args.size() > 3 && !args.get(3).isBlank() ? args.get(3) : null));
                }
                default -> throw new IllegalArgumentException("step " + i + ": unknown type '" + type + "'");
            }
        }
        return new BuildSpec(from, steps, text(b, "startCmd"), text(b, "readyCmd"));
    }

    /** A WORKDIR's or USER's one argument (an empty one answered 500 before: a missing element). */
    private static String first(List<String> args, int step, String type) {
        if (args.isEmpty() || args.getFirst().isBlank()) throw new IllegalArgumentException("step " + step + ": " + type + " needs an argument");
        return args.getFirst();
    }

    private static String text(JsonNode b, String field) {
        return b.hasNonNull(field) && !b.get(field).asText().isBlank() ? b.get(field).asText() : null;
    }
}
