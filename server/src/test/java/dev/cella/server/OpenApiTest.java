package dev.cella.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.cella.node.cli.Options;
import dev.cella.server.api.ApiServer;
import dev.cella.server.nodes.Fleet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each dialect's OpenAPI document, as the server serves it, names exactly the routes the
 * server has: a route without documentation fails this test, and so does documentation
 * of a route that does not exist. (A server without nodes: routes are what matter here.)
 */
@Tag("unit")
class OpenApiTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static Server server;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        server = new Server(ServerSettings.from(Options.parse("test", new String[] {"--data-dir", Files.createTempDirectory("cella-openapi").toString(),
                "--port", "0"}, ServerSettings.OPTIONS)), new Fleet(List.of()));
        base = "http://127.0.0.1:" + server.apiPort();
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    /** "GET /a/{}/b": path parameters' names do not matter. */
    static String key(String method, String path) {
        return method.toUpperCase(Locale.ROOT) + " " + path.replaceAll("\\{[^}]+}", "{}");
    }

    static Set<String> documented(JsonNode doc) {
        Set<String> out = new TreeSet<>();
        doc.path("paths").properties().forEach(p -> p.getValue().properties().forEach(op -> {
            if (Set.of("get", "post", "put", "patch", "delete", "head", "options").contains(op.getKey())) {
                out.add(key(op.getKey(), p.getKey()));
                assertThat(op.getValue().path("responses").isObject()).as(op.getKey() + " " + p.getKey() + " documents its responses").isTrue();
            }
        }));
        return out;
    }

    static Set<String> served(List<ApiServer.Route> routes) {
        Set<String> out = new TreeSet<>();
        for (var r : routes) out.add(key(r.method(), r.path()));
        return out;
    }

    static JsonNode fetch(String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/yaml");
        return YAML.readTree(r.body());
    }

    @Test
    void theNativeDocumentNamesEveryRouteAndNoOther() throws Exception {
        JsonNode doc = fetch("/v1/openapi.yaml");
        assertThat(doc.path("openapi").asText()).startsWith("3.");
        assertThat(documented(doc)).isEqualTo(served(server.v1.servedRoutes()));
    }

    @Test
    void theE2bDocumentNamesEveryRouteAndNoOther() throws Exception {
        JsonNode doc = fetch("/openapi.yaml");
        assertThat(doc.path("openapi").asText()).startsWith("3.");
        assertThat(documented(doc)).isEqualTo(served(server.e2b.servedRoutes()));
    }
}
