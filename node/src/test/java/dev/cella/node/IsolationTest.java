package dev.cella.node;

import dev.cella.node.runtime.OciConfig;
import dev.cella.node.runtime.RunningSandbox;
import dev.cella.node.sys.Command;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What a sandbox cannot do: use more memory or processes than it was given, see the
 * host, reach the host's services, other sandboxes, the metadata address or private
 * ranges; and it reaches "the internet" only when allowed. The internet here is a test
 * host in a network namespace of this test's own, at a documentation address
 * (198.51.100.0/24) routed through the node like any public address.
 */
class IsolationTest {
    static NodeFixture node;
    static RunningSandbox a, b, online;
    static final String INTERNET_NS = "cella-test-inet";
    static final String INTERNET_IP = "198.51.100.7";
    static Process internetListener, hostListener;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(NodeFixture.isRoot(), "sandboxes need root: namespaces, mounts, cgroups (CI is root)");
        node = new NodeFixture();
        // a stand-in for a host on the internet: its own namespace, a veth to the node, a route
        Command.result(List.of("ip", "netns", "del", INTERNET_NS), null);
        Command.run("ip", "netns", "add", INTERNET_NS);
        Command.run("ip", "link", "add", "cellainet0", "type", "veth", "peer", "name", "eth0", "netns", INTERNET_NS);
        Command.run("ip", "addr", "add", "198.51.100.1/24", "dev", "cellainet0");
        Command.run("ip", "link", "set", "cellainet0", "up");
        Command.run("ip", "-n", INTERNET_NS, "addr", "add", INTERNET_IP + "/24", "dev", "eth0");
        Command.run("ip", "-n", INTERNET_NS, "link", "set", "eth0", "up");
        Command.run("ip", "-n", INTERNET_NS, "route", "add", "default", "via", "198.51.100.1");
        internetListener = listener(List.of("ip", "netns", "exec", INTERNET_NS), "0.0.0.0", 8080);
        hostListener = listener(List.of(), "0.0.0.0", 18080);
        a = node.driver.create(node.spec("isoa", 256, false));
        b = node.driver.create(node.spec("isob", 256, false));
        online = node.driver.create(node.spec("isonet", 256, true));
    }

    /** A tiny HTTP server answering "hello", from the host's python3. */
    static Process listener(List<String> prefix, String host, int port) throws Exception {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of("python3", "-c",
                "import http.server as h\n"
                        + "class H(h.BaseHTTPRequestHandler):\n"
                        + "  def do_GET(s):\n    s.send_response(200); s.end_headers(); s.wfile.write(b'hello')\n"
                        + "  def log_message(s,*a): pass\n"
                        + "h.HTTPServer(('" + host + "'," + port + "),H).serve_forever()"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread.sleep(500);
        return p;
    }

    @AfterAll
    static void stop() throws Exception {
        if (internetListener != null) internetListener.destroyForcibly();
        if (hostListener != null) hostListener.destroyForcibly();
        Command.result(List.of("ip", "link", "del", "cellainet0"), null);
        Command.result(List.of("ip", "netns", "del", INTERNET_NS), null);
        if (node != null) node.close();
    }

    String curl(RunningSandbox s, String url) throws Exception {
        return node.run(s.envdUrl(), "curl -s -m 2 -o - -w ' %{http_code}' " + url + " 2>&1; true", null).stdout().trim();
    }

    @Test
    void internetOnlyWhenAllowed() throws Exception {
        assertThat(curl(online, "http://" + INTERNET_IP + ":8080/")).isEqualTo("hello 200");
        assertThat(curl(a, "http://" + INTERNET_IP + ":8080/")).endsWith("000");
    }

    @Test
    void noHostServiceIsReachable() throws Exception {
        // the host's own address on the sandbox's link, the host's loopback-bound and any-bound services
        assertThat(curl(online, "http://" + online.address().hostIp() + ":18080/")).endsWith("000");
        assertThat(curl(a, "http://" + a.address().hostIp() + ":18080/")).endsWith("000");
        assertThat(curl(a, "http://198.51.100.1:18080/")).endsWith("000");
    }

    @Test
    void noOtherSandboxMetadataOrPrivateRange() throws Exception {
        assertThat(curl(a, "http://" + b.address().sandboxIp() + ":49983/health")).endsWith("000");
        assertThat(curl(online, "http://" + b.address().sandboxIp() + ":49983/health")).endsWith("000");
        assertThat(curl(online, "http://169.254.169.254/latest/meta-data/")).endsWith("000");
        assertThat(curl(online, "http://192.168.1.1/")).endsWith("000");
        assertThat(curl(online, "http://10.0.0.1/")).endsWith("000");
    }

    @Test
    void theHostIsInvisible() throws Exception {
        var r = node.run(a.envdUrl(), "ps -e -o comm= | sort -u | tr '\\n' ' '; ls /sys/fs/cgroup/memory | head -1; ls /dev | tr '\\n' ' '", null);
        assertThat(r.stdout()).doesNotContain("java ").doesNotContain("maven").doesNotContain("surefire");
        assertThat(r.stdout()).doesNotContain("vda").doesNotContain("kvm").doesNotContain("loop");
        // /proc/kcore is masked, /proc/sys read-only
        var w = node.run(a.envdUrl(), "cat /proc/kcore | wc -c; echo 1 > /proc/sys/kernel/panic && echo wrote || echo refused", "root");
        assertThat(w.stdout()).isEqualTo("0\nrefused\n");
    }

    @Test
    void aMemoryBombDiesAndTheSandboxLivesOn() throws Exception {
        var r = node.run(a.envdUrl(), "python3 -c 'x = bytearray(1024*1024*1024)'; echo exit=$?", null);
        assertThat(r.stdout()).isEqualTo("exit=137\n"); // SIGKILL from the OOM killer in the sandbox's cgroup
        assertThat(node.run(a.envdUrl(), "echo alive", null).stdout()).isEqualTo("alive\n");
    }

    @Test
    void aForkBombIsStopped() throws Exception {
        // forks until the kernel refuses (the pids limit is 256); the children end after 3 s
        String bomb = "import os, time\n"
                + "n = 0\n"
                + "try:\n"
                + "    while n < 5000:\n"
                + "        if os.fork() == 0:\n"
                + "            time.sleep(3); os._exit(0)\n"
                + "        n += 1\n"
                + "except OSError as e:\n"
                + "    print('refused after', n)\n";
        var r = node.run(b.envdUrl(), "python3 -c \"$BOMB\" 2>&1", null, Map.of("BOMB", bomb));
        assertThat(r.stdout()).startsWith("refused after");
        int forks = Integer.parseInt(r.stdout().trim().split(" ")[2]);
        assertThat(forks).isLessThan(256);
        Thread.sleep(3500);
        assertThat(node.run(b.envdUrl(), "echo alive", null).stdout()).isEqualTo("alive\n");
    }

    @Test
    void itsVcpusAreAHardCpuLimit() throws Exception {
        // two busy loops in a sandbox of one vCPU get one CPU between them, not the host's two
        var before = node.driver.usage("isoa").orElseThrow();
        long t0 = System.nanoTime();
        node.run(a.envdUrl(), "timeout 2 sh -c 'while :; do :; done' & timeout 2 sh -c 'while :; do :; done' & wait; true", null);
        var after = node.driver.usage("isoa").orElseThrow();
        double cpus = (after.cpuNanos() - before.cpuNanos()) / (double) (System.nanoTime() - t0);
        assertThat(cpus).as("CPUs used").isBetween(0.3, 1.15); // the upper bound is the point; the lower one only says the loops ran
    }

    @Test
    void orphansAreReapedByThePidOne() throws Exception {
        // a child whose parent exits is re-parented to envd (pid 1), which must reap it
        node.run(a.envdUrl(), "bash -c '(sleep 0.2 &) ; exit 0'; sleep 0.6", null);
        var r = node.run(a.envdUrl(), "ps -eo stat= | grep -c '^Z' || true", null);
        assertThat(r.stdout().trim()).isEqualTo("0");
    }

    @Test
    void rootInTheSandboxHasFewCapabilitiesAndNoNewPrivileges() throws Exception {
        var r = node.run(a.envdUrl(), "grep -E 'CapEff|NoNewPrivs' /proc/self/status; ip link add x type dummy 2>&1 | head -1", "root");
        assertThat(r.stdout()).contains("NoNewPrivs:\t1");
        assertThat(r.stdout()).doesNotContain("CapEff:\t000001ffffffffff");
        assertThat(r.stdout()).containsIgnoringCase("Operation not permitted");
    }

    /**
     * What root in a sandbox plants in its files, a setuid-root shell and a device node, is
     * neither for the host: the sandboxes' directory is root's alone and their root file
     * systems are mounted nosuid, nodev (the device does not open even for the host's root).
     */
    @Test
    void whatTheSandboxPlantsIsNoSetuidProgramOrDeviceForTheHost() throws Exception {
        var r = node.run(a.envdUrl(), "cp /bin/sh /planted-sh && chmod 4755 /planted-sh && mknod /planted-mem c 1 1 && echo planted", "root");
        assertThat(r.stdout()).as(r.stderr()).contains("planted");
        Path sandboxes = node.state.resolve("sandboxes");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sandboxes))).isEqualTo("rwx------");
        Path rootfs = sandboxes.resolve("isoa/rootfs");
        assertThat(rootfs.resolve("planted-sh")).exists();
        String options = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(l -> l.split(" "))
                .filter(f -> f[4].equals(rootfs.toString())).map(f -> f[5]).findFirst().orElseThrow();
        assertThat(options.split(",")).contains("nosuid", "nodev");
        var opened = Command.result(List.of("head", "-c", "1", rootfs.resolve("planted-mem").toString()), null);
        assertThat(opened.exitCode()).as("the host's root opening the planted /dev/mem").isNotZero();
        // a host user other than root cannot even reach it
        // (from a shell, as a user would: setpriv resolves a program it is given before it drops root)
        var asNobody = Command.result(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sh", "-c",
                rootfs.resolve("planted-sh") + " -c 'id -u'"), null);
        assertThat(asNobody.exitCode()).isNotZero();
        assertThat(asNobody.stdout()).doesNotContain("0\n");
    }

    /**
     * A sandbox without internet cannot send as one with it: a UDP packet forged with the
     * online sandbox's source address, sent through the offline sandbox's interface (made
     * from its namespace by the host's root, since the sandbox's own root has no raw sockets
     * any more), never reaches the internet; the same packet with the online sandbox's own
     * interface does.
     */
    @Test
    void noSandboxSendsWithAnotherSandboxsAddress() throws Exception {
        Process udp = new ProcessBuilder("ip", "netns", "exec", INTERNET_NS, "python3", "-c",
                "import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('0.0.0.0',9999)); s.settimeout(4); print('ready', flush=True)\n"
                        + "try:\n  while True: print(s.recvfrom(100)[0].decode(), flush=True)\nexcept socket.timeout: pass").start();
        try {
            // bound before anything is sent, however slow the machine: it says so first
            BufferedReader lines = new BufferedReader(new InputStreamReader(udp.getInputStream()));
            assertThat(lines.readLine()).isEqualTo("ready");
            String forged = "import socket,struct\n"
                    + "src,dst=socket.inet_aton('" + online.address().sandboxIp() + "'),socket.inet_aton('" + INTERNET_IP + "')\n"
                    + "def pkt(tag):\n  data=tag.encode(); udp=struct.pack('!HHHH',40000,9999,8+len(data),0)+data\n"
                    + "  return struct.pack('!BBHHHBBH4s4s',0x45,0,20+len(udp),1,0,64,17,0,src,dst)+udp\n"
                    + "s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_RAW)\n"
                    + "import sys; s.sendto(pkt(sys.argv[1]),('" + INTERNET_IP + "',0))\n";
            Command.run("ip", "netns", "exec", a.address().netns(), "python3", "-c", forged, "forged-from-offline");
            Command.run("ip", "netns", "exec", online.address().netns(), "python3", "-c", forged, "own-from-online");
            String received = lines.lines().collect(Collectors.joining("\n"));
            assertThat(received).as("what the internet host received").contains("own-from-online").doesNotContain("forged-from-offline");
        } finally {
            udp.destroyForcibly();
        }
        // and inside: no raw sockets even for root, ping sockets for every user
        var r = node.run(a.envdUrl(), "python3 -c \"import socket\ntry:\n  socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW); print('raw')\n"
                + "except PermissionError: print('no raw')\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP); print('ping')\"", "root");
        assertThat(r.stdout()).as(r.stderr()).isEqualTo("no raw\nping\n");
        assertThat(node.run(a.envdUrl(), "python3 -c \"import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP); print('ping')\"", null)
                .stdout()).isEqualTo("ping\n");
    }

    /** The host's terminal count is shared by every sandbox: one sandbox holds at most its own devpts's share. */
    @Test
    void aSandboxHoldsABoundedNumberOfTerminals() throws Exception {
        var r = node.run(b.envdUrl(), "python3 -c \"import os\nfds=[]\ntry:\n  while len(fds) < 5000: fds.append(os.openpty())\n"
                + "except OSError as e: print(len(fds), e.errno)\"", null);
        String[] out = r.stdout().trim().split(" ");
        assertThat(out).as(r.stdout() + r.stderr()).hasSize(2);
        assertThat(Integer.parseInt(out[0])).isBetween(200, OciConfig.PTYS_PER_SANDBOX);
    }
}
