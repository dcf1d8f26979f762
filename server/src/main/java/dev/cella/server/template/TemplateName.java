package dev.cella.server.template;

import dev.cella.node.problem.Problem;

import java.util.regex.Pattern;

/**
 * What a template may be called, the same whichever dialect names it (E2B's name or alias,
 * Lelantos' alias, Superserve's name): 1 to 128 lowercase letters, digits and . _ / -,
 * beginning and ending with a letter or digit, as a registry repository name is written.
 */
public final class TemplateName {
    public static final int MAX_LENGTH = 128;
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9._/-]*[a-z0-9])?");

    private TemplateName() {}

    /** {@code name} if it may name a template, else {@link Problem.Invalid} naming the request's {@code field}. */
    public static String check(String field, String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_LENGTH || !NAME.matcher(name).matches()) {
            throw new Problem.Invalid(field + " must be 1 to " + MAX_LENGTH
                    + " of lowercase letters, digits and . _ / -, beginning and ending with a letter or digit");
        }
        return name;
    }
}
