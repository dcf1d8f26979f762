package dev.cella.node.image;
import dev.cella.node.problem.Problem;

/**
 * An image reference as Docker reads it: {@code [registry/]name[:tag][@digest]}, with
 * Docker Hub's defaults (registry-1.docker.io, library/ for single names, tag latest).
 */
public record ImageReference(String registry, String repository, String tag, String digest) {

    public static ImageReference parse(String ref) {
        String s = ref.trim();
        if (s.isEmpty() || s.contains(" ")) throw new Problem.Invalid("not an image reference: '" + ref + "'");
        String digest = null;
        int at = s.indexOf('@');
        if (at >= 0) {
            digest = s.substring(at + 1);
            s = s.substring(0, at);
            if (!digest.matches("sha256:[0-9a-f]{64}")) throw new Problem.Invalid("bad digest in '" + ref + "'");
        }
        String registry = "registry-1.docker.io";
        int slash = s.indexOf('/');
        if (slash > 0) {
            String first = s.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
                registry = first.equals("docker.io") ? registry : first;
                s = s.substring(slash + 1);
            }
        }
        String tag = "latest";
        int colon = s.lastIndexOf(':');
        if (colon > 0) {
            tag = s.substring(colon + 1);
            s = s.substring(0, colon);
        }
        if (registry.equals("registry-1.docker.io") && !s.contains("/")) s = "library/" + s;
        if (!s.matches("[a-z0-9]+([._/-][a-z0-9]+)*")) throw new Problem.Invalid("bad repository name in '" + ref + "'");
        return new ImageReference(registry, s, tag, digest);
    }

    /** What to ask the registry for: the digest when pinned, else the tag. */
    public String reference() {
        return digest != null ? digest : tag;
    }

    /** Loopback registries speak plain HTTP (as Docker allows for them); all others HTTPS. */
    public String base() {
        boolean loopback = registry.startsWith("localhost") || registry.startsWith("127.") || registry.startsWith("[::1]");
        return (loopback ? "http://" : "https://") + registry;
    }

    @Override
    public String toString() {
        return registry + "/" + repository + (digest != null ? "@" + digest : ":" + tag);
    }
}
