package dev.cella.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cella.node.envd.EnvdRuntime;
import dev.cella.node.envd.EnvdSetup;
import dev.cella.node.net.SandboxNetwork;
import dev.cella.node.runtime.CgroupLayout;
import dev.cella.node.runtime.ContainerDriver;
import dev.cella.node.runtime.Crun;
import dev.cella.node.runtime.DiskStock;
import dev.cella.node.runtime.RunningSandbox;
import dev.cella.node.sandbox.SandboxSpec;
import dev.cella.node.sys.Command;
import dev.cella.node.sys.Paths;
import dev.cella.protocol.envd.EnvdClient;

import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The node's figures, each next to its baseline from the same run: create to envd
 * ready and to the first command, against {@code crun run} of /bin/true on the same
 * root filesystem; pause and resume; host memory per idle sandbox and how many fit.
 *
 * <p>Usage: NodeBench ROOTFS ENVD_RUNTIME [RUNS]
 */
public final class NodeBench {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = EnvdClient.newHttpClient(Duration.ofSeconds(5));

    public static void main(String[] args) throws Exception {
        Path rootfs = Path.of(args[0]);
        Path runtime = Path.of(args[1]);
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        Path state = Files.createTempDirectory("cella-bench");
        SandboxNetwork network = new SandboxNetwork(232);
        network.installRules(List.of());
        ContainerDriver driver = new ContainerDriver(state, new Crun(state.resolve("crun"), CgroupLayout.detect(), JSON), network,
                new EnvdRuntime(runtime), new EnvdSetup(JSON), JSON, new DiskStock(state.resolve("disks"), 4).start());
        try {
            run(driver, rootfs, runs, state);
        } finally {
            driver.reconcile(Set.of());
            network.removeRules();
            Paths.deleteTree(state);
        }
    }

    static SandboxSpec spec(String id, Path rootfs) {
        return new SandboxSpec(id, "base", rootfs, 2, 512, 1024, 512, false, Map.of(), Map.of(), null, "user", null, null); // E2B's default: 2 vCPUs, 512 MiB
    }

    static void run(ContainerDriver driver, Path rootfs, int runs, Path state) throws Exception {
        System.out.printf("Cella node benchmark (container driver on crun): %d runs; %s%n%n", runs, Instant.now());
        List<Double> crunTrue = crunBaseline(rootfs, runs, state);

        List<Double> ready = new ArrayList<>(), firstCommand = new ArrayList<>(), pause = new ArrayList<>(), resume = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            String id = "bench" + i;
            long t0 = System.nanoTime();
            RunningSandbox s = driver.create(spec(id, rootfs));
            ready.add(ms(t0));
            runTrue(s.envdUrl());
            firstCommand.add(ms(t0));
            long p0 = System.nanoTime();
            driver.freeze(id);
            pause.add(ms(p0));
            long r0 = System.nanoTime();
            driver.thaw(id);
            resume.add(ms(r0));
            driver.stop(id);
        }
        Stats base = Stats.of(crunTrue);
        row("create to envd ready", Stats.of(ready), "ms", "crun run /bin/true", base);
        row("create to first command (true)", Stats.of(firstCommand), "ms", "crun run /bin/true", base);
        row("pause (freeze: the cgroup freezer)", Stats.of(pause), "ms", null, null);
        row("resume (thaw: the cgroup freezer)", Stats.of(resume), "ms", null, null);

        // memory of idle sandboxes as the warm pool keeps them (a background start, the pool's
        // warm-up, then frozen): start several, measure the host's loss and the cgroups
        int idle = Math.min(10, Math.max(3, runs / 2));
        long availBefore = memAvailableKb();
        List<Double> perCgroup = new ArrayList<>();
        EnvdSetup warmUp = new EnvdSetup(JSON);
        for (int i = 0; i < idle; i++) warmUp.warmUp(driver.create(spec("idle" + i, rootfs), true).envdUrl());
        Thread.sleep(2000);
        for (int i = 0; i < idle; i++) driver.freeze("idle" + i);
        Thread.sleep(1000);
        for (int i = 0; i < idle; i++) {
            driver.usage("idle" + i).ifPresent(u -> perCgroup.add(u.memoryBytes() / 1048576.0));
        }
        long availAfter = memAvailableKb();
        double perSandboxMb = (availBefore - availAfter) / 1024.0 / idle;
        row("frozen idle sandbox memory, its cgroup (no page cache)", Stats.of(perCgroup), "MiB", null, null);
        System.out.printf("%-48s %.1f MiB each (%d idle sandboxes, MemAvailable before/after)%n", "host memory per frozen idle (pooled) sandbox", perSandboxMb, idle);
        long fit = (long) (availAfter / 1024.0 / Math.max(1, perSandboxMb));
        System.out.printf("%-48s ~%d more (MemAvailable %d MiB / %.1f MiB); CPU and disk not counted%n",
                "frozen idle sandboxes that fit on this machine", fit, availAfter / 1024, perSandboxMb);
        for (int i = 0; i < idle; i++) driver.stop("idle" + i);
    }

    /** crun run of /bin/true in a bundle over the same root filesystem (read-only), no network setup. */
    static List<Double> crunBaseline(Path rootfs, int runs, Path state) throws Exception {
        Path bundle = Files.createDirectories(state.resolve("baseline"));
        Command.run("crun", "spec", "--bundle", bundle.toString());
        var cfg = (ObjectNode) JSON.readTree(bundle.resolve("config.json").toFile());
        ((ObjectNode) cfg.get("process")).put("terminal", false);
        ((ObjectNode) cfg.get("process")).putArray("args").add("/bin/true");
        ((ObjectNode) cfg.get("root")).put("path", rootfs.toString()).put("readonly", true);
        JSON.writeValue(bundle.resolve("config.json").toFile(), cfg);
        List<String> crun = Crun.command(CgroupLayout.detect());
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < runs + 3; i++) {
            List<String> argv = new ArrayList<>(crun);
            argv.add("--root=" + state.resolve("crun-baseline"));
            argv.addAll(List.of("run", "--bundle=" + bundle, "base" + i));
            long t0 = System.nanoTime();
            Command.run(argv);
            if (i >= 3) out.add(ms(t0)); // three warm-up runs
        }
        return out;
    }

    static void runTrue(String envdUrl) throws Exception {
        new EnvdClient(HTTP, URI.create(envdUrl)).run(EnvdClient.Start.of("/bin/true"), null);
    }

    static long memAvailableKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemAvailable:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        return 0;
    }

    static double ms(long t0) {
        return (System.nanoTime() - t0) / 1e6;
    }

    record Stats(int n, double median, double p99) {
        static Stats of(List<Double> xs) {
            List<Double> s = xs.stream().sorted().toList();
            if (s.isEmpty()) return new Stats(0, Double.NaN, Double.NaN);
            return new Stats(s.size(), s.get((s.size() - 1) / 2), s.get(Math.min(s.size() - 1, (int) Math.ceil(0.99 * s.size()) - 1)));
        }
    }

    static void row(String name, Stats s, String unit, String baseName, Stats base) {
        String b = base == null ? "" : String.format("   | baseline %s: median %.2f %s, p99 %.2f %s", baseName, base.median(), unit, base.p99(), unit);
        System.out.printf("%-48s median %9.2f %s  p99 %9.2f %s  (n=%d)%s%n", name, s.median(), unit, s.p99(), unit, s.n(), b);
    }
}
