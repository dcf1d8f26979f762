package dev.cella.server.sandbox;

import dev.cella.node.problem.Problem;

/**
 * What one team may hold at once, over the whole fleet: sandboxes, their vCPUs and their
 * memory. Paused sandboxes count: a paused sandbox keeps its memory on its host (it is
 * frozen there), and traffic may resume it without asking the server (E2B's autoResume),
 * so a resume never needs a check of its own. Past it a create is refused with 429 and a
 * message naming the limit and the option that sets it; nothing is queued, since a quota
 * frees only when the team kills something.
 *
 * @param sandboxes {@code --team-max-sandboxes}
 * @param vcpus     {@code --team-max-vcpus}
 * @param memoryMb  {@code --team-max-memory-mb}
 */
public record TeamQuota(int sandboxes, int vcpus, long memoryMb) {
    /**
     * Generous enough for a team that uses one machine's pool hard (the bench's hundred
     * concurrent creates at the default 2 vCPUs, 512 MiB), bounded so that no team takes a
     * fleet by accident; operators set their own.
     */
    public static final TeamQuota DEFAULT = new TeamQuota(200, 400, 400L * 1024);
    /** How long a client refused for its quota is told to wait before asking again. */
    static final long RETRY_AFTER_SECONDS = 5;

    /** What a team holds now: its sandboxes (every row it has), their vCPUs and their memory. */
    public record Held(int sandboxes, long vcpus, long memoryMb) {}

    /** Refuses {@code vcpus}/{@code memoryMb} more when what the team {@code held} already is too much. */
    void admit(Held held, int vcpus, int memoryMb) {
        int n = held.sandboxes();
        long cpu = held.vcpus() + vcpus, mem = held.memoryMb() + memoryMb;
        if (n + 1 > sandboxes) refuse("at most " + sandboxes + " sandboxes at once, paused ones included (--team-max-sandboxes)");
        if (cpu > this.vcpus) refuse("at most " + this.vcpus + " vCPUs at once, " + (cpu - vcpus) + " in use (--team-max-vcpus)");
        if (mem > memoryMb()) refuse("at most " + memoryMb() + " MiB of memory at once, " + (mem - memoryMb) + " in use (--team-max-memory-mb)");
    }

    private static void refuse(String limit) {
        throw new Problem.Busy("the team's quota allows " + limit + ": kill a sandbox first", RETRY_AFTER_SECONDS);
    }
}
