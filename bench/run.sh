#!/usr/bin/env bash
# The benchmark (./cella bench): every figure as median and p99 next to its baseline,
# measured in the same run on this machine. The whole output is also written to
# bench/results/<time>.txt (not committed; docs/performance.md quotes a run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export CELLA_BENCH_ROOTFS=${1:?usage: bench/run.sh ROOTFS [RUNS]}
export CELLA_BENCH_RUNS=${2:-20}
export CELLA_BENCH_RUNTIME="$root/envd/target/envd-runtime"
export CELLA_BENCH_SANDBOX="$root/scripts/envd-sandbox.sh"
export JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
mkdir -p "$here/results"
out="$here/results/$(date -u +%Y%m%dT%H%M%SZ).txt"

# the baselines' tools, from Debian's packages: podman (a container with a network) and wrk (HTTP load)
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]} for the baselines" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 || { apt-get update -qq >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2; }
fi

# podman run --rm of /bin/true on the same root filesystem, with podman's default network; on a
# hybrid cgroup host podman needs crun's private-mount trick, and rlimits within the hard ones
podman_true() {
  unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' sh \
    podman run --rm --cgroup-manager cgroupfs --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    --rootfs "$CELLA_BENCH_ROOTFS" /bin/true
}
podman_median() {
  local xs=() i t0 t1
  for i in $(seq 1 $((CELLA_BENCH_RUNS / 2 + 3))); do
    t0=$(date +%s%N); podman_true >/dev/null 2>&1 || { echo "?"; return; }; t1=$(date +%s%N)
    [ "$i" -gt 3 ] && xs+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${xs[@]}" | sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.1f", m/1000}'
}

{
  node "$here/envd-bench.mjs"
  echo
  node_out=$(mktemp)
  "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$root/bench/target/cella-bench.jar:$root/bench/target/lib/*" \
    dev.cella.bench.NodeBench "$CELLA_BENCH_ROOTFS" "$CELLA_BENCH_RUNTIME" "$CELLA_BENCH_RUNS" 2>/dev/null | tee "$node_out"
  echo
  export CELLA_BENCH_CRUN_BASELINE=$(grep -m1 'baseline crun run' "$node_out" | sed -E 's/.*baseline crun run \/bin\/true: median ([0-9.]+).*/\1/')
  rm -f "$node_out"
  export CELLA_BENCH_PODMAN_BASELINE=$(podman_median)
  export SERVER_JAR="$root/server/target/cella-server.jar"
  node "$here/server-bench.mjs"
} 2>&1 | tee "$out"
echo "bench: written to $out"
