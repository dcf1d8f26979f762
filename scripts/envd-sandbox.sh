#!/usr/bin/env bash
# Runs envd inside an isolated root filesystem: its own mount, pid, uts and ipc
# namespaces (the host's network, so it can listen on the host's loopback), the envd
# runtime mounted read-only at /.cella/envd, envd as pid 1 (it reaps orphans).
#
# Usage: envd-sandbox.sh --root DIR --runtime DIR [--overlay] [--host H] [--port N]
#                        [--jvm-opt OPT]... [--no-aot] [-- ENVD_ARGS...]
#   --overlay   write into a throwaway layer over DIR (removed on exit), not into DIR
#
# This is the development harness (`./cella dev envd`) and the way tests start envd;
# the node will do the same with crun and a network namespace of its own.
set -euo pipefail

root="" runtime="" overlay=0 host=127.0.0.1 port=49983 aot=1
jvm_opts=() envd_args=()
inside=0 merged=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    --runtime) runtime=$2; shift 2 ;;
    --overlay) overlay=1; shift ;;
    --host) host=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --jvm-opt) jvm_opts+=("$2"); shift 2 ;;
    --no-aot) aot=0; shift ;;
    --inside) inside=1; merged=$2; shift 2 ;;
    --) shift; envd_args=("$@"); break ;;
    *) echo "envd-sandbox: unknown option $1" >&2; exit 2 ;;
  esac
done

mount_path=/.cella/envd

if [ "$inside" = 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "envd-sandbox: must run as root (namespaces and mounts)" >&2; exit 1; }
  [ -d "$root" ] || { echo "envd-sandbox: no root filesystem at '$root'" >&2; exit 1; }
  [ -x "$runtime/jre/bin/java" ] || { echo "envd-sandbox: no envd runtime at '$runtime'" >&2; exit 1; }
  work=$(mktemp -d /tmp/cella-envd-sandbox.XXXXXX)
  cleanup() { umount -R "$work/merged" 2>/dev/null || true; rm -rf "$work"; }
  trap cleanup EXIT
  mkdir -p "$work/merged"
  pass=(--runtime "$runtime" --host "$host" --port "$port")
  [ "$aot" = 0 ] && pass+=(--no-aot)
  for o in "${jvm_opts[@]}"; do pass+=(--jvm-opt "$o"); done
  if [ "$overlay" = 1 ]; then
    mkdir -p "$work/upper" "$work/work"
    pass+=(--root "$root" --overlay)
  else
    pass+=(--root "$root")
  fi
  # --kill-child: when this script dies, the sandbox's pid 1 (and so every process in it) dies too.
  unshare --mount --pid --uts --ipc --fork --kill-child --propagation private \
    "$0" "${pass[@]}" --inside "$work" -- "${envd_args[@]}" &
  child=$!
  # unshare does not pass SIGTERM on; killing it makes the kernel kill the sandbox's pid 1
  # (--kill-child), and with it the whole pid namespace.
  trap 'kill -KILL $child 2>/dev/null || true' INT TERM
  set +e
  wait $child
  rc=$?
  set -e
  exit $rc
fi

# --- inside the new namespaces ---
work=$merged
m="$work/merged"
if [ "$overlay" = 1 ]; then
  mount -t overlay overlay -o "lowerdir=$root,upperdir=$work/upper,workdir=$work/work" "$m"
else
  mount --bind "$root" "$m"
fi
mkdir -p "$m$mount_path" "$m/proc" "$m/dev" "$m/tmp"
mount --bind "$runtime" "$m$mount_path"
mount -o remount,bind,ro "$m$mount_path"
mount -t proc proc "$m/proc"
# A private /dev: the few harmless devices, its own pty instance.
mount -t tmpfs -o mode=755,nosuid tmpfs "$m/dev"
for d in null zero full random urandom tty; do
  touch "$m/dev/$d"; mount --bind "/dev/$d" "$m/dev/$d"
done
mkdir -p "$m/dev/pts" "$m/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$m/dev/pts"
ln -s pts/ptmx "$m/dev/ptmx"
ln -s /proc/self/fd "$m/dev/fd"
mount -t tmpfs -o nosuid,nodev tmpfs "$m/dev/shm"
if [ -f "$m/etc/resolv.conf" ] || [ -L "$m/etc/resolv.conf" ]; then
  rm -f "$m/etc/resolv.conf" 2>/dev/null || true
  cp /etc/resolv.conf "$m/etc/resolv.conf" 2>/dev/null || true
fi
hostname cella-dev

java=("$mount_path/glibc/ld.so" --library-path "$mount_path/glibc" "$mount_path/jre/bin/java")
opts=("@$mount_path/envd.args")
if [ "$aot" = 1 ] && [ -f "$runtime/envd.aot" ]; then opts+=("-XX:AOTCache=$mount_path/envd.aot"); fi
# envd's locale, as the node gives it (OciConfig): UTF-8 file names in any image
exec env -u LC_ALL -u LANG LOCPATH="$mount_path/locale" LC_CTYPE=C.UTF-8 \
  chroot "$m" "${java[@]}" "${opts[@]}" "${jvm_opts[@]}" dev.cella.envd.Envd --host "$host" --port "$port" "${envd_args[@]}"
