package dev.cella.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The official E2B JS SDK (npm e2b, pinned in e2e/js/package-lock.json) in debug mode
 * against envd in a Debian sandbox, started as {@code ./cella dev envd} starts it. The
 * SDK's debug mode talks to localhost:49983, so that port must be free.
 */
class E2bSdkTest {
    static SandboxedEnvd envd;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Repo.isRoot(), "envd runs in namespaces; this needs root (CI is root)");
        envd = new SandboxedEnvd(Repo.baseRootfs(), 49983, true);
    }

    @AfterAll
    static void stop() throws IOException {
        if (envd != null) envd.close();
    }

    @TestFactory
    Stream<DynamicTest> sdkTestFiles() throws IOException {
        Path js = Repo.root().resolve("e2e/js");
        assertThat(js.resolve("node_modules/e2b")).as("npm ci in e2e/js (./cella test does it)").isDirectory();
        List<Path> files;
        try (var s = Files.list(js.resolve("tests"))) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".test.mjs")).sorted().toList();
        }
        assertThat(files).isNotEmpty();
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> runNode(js, f)));
    }

    private static void runNode(Path js, Path file) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("node", "--test", "--test-reporter=spec", js.relativize(file).toString())
                .directory(js.toFile()).redirectErrorStream(true);
        pb.environment().put("E2B_DEBUG", "true");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean done = p.waitFor(5, TimeUnit.MINUTES);
        System.out.println(out);
        assertThat(done).as("node test finished").isTrue();
        assertThat(p.exitValue()).as("node --test " + file.getFileName() + "\n" + out).isZero();
    }
}
