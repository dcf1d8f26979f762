package dev.cella.server;

import org.junit.jupiter.api.BeforeAll;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The native API's contract on PostgreSQL (a database of its own); CI must run it. */
class V1ApiPostgresTest extends V1ApiContract {
    @BeforeAll
    static void start() throws Exception {
        String url = System.getenv("CELLA_TEST_POSTGRES_URL");
        if (url == null || url.isBlank()) {
            assertThat(System.getenv("CI")).as("CI must test PostgreSQL: CELLA_TEST_POSTGRES_URL is not set").isNull();
            System.err.println("*** V1ApiPostgresTest: CELLA_TEST_POSTGRES_URL not set: the native API on PostgreSQL NOT tested ***");
        }
        assumeTrue(url != null && !url.isBlank(), "no PostgreSQL given");
        String db = "cella_v1_" + System.nanoTime();
        new ProcessBuilder("su", "postgres", "-c", "psql -qc 'CREATE DATABASE " + db + " OWNER cella_test'").inheritIO().start().waitFor();
        launch("--db-url", url.substring(0, url.lastIndexOf('/') + 1) + db, "--db-user", System.getenv("CELLA_TEST_POSTGRES_USER"),
                "--db-password", System.getenv("CELLA_TEST_POSTGRES_PASSWORD"));
    }
}
