#!/usr/bin/env bash
# Installs what Cella needs on a Debian 12 machine, from Debian's packages, when it is
# missing. Safe to run again. Usage: scripts/install-prereqs.sh [--with-node | --with-tests]
set -euo pipefail
with_tests=0 with_node=0
case "${1:-}" in
  --with-tests) with_tests=1; with_node=1 ;;  # tests also need PostgreSQL (the server's fleet database)
  --with-node) with_node=1 ;;
esac

need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
packages=(mmdebstrap busybox-static curl util-linux iproute2 ca-certificates)
# the node: crun runs sandboxes, nftables isolates them, e2fsprogs makes their disks
[ "$with_node" = 1 ] && packages+=(crun nftables e2fsprogs python3)
# tests also need PostgreSQL (the fleet database) and an OCI registry on loopback (image pulls)
[ "$with_tests" = 1 ] && packages+=(postgresql docker-registry)
for p in "${packages[@]}"; do have "$p" || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "cella: missing Debian packages: ${need[*]} (run as root, or: apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "cella: installing ${need[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

java_home=${CELLA_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ ! -x "$java_home/bin/java" ] || ! "$java_home/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
  echo "cella: a JDK 25 is needed at $java_home (set CELLA_JAVA_HOME to another one)" >&2
  exit 1
fi

if [ "$with_tests" = 1 ]; then
  if ! command -v node >/dev/null || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a==20&&b>=18)||a==22?0:1)'; then
    echo "cella: the end-to-end tests need Node.js >= 20.18 (the E2B SDK's minimum)" >&2
    exit 1
  fi
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [ ! -d "$here/e2e/js/node_modules/e2b" ] || [ "$here/e2e/js/package-lock.json" -nt "$here/e2e/js/node_modules/.package-lock.json" ]; then
    (cd "$here/e2e/js" && npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
fi
