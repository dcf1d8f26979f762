package dev.cella.server.auth;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.interfaces.DecodedJWT;
import dev.cella.server.Digests;
import dev.cella.server.Ids;
import dev.cella.server.db.Jdbc;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * The native API's session tokens: JWTs signed with HS256 by a key the server makes at its
 * first start and keeps in the database (so every server of a fleet accepts them), valid
 * six hours, naming a user and the team they act for.
 */
public final class Tokens {
    public static final Duration LIFETIME = Duration.ofHours(6);
    private static final String ISSUER = "cella";

    private final Algorithm algorithm;
    private final String secret;
    private final JWTVerifier verifier;
    private final Clock clock;

    /** What a valid token says. */
    public record Claims(String userId, String teamId, String email) {}

    public Tokens(Jdbc db, Clock clock) {
        this.clock = clock;
        String secret = db.one("SELECT value FROM server_secrets WHERE name = 'jwt'", rs -> rs.getString(1)).orElseGet(() -> {
            String s = Ids.hex(32);
            try {
                db.update("INSERT INTO server_secrets (name, value) VALUES ('jwt', ?)", s);
                return s;
            } catch (Jdbc.Duplicate another) { // another server of the fleet made it first
                return db.one("SELECT value FROM server_secrets WHERE name = 'jwt'", rs -> rs.getString(1)).orElseThrow();
            }
        });
        this.secret = secret;
        this.algorithm = Algorithm.HMAC256(secret);
        this.verifier = JWT.require(algorithm).withIssuer(ISSUER).build();
    }

    /** A key for another purpose (signing OAuth state), derived from the server's secret so it is the same on every server. */
    public byte[] derivedKey(String purpose) {
        return Digests.hmacSha256(secret.getBytes(StandardCharsets.UTF_8), purpose);
    }

    public String issue(String userId, String teamId, String email) {
        var now = clock.instant();
        return JWT.create().withIssuer(ISSUER).withSubject(userId).withClaim("team_id", teamId).withClaim("email", email)
                .withIssuedAt(now).withExpiresAt(now.plus(LIFETIME)).sign(algorithm);
    }

    public Optional<Claims> verify(String token) {
        try {
            DecodedJWT jwt = verifier.verify(token);
            if (jwt.getExpiresAtAsInstant() == null || !jwt.getExpiresAtAsInstant().isAfter(clock.instant())) return Optional.empty();
            return Optional.of(new Claims(jwt.getSubject(), jwt.getClaim("team_id").asString(), jwt.getClaim("email").asString()));
        } catch (JWTVerificationException e) {
            return Optional.empty();
        }
    }
}
