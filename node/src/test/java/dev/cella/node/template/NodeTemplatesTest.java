package dev.cella.node.template;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** What a node keeps of its templates across a crash: a template is one whose template.json was written, nothing less. */
@Tag("unit")
class NodeTemplatesTest {

    @Test
    void aTemplateHalfMadeWhenTheNodeStoppedIsNeverOneAndIsRemoved() throws Exception {
        Path dir = Files.createTempDirectory("cella-templates");
        Path base = Files.createDirectories(dir.resolve("base-rootfs"));
        NodeTemplates before = new NodeTemplates(Map.of("base", base), dir.resolve("templates"));
        // one made to the end, one whose copy the crash cut short (no template.json)
        Path done = before.prepare("lyrdone");
        Files.createDirectories(done.resolve(NodeTemplates.LAYER));
        Files.writeString(done.resolve(NodeTemplates.LAYER).resolve("f"), "x");
        before.commit("lyrdone", List.of(base));
        Path half = before.prepare("lyrhalf");
        Files.createDirectories(half.resolve(NodeTemplates.LAYER));

        // the node starts again: the half one is no template, and its files go
        NodeTemplates after = new NodeTemplates(Map.of("base", base), dir.resolve("templates"));
        assertThat(after.rootfs("lyrdone")).isPresent();
        assertThat(after.rootfs("lyrhalf")).isEmpty();
        after.collect(Set.of());
        assertThat(half).doesNotExist();
        assertThat(done).exists();
        assertThat(NodeTemplates.lowerDirs(after.rootfs("lyrdone").orElseThrow())).containsExactly(done.resolve(NodeTemplates.LAYER), base);
        // and a template being made now is not taken for a leftover
        Path making = after.prepare("lyrmaking");
        after.collect(Set.of());
        assertThat(making).exists();
    }
}
