package dev.cella.node.net;

import dev.cella.node.sys.Command;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * The network of each sandbox: its own namespace, a veth pair to the host with a /30,
 * a default route through the host, and the node's nftables table that keeps sandboxes
 * from the host, from each other, from private ranges and the metadata address, and
 * lets only sandboxes with internet access out through NAT. What a sandbox may not
 * reach is rejected, not dropped: its programs fail at once instead of hanging.
 *
 * <p>Everything is named from the sandbox id or its slot, so a reconciler can find and
 * remove what no sandbox owns.
 */
public final class SandboxNetwork {
    private static final Logger log = LoggerFactory.getLogger(SandboxNetwork.class);
    public static final String TABLE = "cella";

    private final int subnetOctet;
    private final BitSet slots = new BitSet(SandboxAddress.SLOTS);

    public SandboxNetwork(int subnetOctet) {
        this.subnetOctet = subnetOctet;
    }

    public String subnet() {
        return "10." + subnetOctet + ".0.0/16";
    }

    /**
     * Installs (or re-installs) the node's nftables table. Two sets: the sandboxes allowed
     * out ({@code internet}), and each sandbox's interface with its address ({@code bound}):
     * a packet from a sandbox's interface must carry that sandbox's address, or a sandbox
     * without internet could send as one with it (its root may make raw packets when a
     * template grants CAP_NET_RAW; the host's side sees the interface whatever the packet
     * says). IPv6 from a sandbox is refused as a whole below; ARP cannot reach past a
     * sandbox's own point-to-point link.
     */
    public void installRules(List<String> internetIps) throws IOException {
        installRules(internetIps, List.of());
    }

    /** As {@link #installRules(List)}, with the sandboxes already running (re-adopted) bound to their interfaces. */
    public void installRules(List<String> internetIps, List<SandboxAddress> running) throws IOException {
        List<String> boundElements = running.stream().map(SandboxNetwork::boundElement).toList();
        Files.writeString(Path.of("/proc/sys/net/ipv4/ip_forward"), "1");
        String elements = internetIps.isEmpty() ? "" : " elements = { " + String.join(", ", internetIps) + " }";
        String rules = """
                table inet %1$s
                delete table inet %1$s
                table inet %1$s {
                  set internet {
                    type ipv4_addr;%2$s
                  }
                  set bound {
                    type ifname . ipv4_addr;%4$s
                  }
                  chain input {
                    type filter hook input priority filter; policy accept;
                    iifname "cv*" iifname . ip saddr != @bound counter drop comment "a sandbox sends from its own address only"
                    iifname "cv*" ct state established,related accept
                    iifname "cv*" counter reject with icmpx type admin-prohibited comment "a sandbox reaches no service of the host"
                  }
                  chain forward {
                    type filter hook forward priority filter; policy accept;
                    iifname "cv*" iifname . ip saddr != @bound counter drop comment "a sandbox sends from its own address only"
                    oifname "cv*" ct state established,related accept
                    iifname "cv*" oifname "cv*" counter reject with icmpx type admin-prohibited comment "no sandbox reaches another"
                    iifname "cv*" ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 169.254.0.0/16, 127.0.0.0/8 } counter reject with icmpx type admin-prohibited
                    iifname "cv*" ip saddr != @internet counter reject with icmpx type admin-prohibited comment "internet only when the sandbox allows it"
                    iifname "cv*" meta nfproto ipv6 drop
                    oifname "cv*" counter drop comment "nothing from outside opens a connection into a sandbox"
                  }
                  chain postrouting {
                    type nat hook postrouting priority srcnat; policy accept;
                    ip saddr %3$s oifname != "cv*" masquerade
                  }
                }
                """.formatted(TABLE, elements, subnet(), boundElements.isEmpty() ? "" : " elements = { " + String.join(", ", boundElements) + " }");
        Command.run(List.of("nft", "-f", "-"), rules);
    }

    public void removeRules() throws IOException {
        Command.result(List.of("nft", "delete", "table", "inet", TABLE), null);
    }

    public synchronized SandboxAddress allocate(String sandboxId) {
        int slot = slots.nextClearBit(0);
        if (slot >= SandboxAddress.SLOTS) throw new IllegalStateException("no network slot left on this node");
        slots.set(slot);
        return SandboxAddress.of(slot, sandboxId, subnetOctet);
    }

    /** Marks a slot as taken by a sandbox found running (re-adoption). */
    public synchronized void claim(int slot) {
        slots.set(slot);
    }

    public synchronized void release(SandboxAddress address) {
        slots.clear(address.slot());
    }

    /**
     * Creates the namespace, the veth pair and the routes; undoes what it did when a step
     * fails. Two {@code ip -batch} runs (the host's side, then the sandbox's) instead of eight
     * {@code ip} processes: a start spends its time on work, not on spawning tools.
     */
    public void create(SandboxAddress a, boolean internet) throws IOException {
        try {
            Command.run(List.of("ip", "-batch", "-"), String.join("\n",
                    "netns add " + a.netns(),
                    "link add " + a.hostInterface() + " type veth peer name eth0 netns " + a.netns(),
                    "addr add " + a.hostIp() + "/30 dev " + a.hostInterface(),
                    "link set " + a.hostInterface() + " up") + "\n");
            Command.run(List.of("ip", "-n", a.netns(), "-batch", "-"), String.join("\n",
                    "addr add " + a.sandboxIp() + "/30 dev eth0",
                    "link set lo up",
                    "link set eth0 up",
                    "route add default via " + a.hostIp()) + "\n");
            // its address bound to its interface, and its internet permission: one nft run
            Command.run(List.of("nft", "-f", "-"), "add element inet " + TABLE + " bound { " + boundElement(a) + " }\n"
                    + (internet ? "add element inet " + TABLE + " internet { " + a.sandboxIp() + " }\n" : ""));
        } catch (IOException e) {
            destroy(a);
            throw e;
        }
    }

    /** A sandbox found running after the node's rules were made anew: its address bound to its interface again. */
    public void bind(SandboxAddress a) throws IOException {
        Command.run("nft", "add", "element", "inet", TABLE, "bound", "{ " + boundElement(a) + " }");
    }

    private static String boundElement(SandboxAddress a) {
        return "\"" + a.hostInterface() + "\" . " + a.sandboxIp();
    }

    public void allowInternet(SandboxAddress a) throws IOException {
        Command.run("nft", "add", "element", "inet", TABLE, "internet", "{ " + a.sandboxIp() + " }");
    }

    public void denyInternet(SandboxAddress a) throws IOException {
        Command.run("nft", "delete", "element", "inet", TABLE, "internet", "{ " + a.sandboxIp() + " }");
    }

    /** Removes the namespace (which takes the veth pair with it) and the internet permission. */
    public void destroy(SandboxAddress a) {
        Command.Result r;
        try {
            Command.result(List.of("nft", "delete", "element", "inet", TABLE, "internet", "{ " + a.sandboxIp() + " }"), null);
            Command.result(List.of("nft", "delete", "element", "inet", TABLE, "bound", "{ " + boundElement(a) + " }"), null);
            // one ip run; -force goes on past a part that is gone already
            r = Command.result(List.of("ip", "-force", "-batch", "-"), "link del " + a.hostInterface() + "\nnetns del " + a.netns() + "\n");
            if (!r.ok() && Files.exists(Path.of("/run/netns", a.netns()))) log.warn("could not delete netns {}: {}", a.netns(), r.stderr());
        } catch (IOException e) {
            log.warn("network cleanup of {}: {}", a.netns(), e.toString());
        }
        release(a);
    }

    /** Network namespaces and host interfaces that look like ours, for the reconciler. */
    public static List<String> namespaces() throws IOException {
        List<String> out = new ArrayList<>();
        Path dir = Path.of("/run/netns");
        if (!Files.isDirectory(dir)) return out;
        try (var s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("cella-")).forEach(out::add);
        }
        return out;
    }

    public static List<String> hostInterfaces() throws IOException {
        List<String> out = new ArrayList<>();
        try (var s = Files.list(Path.of("/sys/class/net"))) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.matches("cv\\d+")).forEach(out::add);
        }
        return out;
    }
}
