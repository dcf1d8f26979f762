package dev.cella.envd.process;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cella.envd.EnvdFixture;
import dev.cella.envd.EnvdFixture.Run;
import dev.cella.protocol.envd.EnvdClient.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static dev.cella.envd.EnvdFixture.startRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ProcessServiceTest {
    static EnvdFixture envd;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(EnvdFixture.isRoot(), "envd runs as root in every sandbox; these tests need root (CI is root)");
        envd = new EnvdFixture();
    }

    @AfterAll
    static void stop() throws Exception {
        if (envd != null) envd.close();
    }

    @Test
    void separatesStdoutAndStderrAndReportsTheExitCode() throws Exception {
        Run r = envd.run(startRequest("echo out; echo err >&2; exit 3"));
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
        assertThat(r.end().path("exitCode").asInt()).isEqualTo(3);
        assertThat(r.end().path("exited").asBoolean()).isTrue();
        assertThat(r.end().path("status").asText()).isEqualTo("exit status 3");
        assertThat(r.end().path("error").asText()).isEqualTo("exit status 3");
        assertThat(r.trailer()).isEmpty();
    }

    @Test
    void runsAsTheDefaultUserWithItsHomeGroupsAndNoCapabilities() throws Exception {
        Run r = envd.run(startRequest("id -u; id -g; id -G; pwd; echo $HOME $USER $LOGNAME; grep CapEff /proc/self/status"));
        String[] lines = r.stdout().split("\n");
        assertThat(lines[0]).isEqualTo(Integer.toString(EnvdFixture.NOBODY));
        assertThat(lines[1]).isEqualTo(Integer.toString(EnvdFixture.NOBODY));
        assertThat(lines[2].split(" ")).contains("4242"); // a supplementary group from /etc/group
        assertThat(lines[3]).isEqualTo(envd.nobodyHome.toString());
        assertThat(lines[4]).isEqualTo(envd.nobodyHome + " nobody nobody");
        assertThat(lines[5]).endsWith("0000000000000000");
    }

    @Test
    void runsAsRootWhenAskedByBasicAuth() throws Exception {
        Run r = envd.run(startRequest("id -u"), "Authorization", "Basic " + Base64.getEncoder().encodeToString("root:".getBytes()));
        assertThat(r.stdout()).isEqualTo("0\n");
    }

    @Test
    void anUnknownUserIsUnauthenticated() throws Exception {
        Run r = envd.run(startRequest("id -u"), "Authorization", "Basic " + Base64.getEncoder().encodeToString("ghost:".getBytes()));
        assertThat(r.trailer().path("error").path("code").asText()).isEqualTo("unauthenticated");
    }

    @Test
    void requestEnvsAndCwdApply() throws Exception {
        Path cwd = Files.createDirectories(envd.dir.resolve("work"));
        String req = EnvdFixture.json(Map.of("process", Map.of("cmd", "/bin/sh",
                "args", List.of("-c", "echo $GREETING; pwd"), "envs", Map.of("GREETING", "hi"), "cwd", cwd.toString())));
        Run r = envd.run(req);
        assertThat(r.stdout()).isEqualTo("hi\n" + cwd + "\n");
    }

    @Test
    void aMissingCwdOrExecutableIsInvalid() throws Exception {
        String req = EnvdFixture.json(Map.of("process", Map.of("cmd", "/bin/true", "cwd", "/does/not/exist")));
        assertThat(envd.run(req).trailer().path("error").path("code").asText()).isEqualTo("invalid_argument");
        String req2 = EnvdFixture.json(Map.of("process", Map.of("cmd", "no-such-program-anywhere")));
        assertThat(envd.run(req2).trailer().path("error").path("code").asText()).isEqualTo("invalid_argument");
    }

    @Test
    void stdinIsAPipeUntilClosed() throws Exception {
        try (Stream s = envd.stream("process.Process/Start", "{\"process\":{\"cmd\":\"/bin/cat\"},\"stdin\":true}")) {
            int pid = s.next().body().path("event").path("start").path("pid").asInt();
            String input = Base64.getEncoder().encodeToString("hello\n".getBytes());
            assertThat(envd.unary("process.Process/SendInput",
                    "{\"process\":{\"pid\":" + pid + "},\"input\":{\"stdin\":\"" + input + "\"}}").status()).isEqualTo(200);
            JsonNode data = s.next().body().path("event").path("data");
            assertThat(new String(data.get("stdout").binaryValue())).isEqualTo("hello\n");
            assertThat(envd.unary("process.Process/CloseStdin", "{\"process\":{\"pid\":" + pid + "}}").status()).isEqualTo(200);
            JsonNode end = s.next().body().path("event").path("end");
            assertThat(end.path("exitCode").asInt()).isZero();
        }
    }

    @Test
    void withoutStdinTheProcessReadsNothing() throws Exception {
        Run r = envd.run("{\"process\":{\"cmd\":\"/bin/cat\"},\"stdin\":false}");
        assertThat(r.stdout()).isEmpty();
        assertThat(r.end().path("exitCode").asInt()).isZero();
    }

    @Test
    void sigkillEndsAProcessThatIgnoresSigterm() throws Exception {
        try (Stream s = envd.stream("process.Process/Start", startRequest("trap '' TERM; echo ready; while true; do sleep 0.1; done"))) {
            int pid = s.next().body().path("event").path("start").path("pid").asInt();
            assertThat(new String(s.next().body().path("event").path("data").get("stdout").binaryValue())).isEqualTo("ready\n");
            assertThat(envd.unary("process.Process/SendSignal", "{\"process\":{\"pid\":" + pid + "},\"signal\":\"SIGNAL_SIGTERM\"}").status()).isEqualTo(200);
            Thread.sleep(300);
            assertThat(Files.exists(Path.of("/proc/" + pid))).as("ignores SIGTERM").isTrue();
            assertThat(envd.unary("process.Process/SendSignal", "{\"process\":{\"pid\":" + pid + "},\"signal\":\"SIGNAL_SIGKILL\"}").status()).isEqualTo(200);
            JsonNode end = s.next().body().path("event").path("end");
            assertThat(end.path("exitCode").asInt()).isEqualTo(-1);
            assertThat(end.path("exited").asBoolean()).isFalse();
            assertThat(end.path("status").asText()).isEqualTo("signal: killed");
        }
    }

    @Test
    void theCallsTimeoutKillsTheWholeProcessGroup() throws Exception {
        long t0 = System.nanoTime();
        Run r = envd.run(startRequest("sleep 30 & sleep 31; wait"), "Connect-Timeout-Ms", "700");
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(10_000);
        assertThat(r.trailer().path("error").path("code").asText()).isEqualTo("deadline_exceeded");
        Thread.sleep(300);
        Run ps = envd.run(startRequest("pgrep -f 'sleep 3[01]' || true"));
        assertThat(ps.stdout()).isEmpty();
    }

    @Test
    void unknownPidsAreNotFound() throws Exception {
        var r = envd.unary("process.Process/SendSignal", "{\"process\":{\"pid\":999999},\"signal\":\"SIGNAL_SIGKILL\"}");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.body().path("code").asText()).isEqualTo("not_found");
    }

    @Test
    void listAndConnectByTag() throws Exception {
        String req = "{\"process\":{\"cmd\":\"/bin/sh\",\"args\":[\"-c\",\"sleep 0.5; echo later\"]},\"tag\":\"t1\"}";
        try (Stream first = envd.stream("process.Process/Start", req)) {
            int pid = first.next().body().path("event").path("start").path("pid").asInt();
            JsonNode list = envd.unary("process.Process/List", "{}").body().path("processes");
            JsonNode mine = null;
            for (JsonNode p : list) if (p.path("pid").asInt() == pid) mine = p;
            assertThat(mine).isNotNull();
            assertThat(mine.path("tag").asText()).isEqualTo("t1");
            assertThat(mine.path("config").path("cmd").asText()).isEqualTo("/bin/sh");
            try (Stream again = envd.stream("process.Process/Connect", "{\"process\":{\"tag\":\"t1\"}}")) {
                assertThat(again.next().body().path("event").path("start").path("pid").asInt()).isEqualTo(pid);
                String out = "";
                JsonNode end = null;
                for (Stream.Message m : again.all()) {
                    JsonNode ev = m.body().path("event");
                    if (ev.has("data")) out += new String(ev.get("data").get("stdout").binaryValue());
                    if (ev.has("end")) end = ev.get("end");
                }
                assertThat(out).isEqualTo("later\n");
                assertThat(end).isNotNull();
            }
        }
    }

    @Test
    void aTerminalIsRealAndResizable() throws Exception {
        String req = "{\"process\":{\"cmd\":\"/bin/bash\",\"args\":[\"-c\",\"tty; stty size; read x; stty size\"]},\"pty\":{\"size\":{\"cols\":100,\"rows\":30}}}";
        try (Stream s = envd.stream("process.Process/Start", req)) {
            int pid = s.next().body().path("event").path("start").path("pid").asInt();
            StringBuilder out = new StringBuilder();
            while (!out.toString().contains("30 100")) {
                out.append(new String(s.next().body().path("event").path("data").get("pty").binaryValue()));
            }
            assertThat(out.toString()).containsPattern("/dev/pts/\\d+");
            assertThat(envd.unary("process.Process/Update",
                    "{\"process\":{\"pid\":" + pid + "},\"pty\":{\"size\":{\"cols\":120,\"rows\":40}}}").status()).isEqualTo(200);
            String enter = Base64.getEncoder().encodeToString("\n".getBytes());
            envd.unary("process.Process/SendInput", "{\"process\":{\"pid\":" + pid + "},\"input\":{\"pty\":\"" + enter + "\"}}");
            JsonNode end = null;
            for (Stream.Message m : s.all()) {
                JsonNode ev = m.body().path("event");
                if (ev.has("data")) out.append(new String(ev.get("data").get("pty").binaryValue()));
                if (ev.has("end")) end = ev.get("end");
            }
            assertThat(out.toString()).contains("40 120");
            assertThat(end.path("exitCode").asInt()).isZero();
        }
    }

    @Test
    void aLateConnectStillLearnsHowTheProcessEnded() throws Exception {
        Run r = envd.run(startRequest("exit 7"));
        try (Stream s = envd.stream("process.Process/Connect", "{\"process\":{\"pid\":" + r.pid() + "}}")) {
            var msgs = s.all();
            assertThat(msgs.get(0).body().path("event").path("start").path("pid").asInt()).isEqualTo(r.pid());
            assertThat(msgs.get(1).body().path("event").path("end").path("exitCode").asInt()).isEqualTo(7);
        }
    }
}
