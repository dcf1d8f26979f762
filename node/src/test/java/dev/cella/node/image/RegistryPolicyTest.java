package dev.cella.node.image;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Where a pull may connect, and to whom a registry's credentials may go. No network: addresses are literals. */
@Tag("unit")
class RegistryPolicyTest {
    final RegistryPolicy policy = new RegistryPolicy(Set.of("127.0.0.1:5000", "registry.internal"), List.of("10.231.0.0/16"));

    @Test
    void hostsAndMetadataAndTheSandboxesNetworkAreRefused() throws Exception {
        for (String url : new String[] {"http://127.0.0.1:3000/v2/", "http://127.0.0.2/", "http://[::1]:8080/", "http://169.254.169.254/latest/meta-data",
                "http://[fe80::1]/", "http://0.0.0.0:22/", "http://10.231.0.7:49983/init", "http://224.0.0.1/", "http://127.0.0.1:5001/",
                "http://10.0.0.5/v2/", "http://192.168.1.10/", "http://172.16.0.1/", "http://100.100.100.200/", "http://[fd00:ec2::254]/",
                "http://198.18.0.1/"}) {
            assertThatThrownBy(() -> policy.check(URI.create(url))).as(url).hasMessageContaining("--registry-allow");
        }
        assertThatThrownBy(() -> policy.check(URI.create("file:///etc/passwd"))).hasMessageContaining("http(s)");
    }

    @Test
    void publicAddressesAndWhatTheOperatorAllowsAreTaken() {
        for (String url : new String[] {"https://93.184.216.34/v2/", "http://127.0.0.1:5000/v2/", "https://[2606:4700::1]/"}) {
            assertThatNoException().as(url).isThrownBy(() -> policy.check(URI.create(url)));
        }
        assertThat(policy.refusal(addr("100.63.255.255"))).as("next to the shared address space").isNull();
        assertThat(policy.refusal(addr("100.64.0.1"))).contains("100.64.0.0/10");
        assertThat(new RegistryPolicy(Set.of(), List.of("100.127.0.0/16")).refusal(addr("100.127.0.5"))).contains("sandboxes' own network");
    }

    @Test
    void credentialsGoToTheRegistryAndItsOwnSiteOverHttpsOnly() {
        URI hub = URI.create("https://registry-1.docker.io");
        assertThat(RegistryClient.mayReceiveCredentials(URI.create("https://auth.docker.io/token"), hub)).isTrue();
        assertThat(RegistryClient.mayReceiveCredentials(URI.create("https://registry-1.docker.io/token"), hub)).isTrue();
        assertThat(RegistryClient.mayReceiveCredentials(URI.create("https://evil.example/token"), hub)).isFalse();
        assertThat(RegistryClient.mayReceiveCredentials(URI.create("http://auth.docker.io/token"), hub)).as("not in the clear").isFalse();
        URI local = URI.create("http://127.0.0.1:5000");
        assertThat(RegistryClient.mayReceiveCredentials(URI.create("http://127.0.0.1:5000/token"), local)).isTrue();
        assertThat(RegistryClient.mayReceiveCredentials(URI.create("http://127.0.0.1:6000/token"), local)).isFalse();
    }

    static InetAddress addr(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
