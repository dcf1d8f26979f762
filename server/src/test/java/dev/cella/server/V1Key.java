package dev.cella.server;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Signs up a user through the native API and makes them an API key: a team of its own for a test. */
final class V1Key {
    private V1Key() {}

    static String make(String base, String who) throws Exception {
        var http = HttpClient.newHttpClient();
        var json = new ObjectMapper();
        String email = who + System.nanoTime() + "@example.com";
        var signup = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/auth/signup")).POST(HttpRequest.BodyPublishers.ofString(
                "{\"email\":\"" + email + "\",\"password\":\"correct horse\",\"name\":\"" + who + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
        String token = json.readTree(signup.body()).path("token").asText();
        var key = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/api-keys")).header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        return json.readTree(key.body()).path("key").asText();
    }
}
