package dev.cella.node.sandbox;

import dev.cella.node.problem.Problem;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The most one sandbox may ask of this host: its CPUs and its memory. A sandbox asking
 * for more (16 vCPUs on a 2-CPU host) is refused with a message rather than started with
 * limits the host cannot give.
 */
public record HostSize(int cpus, long memoryMb) {
    /** This machine: the CPUs this process may use, and MemTotal. */
    public static HostSize local() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return new HostSize(Runtime.getRuntime().availableProcessors(), Long.parseLong(line.replaceAll("\\D", "")) / 1024);
                }
            }
            throw new IllegalStateException("/proc/meminfo has no MemTotal");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Refuses a spec this host cannot give. */
    void admit(SandboxSpec spec) {
        if (spec.vcpus() > cpus) {
            throw new Problem.Invalid("vcpus " + spec.vcpus() + " is more than this host has: " + cpus + " CPUs");
        }
        if (spec.memoryMb() > memoryMb) {
            throw new Problem.Invalid("memory " + spec.memoryMb() + " MiB is more than this host has: " + memoryMb + " MiB");
        }
    }
}
