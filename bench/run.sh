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
exec node "$here/envd-bench.mjs"
