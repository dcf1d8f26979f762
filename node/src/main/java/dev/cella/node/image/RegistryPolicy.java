package dev.cella.node.image;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where a pull may connect. Any API user names the registry ({@code fromImage "HOST/x:y"}),
 * and a registry names its token service and redirects its blobs: without a rule the node
 * would fetch from the host's own loopback services, the cloud's metadata address, the
 * host's private networks or the sandboxes' subnet for anyone who asks (server-side request
 * forgery). So a pull goes to public addresses only, unless the operator allows a host
 * ({@code --registry-allow HOST[:PORT]}: a registry on loopback for tests, one on the LAN).
 *
 * <p>The check resolves the name just before each connection; a name that resolves
 * differently between the check and the connect (DNS rebinding) is a residual risk the
 * JDK's client leaves open (docs/security.md).
 */
public final class RegistryPolicy {
    /** IPv4 ranges that are no public registry's: "this network", shared address space (carrier NAT, some clouds' metadata), benchmarking. */
    private static final List<Cidr> NOT_PUBLIC = List.of(Cidr.parse("0.0.0.0/8"), Cidr.parse("100.64.0.0/10"), Cidr.parse("198.18.0.0/15"));
    private final Set<String> allowed;
    private final List<Cidr> platform;

    /**
     * @param allowed  hosts (any port) or {@code host:port}s the operator allows whatever their address
     * @param platform the platform's own ranges (the sandboxes' subnet), refused like loopback
     */
    public RegistryPolicy(Set<String> allowed, List<String> platform) {
        this.allowed = allowed.stream().map(a -> a.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        this.platform = platform.stream().map(Cidr::parse).toList();
    }

    /** No exceptions, no platform ranges: public addresses only. */
    public static RegistryPolicy publicOnly() {
        return new RegistryPolicy(Set.of(), List.of());
    }

    /** Refuses a URL a pull must not connect to, saying why and how an operator allows it. */
    public void check(URI uri) throws IOException {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http")) throw new IOException("a registry is reached over http(s), not " + uri);
        String host = uri.getHost();
        if (host == null || host.isEmpty()) throw new IOException("no host in " + uri);
        host = host.toLowerCase(Locale.ROOT);
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        int port = uri.getPort() != -1 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        if (allowed.contains(bare) || allowed.contains(host) || allowed.contains(host + ":" + port) || allowed.contains(bare + ":" + port)) return;
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(bare);
        } catch (UnknownHostException e) {
            throw new IOException("registry host " + host + " does not resolve");
        }
        for (InetAddress a : addresses) {
            String why = refusal(a);
            if (why != null) {
                throw new IOException("registry host " + host + " is " + why + " (" + a.getHostAddress() + "): pulls go to public registries"
                        + " unless the operator allows it (--registry-allow " + host + ":" + port + ")");
            }
        }
    }

    /** Why a pull may not go to this address, or null. */
    String refusal(InetAddress a) {
        if (a.isLoopbackAddress()) return "on this host's loopback";
        if (a.isAnyLocalAddress()) return "the unspecified address";
        if (a.isLinkLocalAddress()) return "link-local (where clouds keep their metadata service)";
        if (a.isMulticastAddress()) return "a multicast address";
        if (a.isSiteLocalAddress()) return "a private address (10/8, 172.16/12, 192.168/16: the host's own networks)";
        for (Cidr c : platform) if (c.contains(a)) return "in the sandboxes' own network " + c;
        for (Cidr c : NOT_PUBLIC) if (c.contains(a)) return "not a public address (" + c + ")";
        if (a instanceof Inet6Address && (a.getAddress()[0] & 0xfe) == 0xfc) return "an IPv6 unique-local address (fc00::/7)";
        try {
            if (NetworkInterface.getByInetAddress(a) != null) return "one of this host's own addresses";
        } catch (SocketException e) {
            return "an address this host cannot tell is not its own";
        }
        return null;
    }

    /** An IPv4 range, {@code a.b.c.d/n}. */
    record Cidr(int network, int prefix) {
        static Cidr parse(String s) {
            String[] p = s.split("/");
            int prefix = Integer.parseInt(p[1]);
            return new Cidr(v4(p[0]) & mask(prefix), prefix);
        }

        boolean contains(InetAddress a) {
            return a instanceof Inet4Address && (v4(a.getHostAddress()) & mask(prefix)) == network;
        }

        private static int mask(int prefix) {
            return prefix == 0 ? 0 : -1 << (32 - prefix);
        }

        private static int v4(String dotted) {
            String[] o = dotted.split("\\.");
            return Integer.parseInt(o[0]) << 24 | Integer.parseInt(o[1]) << 16 | Integer.parseInt(o[2]) << 8 | Integer.parseInt(o[3]);
        }

        @Override
        public String toString() {
            return ((network >>> 24) & 255) + "." + ((network >>> 16) & 255) + "." + ((network >>> 8) & 255) + "." + (network & 255) + "/" + prefix;
        }
    }
}
