package dev.cella.node.sandbox;

import dev.cella.node.problem.Problem;

import java.nio.file.Path;
import java.util.Map;

/**
 * What a sandbox is made of: the template's read-only root filesystem, its limits, and
 * what envd is told at start (variables, access token, default user), and the token
 * that traffic to its other ports must carry when it is not public (null: public), and the
 * directory commands start in when they name none (null: the user's home).
 */
public record SandboxSpec(
        String id,
        String templateId,
        Path templateRootfs,
        int vcpus,
        int memoryMb,
        int diskMb,
        int maxProcesses,
        boolean internet,
        Map<String, String> envVars,
        Map<String, String> metadata,
        String envdAccessToken,
        String defaultUser,
        String trafficAccessToken,
        String defaultWorkdir) {

    public SandboxSpec {
        if (id == null || !id.matches("[a-z0-9]{1,40}")) {
            throw new Problem.Invalid("sandbox id must be 1-40 lowercase letters or digits");
        }
        if (vcpus < 1 || memoryMb < 64 || diskMb < 64 || maxProcesses < 16) {
            throw new Problem.Invalid("limits too small: vcpus >= 1, memory and disk >= 64 MiB, processes >= 16");
        }
        envVars = Map.copyOf(envVars);
        metadata = Map.copyOf(metadata);
    }
}
