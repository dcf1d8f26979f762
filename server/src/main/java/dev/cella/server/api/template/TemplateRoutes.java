package dev.cella.server.api.template;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.server.template.BuildLogs;
import dev.cella.server.template.Builder;
import dev.cella.server.template.Builds;
import dev.cella.server.template.TemplateFiles;
import dev.cella.server.template.Templates;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;

/**
 * Templates on the root path, where three template APIs meet, each in its own class:
 * {@link TemplateCatalog} (what every dialect lists, reads and changes),
 * {@link TemplateBuilds} ({@code POST /templates}: a {@code dockerfile} is Lelantos, a
 * {@code build_spec} is Superserve), {@link E2bTemplateBuilds} (the E2B SDK's
 * {@code Template.build()}) and {@link BuildLogStream} (Superserve's live log). All build
 * with the one engine; a template answers in both shapes at once ({@link TemplateReply}).
 * Built-in templates are listed for every team and cannot be changed.
 */
public final class TemplateRoutes {
    /** The one mapper of these routes, for request bodies and the log stream's events. */
    static final ObjectMapper JSON = new ObjectMapper();

    private final TemplateCatalog catalog;
    private final TemplateBuilds builds;
    private final E2bTemplateBuilds e2bBuilds;
    private final BuildLogStream logStream;

    public TemplateRoutes(Templates templates, Builder builder, Builds builds, BuildLogs logs, TemplateFiles files, byte[] uploadKey) {
        TemplateLookup lookup = new TemplateLookup(templates, builds);
        this.catalog = new TemplateCatalog(templates, builder, lookup);
        this.builds = new TemplateBuilds(templates, builder, files, lookup);
        this.e2bBuilds = new E2bTemplateBuilds(templates, builder, logs, files, lookup, uploadKey);
        this.logStream = new BuildLogStream(builds, logs, lookup);
    }

    /** Where a dialect registers a route. */
    @FunctionalInterface
    public interface Registrar {
        void route(HandlerType method, String path, Handler handler);
    }

    public void register(Registrar r) {
        catalog.register(r); // first: its /templates/tags comes before /templates/{id}
        builds.register(r);
        e2bBuilds.register(r);
        logStream.register(r);
    }

    /** The PUT of a build context to a signed upload URL: it carries no API key. */
    public static boolean isSignedUpload(Context ctx) {
        return E2bTemplateBuilds.isSignedUpload(ctx);
    }
}
