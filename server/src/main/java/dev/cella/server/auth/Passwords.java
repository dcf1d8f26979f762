package dev.cella.server.auth;

import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;

/**
 * Password hashes: Argon2id (OWASP's first choice) with 19 MiB of memory, 2 passes, one
 * lane; the parameters and salt travel in the PHC string, so they can be raised later.
 */
public final class Passwords {
    private static final Argon2Function ARGON2 = Argon2Function.getInstance(19 * 1024, 2, 1, 32, Argon2.ID);

    private Passwords() {}

    public static String hash(String password) {
        return Password.hash(password).addRandomSalt(16).with(ARGON2).getResult();
    }

    public static boolean matches(String password, String hash) {
        if (hash == null || password == null) return false;
        return Password.check(password, hash).with(Argon2Function.getInstanceFromHash(hash));
    }
}
