package dev.cella.server.template;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** E2B's template steps as the SDK sends them, read into a BuildSpec; what is wrong is named. Needs no root. */
@Tag("unit")
class E2bStepsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static BuildSpec parse(String json) throws Exception {
        return E2bSteps.parse(JSON.readTree(json));
    }

    @Test
    void everyStepTypeTheSdkSends() throws Exception {
        BuildSpec s = parse("""
                {"fromTemplate":"base","startCmd":"npm start","readyCmd":" ","steps":[
                  {"type":"ENV","args":["A","1","B","2"]},
                  {"type":"WORKDIR","args":["/app"]},
                  {"type":"USER","args":["root"]},
                  {"type":"COPY","args":["src","/app/","user:user","0644"],"filesHash":"abc123"},
                  {"type":"RUN","args":["make","root"]}]}""");
        assertThat(s.from()).isEqualTo("base");
        assertThat(s.startCmd()).isEqualTo("npm start");
        assertThat(s.readyCmd()).as("a blank ready command is none").isNull();
        assertThat(s.steps()).containsExactly(new BuildSpec.Env(Map.of("A", "1", "B", "2")), new BuildSpec.Workdir("/app"),
                new BuildSpec.User("root"), new BuildSpec.Copy("abc123", "src", "/app/", "user:user", "0644"),
                new BuildSpec.Run("make", null, "root"));
        assertThat(parse("{\"fromImage\":\"python:3.12\"}").from()).isEqualTo("python:3.12");
    }

    @Test
    void whatIsMissingOrUnknownIsNamedByItsStep() {
        assertThatThrownBy(() -> parse("{\"steps\":[]}")).hasMessageContaining("fromTemplate or fromImage is required");
        assertThatThrownBy(() -> parse("{\"fromTemplate\":\"base\",\"steps\":[{\"type\":\"RUN\",\"args\":[]}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("step 1: RUN needs a command");
        assertThatThrownBy(() -> parse("{\"fromTemplate\":\"base\",\"steps\":[{\"type\":\"ENV\",\"args\":[\"A\",\"1\"]},{\"type\":\"WORKDIR\"}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("step 2: WORKDIR needs an argument");
        assertThatThrownBy(() -> parse("{\"fromTemplate\":\"base\",\"steps\":[{\"type\":\"COPY\",\"args\":[\"a\",\"b\"]}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("COPY needs src, dest and filesHash");
        assertThatThrownBy(() -> parse("{\"fromTemplate\":\"base\",\"steps\":[{\"type\":\"ADD\",\"args\":[\"a\"]}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown type 'ADD'");
    }
}
