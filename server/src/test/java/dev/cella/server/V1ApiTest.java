package dev.cella.server;

import org.junit.jupiter.api.BeforeAll;

/** The native API's contract on the embedded default, SQLite. */
class V1ApiTest extends V1ApiContract {
    @BeforeAll
    static void start() throws Exception {
        launch();
    }
}
