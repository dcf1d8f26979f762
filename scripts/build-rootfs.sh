#!/usr/bin/env bash
# Builds the default `base` root filesystem: Debian bookworm (minbase) with what E2B
# users expect (bash, coreutils, procps, python3, curl, git, sudo, iproute2) and a
# user `user` (uid 1000, home /home/user, passwordless sudo).
#
# The tree is cached under $CELLA_CACHE (default /var/cache/cella), keyed by the hash
# of this script, so it is built once per machine. Prints the tree's path.
#
# Usage: scripts/build-rootfs.sh [--print-path]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${CELLA_CACHE:-/var/cache/cella}
key=$(sha256sum "$0" | cut -c1-12)
out="$cache/rootfs/base-$key"

if [ "${1:-}" = "--print-path" ]; then echo "$out"; exit 0; fi
if [ -f "$out/.cella-complete" ]; then echo "$out"; exit 0; fi

command -v mmdebstrap >/dev/null || { echo "build-rootfs: mmdebstrap is missing (apt-get install mmdebstrap)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "build-rootfs: must run as root" >&2; exit 1; }

mkdir -p "$cache/rootfs"
tmp="$cache/rootfs/.building-$key-$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT

# The machine's own apt sources (a mirror or snapshot this machine can reach), each
# file passed as it is: mmdebstrap pastes .list and deb822 .sources files alike.
mirrors=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -s "$f" ] && mirrors+=("$f")
done
[ ${#mirrors[@]} -gt 0 ] || mirrors=("http://deb.debian.org/debian")

echo "build-rootfs: building Debian bookworm into $out (about half a minute)" >&2
mmdebstrap --quiet --variant=minbase --mode=root --format=directory \
  --include=bash,coreutils,procps,python3,curl,git,ca-certificates,sudo,iproute2,less,nano \
  --customize-hook='chroot "$1" useradd --create-home --uid 1000 --user-group --shell /bin/bash user' \
  --customize-hook='echo "user ALL=(ALL:ALL) NOPASSWD: ALL" > "$1/etc/sudoers.d/user"; chmod 0440 "$1/etc/sudoers.d/user"' \
  --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
  --customize-hook='mkdir -p "$1/.cella/envd"' \
  bookworm "$tmp" "${mirrors[@]}" >&2

# Every command the E2B SDK runs is `bash -l -c ...`, and Debian's /etc/profile forks
# `id -u` for it: ~2 ms of each command's ~4 (docs/performance.md). bash knows its uid
# ($EUID); a plain sh, which has none, still asks id.
sed -i 's/if \[ "$(id -u)" -eq 0 \]; then/if [ "${EUID:-$(id -u)}" -eq 0 ]; then/' "$tmp/etc/profile"
if grep -q '"$(id -u)"' "$tmp/etc/profile"; then
  echo "build-rootfs: /etc/profile is not the one expected (it still forks id -u)" >&2; exit 1
fi

touch "$tmp/.cella-complete"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
