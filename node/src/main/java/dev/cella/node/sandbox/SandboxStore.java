package dev.cella.node.sandbox;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The node's sandbox records, one JSON file each, written atomically (temp file and
 * rename) so that a crash never leaves half a record; and each sandbox's event log,
 * one JSON line per event.
 */
public final class SandboxStore {
    private final Path dir;
    private final ObjectMapper json;

    public SandboxStore(Path stateDir) throws IOException {
        this.dir = Files.createDirectories(stateDir.resolve("records"));
        this.json = new ObjectMapper().registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    }

    public void save(SandboxRecord record) throws IOException {
        Path target = dir.resolve(record.spec().id() + ".json");
        Path tmp = dir.resolve("." + record.spec().id() + ".json.tmp");
        json.writeValue(tmp.toFile(), record);
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    public void delete(String id) throws IOException {
        Files.deleteIfExists(dir.resolve(id + ".json"));
        Files.deleteIfExists(dir.resolve(id + ".events.jsonl"));
    }

    public List<SandboxRecord> all() throws IOException {
        List<SandboxRecord> out = new ArrayList<>();
        try (var s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().matches("[a-z0-9]+\\.json")).toList()) {
                try {
                    out.add(json.readValue(p.toFile(), SandboxRecord.class));
                } catch (IOException unreadable) {
                    Files.move(p, p.resolveSibling(p.getFileName() + ".unreadable"), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return out;
    }

    public void appendEvent(String id, SandboxEvent event) throws IOException {
        Files.writeString(dir.resolve(id + ".events.jsonl"), json.writeValueAsString(event) + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    public List<SandboxEvent> events(String id) throws IOException {
        Path f = dir.resolve(id + ".events.jsonl");
        if (!Files.exists(f)) return List.of();
        List<SandboxEvent> out = new ArrayList<>();
        for (String line : Files.readAllLines(f)) if (!line.isBlank()) out.add(json.readValue(line, SandboxEvent.class));
        return out;
    }
}
