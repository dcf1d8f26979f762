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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The registry v2 protocol, as far as pulling needs it: manifests (OCI and Docker, image
 * indexes and manifest lists), blobs checked against their digest, and the token dance a
 * registry asks for with {@code WWW-Authenticate: Bearer realm=...} (anonymous, or with a
 * username and password).
 */
final class RegistryClient {
    static final String ACCEPT = String.join(", ", "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json");
    private static final Pattern PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NORMAL).build();
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    private final String username, password;

    RegistryClient(String username, String password) {
        this.username = username;
        this.password = password;
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
        URI uri = URI.create(ref.base() + "/v2/" + ref.repository() + path);
        try {
            HttpResponse<T> r = http.send(request(uri, accept, timeout, tokens.get(ref.registry() + "/" + ref.repository())), handler);
            if (r.statusCode() != 401) return r;
            String challenge = r.headers().firstValue("WWW-Authenticate").orElse("");
            if (r.body() instanceof InputStream in) in.close();
            String token = token(challenge, ref);
            tokens.put(ref.registry() + "/" + ref.repository(), token);
            return http.send(request(uri, accept, timeout, token), handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private HttpRequest request(URI uri, String accept, Duration timeout, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", accept);
        if (token != null) b.header("Authorization", token);
        return b.GET().build();
    }

    /** The Authorization value a challenge asks for: a Bearer token from its realm, or Basic credentials. */
    private String token(String challenge, ImageReference ref) throws IOException, InterruptedException {
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
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET();
        if (basic != null) b.header("Authorization", basic);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
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
