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
    /**
     * This machine: its online CPUs (not this process's share of them: sandboxes run in
     * cgroups of their own) and MemTotal.
     */
    public static HostSize local() {
        try {
            int cpus = onlineCpus(Files.readString(Path.of("/sys/devices/system/cpu/online")));
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) return new HostSize(cpus, Long.parseLong(line.replaceAll("\\D", "")) / 1024);
            }
            throw new IllegalStateException("/proc/meminfo has no MemTotal");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** How many CPUs a kernel CPU list names ({@code 0-1}, {@code 0,2-5}). */
    static int onlineCpus(String list) {
        int n = 0;
        for (String part : list.strip().split(",")) {
            String[] r = part.split("-");
            n += r.length == 1 ? 1 : Integer.parseInt(r[1]) - Integer.parseInt(r[0]) + 1;
        }
        return n;
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
