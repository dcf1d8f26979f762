#!/usr/bin/env bash
# The benchmark (./cella bench): every figure as median and p99 next to its baseline,
# measured in the same run on this machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export CELLA_BENCH_ROOTFS=${1:?usage: bench/run.sh ROOTFS [RUNS]}
export CELLA_BENCH_RUNS=${2:-20}
export CELLA_BENCH_RUNTIME="$root/envd/target/envd-runtime"
export CELLA_BENCH_SANDBOX="$root/scripts/envd-sandbox.sh"
node "$here/envd-bench.mjs"
echo
export JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
node_out=$(mktemp)
"$JAVA" --enable-native-access=ALL-UNNAMED -cp "$root/bench/target/cella-bench.jar:$root/bench/target/lib/*" \
  dev.cella.bench.NodeBench "$CELLA_BENCH_ROOTFS" "$CELLA_BENCH_RUNTIME" "$CELLA_BENCH_RUNS" 2>/dev/null | tee "$node_out"
echo
export CELLA_BENCH_CRUN_BASELINE=$(grep -m1 'baseline crun run' "$node_out" | sed -E 's/.*baseline crun run \/bin\/true: median ([0-9.]+).*/\1/')
rm -f "$node_out"
export SERVER_JAR="$root/server/target/cella-server.jar"
exec node "$here/server-bench.mjs"
