package dev.cella.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.api.NodeApi;
import dev.cella.node.api.NodeCapacity;
import dev.cella.node.envd.EnvdRuntime;
import dev.cella.node.envd.EnvdSetup;
import dev.cella.node.image.ImagePuller;
import dev.cella.node.image.RegistryPolicy;
import dev.cella.node.metrics.MetricsSampler;
import dev.cella.node.net.SandboxNetwork;
import dev.cella.node.pool.WarmPool;
import dev.cella.node.proxy.NodeRoutes;
import dev.cella.node.proxy.SandboxProxy;
import dev.cella.node.runtime.CgroupLayout;
import dev.cella.node.runtime.ContainerDriver;
import dev.cella.node.runtime.Crun;
import dev.cella.node.runtime.DiskStock;
import dev.cella.node.runtime.HostTables;
import dev.cella.node.runtime.SeccompProfile;
import dev.cella.node.sandbox.SandboxStore;
import dev.cella.node.sandbox.Sandboxes;
import dev.cella.node.sandbox.StartQueue;
import dev.cella.node.sys.Paths;
import dev.cella.node.template.NodeTemplates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * A node: the parts wired by hand, in one place. On start it makes its network rules
 * anew, re-adopts the sandboxes on record that still run, removes what nothing owns,
 * then serves its API and its traffic proxy.
 */
public final class Node implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Node.class);

    private final Sandboxes sandboxes;
    private final MetricsSampler metrics;
    private final NodeApi api;
    private final SandboxProxy proxy;
    private final NodeTemplates templates;
    private final ImagePuller images;
    private final WarmPool pool;
    private final DiskStock disks;

    public Node(NodeConfig c) throws IOException {
        SeccompProfile.policy(System.getProperty("os.arch")); // a machine without a seccomp policy is refused here, not at its first create
        ObjectMapper json = new ObjectMapper();
        Paths.ownerOnly(Files.createDirectories(c.stateDir())); // sandboxes' files, image layers, tokens: root's alone
        // no sandbox fills the host's file or terminal table for everyone
        new HostTables(Path.of("/proc/sys")).raise(Files.readString(Path.of("/proc/cmdline")));
        SandboxNetwork network = new SandboxNetwork(c.subnetOctet());
        disks = new DiskStock(c.stateDir().resolve("disks"), 4).start();
        ContainerDriver driver = new ContainerDriver(c.stateDir(), new Crun(c.stateDir().resolve("crun"), CgroupLayout.detect(), json),
                network, new EnvdRuntime(c.envdRuntime()), new EnvdSetup(json), json, disks);
        // the rules made anew with the sandboxes still running already bound to their interfaces: their traffic
        // (the proxy's, their own) goes on while they are re-adopted one by one
        network.installRules(List.of(), driver.recordedAddresses());
        sandboxes = new Sandboxes(driver, new SandboxStore(c.stateDir()), Clock.systemUTC(), StartQueue.forHost());
        List<String> removed = sandboxes.recover();
        log.info("node state in {}: {} sandboxes re-adopted, {} orphaned objects removed", c.stateDir(), sandboxes.list().size(), removed.size());
        metrics = new MetricsSampler(sandboxes, driver).start();
        proxy = new SandboxProxy(new NodeRoutes(sandboxes)).start(c.proxyHost(), c.proxyPort());
        templates = new NodeTemplates(c.templates(), c.stateDir().resolve("templates"));
        templates.collect(sandboxes.templatesInUse());
        EnvdSetup warmUps = new EnvdSetup(json);
        pool = new WarmPool(driver, s -> warmUps.warmUp(s.envdUrl()), sandboxes.starts(), templates::rootfs, c.templates().keySet(), c.pool(), Clock.systemUTC());
        sandboxes.usePool(pool);
        pool.start();
        images = new ImagePuller(c.stateDir(), templates, new RegistryPolicy(c.registryAllow(), List.of(network.subnet())));
        api = new NodeApi(sandboxes, templates, images, pool, new NodeCapacity(c.id(), driver.kind(), c.stateDir(), proxy.port()),
                metrics, c.token()).start(c.apiHost(), c.apiPort());
        log.info("node API on {}:{}, sandbox proxy on {}:{}", c.apiHost(), api.port(), c.proxyHost(), proxy.port());
    }

    public int apiPort() { return api.port(); }

    public int proxyPort() { return proxy.port(); }

    public Sandboxes sandboxes() { return sandboxes; }

    public MetricsSampler metrics() { return metrics; }

    public NodeTemplates templates() { return templates; }

    public ImagePuller images() { return images; }

    public WarmPool pool() { return pool; }

    /** Deletes a layered template (see {@link Sandboxes#deleteTemplate}). */
    public boolean deleteTemplate(String templateId) throws IOException {
        return sandboxes.deleteTemplate(templates, templateId);
    }

    /** Stops serving; the sandboxes keep running and are re-adopted by the next start. */
    @Override
    public void close() {
        api.stop();
        proxy.stop();
        metrics.close();
        pool.close();
        sandboxes.close();
        disks.close();
    }
}
