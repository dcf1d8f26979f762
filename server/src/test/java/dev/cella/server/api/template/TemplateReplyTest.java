package dev.cella.server.api.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.server.template.TemplateStatus;
import dev.cella.server.template.TemplateType;
import dev.cella.server.template.Templates;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A template's answer carries E2B's fields and Superserve's side by side, flat. */
@Tag("unit")
class TemplateReplyTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static List<String> keys(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void aTeamTemplateAnswersInBothShapes() {
        var t = new Templates.TeamTemplate("tmpl1", "team1", "my-app", TemplateType.BUILD, "", 2, 1024, 0, 1_700_000_000_000L, null, TemplateStatus.READY,
                Templates.Defaults.NONE, 4096);
        var stats = new Templates.Stats(true, 3, null, 2, 1_700_000_100_000L, "build9");
        JsonNode n = JSON.valueToTree(TemplateReply.of(t, stats));
        assertThat(keys(n)).containsExactly("templateID", "buildID", "cpuCount", "memoryMB", "diskSizeMB", "public", "aliases",
                "createdAt", "updatedAt", "createdBy", "lastSpawnedAt", "spawnCount", "buildCount", "envdVersion",
                "id", "team_id", "name", "status", "vcpu", "memory_mib", "disk_mib", "created_at", "build_id");
        assertThat(n.path("templateID").asText()).isEqualTo("tmpl1").isEqualTo(n.path("id").asText());
        assertThat(n.path("public").asBoolean()).isTrue();
        assertThat(n.path("aliases").get(0).asText()).isEqualTo("my-app");
        assertThat(n.path("memory_mib").asInt()).isEqualTo(1024).isEqualTo(n.path("memoryMB").asInt());
        assertThat(n.path("createdAt").asText()).isEqualTo("2023-11-14T22:13:20Z").isEqualTo(n.path("created_at").asText());
        assertThat(n.get("lastSpawnedAt").isNull()).as("E2B's nullable fields stay, as null").isTrue();

        JsonNode building = JSON.valueToTree(TemplateReply.of(t, new Templates.Stats(true, 3, null, 2, 1_700_000_100_000L, "build10")));
        assertThat(building.path("buildID").asText()).isEqualTo("build10").isEqualTo(building.path("build_id").asText());
    }

    @Test
    void aBuiltInTemplateHasNoTeamFields() {
        JsonNode n = JSON.valueToTree(TemplateReply.builtIn("base"));
        assertThat(n.path("templateID").asText()).isEqualTo("base");
        assertThat(n.path("status").asText()).isEqualTo("ready");
        assertThat(n.has("team_id")).isFalse();
        assertThat(n.has("vcpu")).isFalse();
        assertThat(n.path("cpuCount").asInt()).isPositive();
    }
}
