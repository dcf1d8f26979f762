package dev.cella.envd.process;

import java.util.List;
import java.util.Map;

/** What the client asked to run, echoed back by List. */
public record ProcessConfig(String cmd, List<String> args, Map<String, String> envs, String cwd) {}
