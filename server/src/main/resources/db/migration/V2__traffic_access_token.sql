-- A sandbox whose traffic is not public (E2B's network.allowPublicTraffic = false): ports
-- other than envd's need this token in the e2b-traffic-access-token header.
ALTER TABLE sandboxes ADD COLUMN traffic_access_token VARCHAR(100);
CREATE INDEX sandboxes_node ON sandboxes(node_id);
