package dev.cella.node.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The registry v2 protocol, as far as pulling needs it: manifests (OCI and Docker, image
 * indexes and manifest lists), blobs checked against their digest, and the token dance a
 * registry asks for with {@code WWW-Authenticate: Bearer realm=...} (anonymous, or with a
 * username and password). Every connection, redirects and the token service included, is
 * checked against the node's {@link RegistryPolicy}; credentials go to the registry's own
 * origin only, and to its token service when that is the registry's own site over https.
 */
final class RegistryClient {
    static final String ACCEPT = String.join(", ", "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json");
    private static final Pattern PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Redirects are followed here, by hand: each hop is checked, and credentials do not follow a blob to its CDN. */
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    static final int MAX_REDIRECTS = 5;
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    private final String username, password;
    private final RegistryPolicy policy;

    RegistryClient(String username, String password, RegistryPolicy policy) {
        this.username = username;
        this.password = password;
        this.policy = policy;
    }

    /** A manifest and the digest the registry named it by (checked against its bytes). */
    record Manifest(String digest, String mediaType, JsonNode json) {}

    Manifest manifest(ImageReference ref, String reference) throws IOException {
        HttpResponse<byte[]> r = send(ref, "/manifests/" + reference, ACCEPT, HttpResponse.BodyHandlers.ofByteArray(), Duration.ofSeconds(30));
        if (r.statusCode() != 200) throw new IOException(ref + ": the registry answered " + r.statusCode() + " for manifest " + reference);
        String digest = "sha256:" + sha256(r.body());
        if (reference.startsWith("sha256:") && !reference.equals(digest)) throw new IOException(ref + ": manifest digest mismatch");
        JsonNode json = JSON.readTree(r.body());
        String type = json.hasNonNull("mediaType") ? json.get("mediaType").asText() : r.headers().firstValue("Content-Type").orElse("");
        return new Manifest(digest, type, json);
    }

    /** Downloads a blob to {@code target}, refusing it when its bytes do not hash to its digest. */
    void blob(ImageReference ref, String digest, Path target) throws IOException {
        if (!digest.matches("sha256:[0-9a-f]{64}")) throw new IOException("unsupported digest " + digest);
        HttpResponse<InputStream> r = send(ref, "/blobs/" + digest, "*/*", HttpResponse.BodyHandlers.ofInputStream(), Duration.ofMinutes(30));
        if (r.statusCode() != 200) {
            r.body().close();
            throw new IOException(ref + ": the registry answered " + r.statusCode() + " for blob " + digest);
        }
        MessageDigest md = sha();
        try (InputStream in = r.body(); OutputStream out = Files.newOutputStream(target)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) >= 0) {
                md.update(buf, 0, n);
                out.write(buf, 0, n);
            }
        }
        String got = "sha256:" + HexFormat.of().formatHex(md.digest());
        if (!got.equals(digest)) {
            Files.deleteIfExists(target);
            throw new IOException(ref + ": blob " + digest + " arrived as " + got + ": refused");
        }
    }

    byte[] blobBytes(ImageReference ref, String digest) throws IOException {
        Path tmp = Files.createTempFile("cella-blob", ".json");
        try {
            blob(ref, digest, tmp);
            return Files.readAllBytes(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private <T> HttpResponse<T> send(ImageReference ref, String path, String accept, HttpResponse.BodyHandler<T> handler, Duration timeout)
            throws IOException {
        URI registry = URI.create(ref.base());
        URI uri = URI.create(ref.base() + "/v2/" + ref.repository() + path);
        try {
            HttpResponse<T> r = get(uri, accept, timeout, tokens.get(ref.registry() + "/" + ref.repository()), registry, handler);
            if (r.statusCode() != 401) return r;
            String challenge = r.headers().firstValue("WWW-Authenticate").orElse("");
            if (r.body() instanceof InputStream in) in.close();
            String token = token(challenge, ref, registry);
            tokens.put(ref.registry() + "/" + ref.repository(), token);
            return get(uri, accept, timeout, token, registry, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /**
     * A GET with its redirects followed: every hop is checked against the policy first, an
     * https URL is never redirected to plain http, and {@code authorization} is sent only to
     * {@code credentialsFor}'s origin (a registry's blob redirect to its storage gets none).
     */
    private <T> HttpResponse<T> get(URI uri, String accept, Duration timeout, String authorization, URI credentialsFor,
                                    HttpResponse.BodyHandler<T> handler) throws IOException, InterruptedException {
        URI at = uri;
        for (int hop = 0; ; hop++) {
            policy.check(at);
            HttpRequest.Builder b = HttpRequest.newBuilder(at).timeout(timeout).header("Accept", accept).GET();
            if (authorization != null && credentialsFor != null && sameOrigin(at, credentialsFor)) b.header("Authorization", authorization);
            HttpResponse<T> r = http.send(b.build(), handler);
            int status = r.statusCode();
            if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) return r;
            if (r.body() instanceof InputStream in) in.close();
            if (hop == MAX_REDIRECTS) throw new IOException(uri + ": more than " + MAX_REDIRECTS + " redirects");
            String location = r.headers().firstValue("Location").orElse(null);
            if (location == null) throw new IOException(at + " answered " + status + " without a Location");
            URI next;
            try {
                next = at.resolve(location);
            } catch (IllegalArgumentException e) {
                throw new IOException(at + " redirected to something that is not a URL");
            }
            if ("https".equalsIgnoreCase(at.getScheme()) && !"https".equalsIgnoreCase(next.getScheme())) {
                throw new IOException(at + " redirected from https to " + next.getScheme() + ": refused");
            }
            at = next;
        }
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() != -1 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    /**
     * Whether the registry's credentials may go to the token service it names: its own
     * origin, or a host of its own site over https (Docker Hub's registry-1.docker.io sends
     * clients to auth.docker.io). Never to another site: a registry could name any URL.
     */
    static boolean mayReceiveCredentials(URI realm, URI registry) {
        if (sameOrigin(realm, registry)) return true;
        if (!"https".equalsIgnoreCase(realm.getScheme())) return false;
        return site(realm.getHost()).equals(site(registry.getHost())) && site(realm.getHost()).contains(".");
    }

    /** The last two labels of a host name ({@code docker.io}); an address is its own site. */
    private static String site(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") || h.matches("[0-9.]+")) return h;
        String[] labels = h.split("\\.");
        return labels.length < 2 ? h : labels[labels.length - 2] + "." + labels[labels.length - 1];
    }

    /** The Authorization value a challenge asks for: a Bearer token from its realm, or Basic credentials. */
    private String token(String challenge, ImageReference ref, URI registry) throws IOException, InterruptedException {
        String basic = username == null ? null : "Basic " + Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
        if (challenge.regionMatches(true, 0, "Basic", 0, 5)) {
            if (basic == null) throw new IOException(ref + ": the registry wants a username and password");
            return basic;
        }
        Map<String, String> p = new HashMap<>();
        Matcher m = PARAM.matcher(challenge);
        while (m.find()) p.put(m.group(1), m.group(2));
        String realm = p.get("realm");
        if (realm == null) throw new IOException(ref + ": the registry refused us without saying how to authenticate");
        String scope = p.getOrDefault("scope", "repository:" + ref.repository() + ":pull");
        String url = realm + "?service=" + URLEncoder.encode(p.getOrDefault("service", ""), StandardCharsets.UTF_8)
                + "&scope=" + URLEncoder.encode(scope, StandardCharsets.UTF_8);
        URI realmUri;
        try {
            realmUri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IOException(ref + ": the registry names a token service that is not a URL");
        }
        if (realmUri.getHost() == null) throw new IOException(ref + ": the registry names a token service that is not a URL");
        URI credentialsFor = basic != null && mayReceiveCredentials(realmUri, registry) ? realmUri : null;
        HttpResponse<String> r = get(realmUri, "application/json", Duration.ofSeconds(30), basic, credentialsFor, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IOException(ref + ": the token service answered " + r.statusCode());
        JsonNode t = JSON.readTree(r.body());
        String token = t.hasNonNull("token") ? t.get("token").asText() : t.path("access_token").asText("");
        if (token.isEmpty()) throw new IOException(ref + ": the token service gave no token");
        return "Bearer " + token;
    }

    static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(byte[] b) {
        return HexFormat.of().formatHex(sha().digest(b));
    }
}
