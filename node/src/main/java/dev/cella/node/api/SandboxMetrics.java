package dev.cella.node.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cella.node.metrics.MetricPoint;

import java.util.List;

/** {@code GET /v1/sandboxes/{id}/metrics?range=}: the Wrenn API's CapsuleMetrics, as the node keeps them. */
public record SandboxMetrics(@JsonProperty("sandbox_id") String sandboxId, String range,
                             List<MetricPoint> points) {}
