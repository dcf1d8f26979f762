package dev.cella.node.net;

/**
 * A sandbox's place on the node's network: slot n of the node's /16 gives a /30 with the
 * host's end at .1 and the sandbox's at .2, a veth named {@code cv<n>} on the host and
 * a network namespace named {@code cella-<sandbox id>}.
 */
public record SandboxAddress(int slot, String hostIp, String sandboxIp, String hostInterface, String netns) {
    public static final int SLOTS = 16384;

    public static SandboxAddress of(int slot, String sandboxId, int subnetSecondOctet) {
        if (slot < 0 || slot >= SLOTS) throw new IllegalArgumentException("slot out of range: " + slot);
        int base = slot * 4;
        String prefix = "10." + subnetSecondOctet + "." + (base >> 8) + ".";
        int low = base & 0xff;
        return new SandboxAddress(slot, prefix + (low + 1), prefix + (low + 2), "cv" + slot, "cella-" + sandboxId);
    }
}
