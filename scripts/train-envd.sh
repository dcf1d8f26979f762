#!/usr/bin/env bash
# Trains envd's AOT cache (JDK 25, JEP 483/514) with a real run, inside a root
# filesystem that holds nothing but a static busybox: so every build also proves that
# the runtime needs nothing from the sandbox's image.
#
# Usage: scripts/train-envd.sh RUNTIME_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runtime=$(cd "$1" && pwd)
busybox=${CELLA_BUSYBOX:-/bin/busybox}
port=${CELLA_TRAIN_PORT:-49391}

file_is_static() { ! grep -qa '/ld-linux' "$1"; }  # no program interpreter named in it
[ -x "$busybox" ] && file_is_static "$busybox" || {
  echo "train-envd: a static busybox is needed at $busybox (apt-get install busybox-static)" >&2; exit 1; }

broot=$(mktemp -d /tmp/cella-busybox-root.XXXXXX)
trap 'rm -rf "$broot"' EXIT
chmod 755 "$broot"
mkdir -p "$broot"/{bin,etc,tmp,root,home/user}
cp "$busybox" "$broot/bin/busybox"
for a in sh echo cat ls sleep id pwd true env; do ln -s busybox "$broot/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' > "$broot/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\n' > "$broot/etc/group"
chown 1000:1000 "$broot/home/user"
chmod 1777 "$broot/tmp"

"$here/envd-sandbox.sh" --root "$broot" --runtime "$runtime" --port "$port" --no-aot \
  --jvm-opt -XX:AOTMode=record --jvm-opt -XX:AOTConfiguration=/tmp/envd.aotconf >"$broot/envd.log" 2>&1 &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null || true; wait "$sandbox" 2>/dev/null || true; rm -rf "$broot"' EXIT

base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -s -o /dev/null "$base/health" && break
  sleep 0.1
done

# One Connect envelope: flag byte, 4-byte big-endian length, JSON.
envelope() { local j=$1 n=${#1}; printf "\\x00\\x00\\x00\\x$(printf %02x $((n / 256)))\\x$(printf %02x $((n % 256)))%s" "$j"; }
stream() { envelope "$2" | curl -s --max-time 10 -H 'Content-Type: application/connect+json' --data-binary @- "$base/$1"; }
unary() { curl -s --max-time 10 -H 'Content-Type: application/json' -d "$2" "$base/$1"; }

out=""
for i in 1 2 3 4 5; do
  out+=$(stream process.Process/Start '{"process":{"cmd":"/bin/sh","args":["-c","echo busybox-ok; id -u"]}}' | tr -d '\0')
  stream process.Process/Start '{"process":{"cmd":"/bin/sh","args":["-c","id"]},"pty":{"size":{"cols":80,"rows":24}}}' >/dev/null
  unary process.Process/List '{}' >/dev/null
  unary filesystem.Filesystem/MakeDir '{"path":"/home/user/d'$i'"}' >/dev/null
  printf 'hello %s' "$i" | curl -s --max-time 10 -H 'Content-Type: application/octet-stream' --data-binary @- "$base/files?path=/home/user/d$i/f.txt" >/dev/null
  curl -s -F "file=@/etc/hostname;filename=/home/user/d$i/g.txt" "$base/files" >/dev/null
  curl -s --compressed "$base/files?path=/home/user/d$i/f.txt" >/dev/null
  unary filesystem.Filesystem/Stat '{"path":"/home/user/d'$i'/f.txt"}' >/dev/null
  unary filesystem.Filesystem/ListDir '{"path":"/home/user","depth":2}' >/dev/null
  unary filesystem.Filesystem/Move '{"source":"/home/user/d'$i'/f.txt","destination":"/home/user/d'$i'/h.txt"}' >/dev/null
  unary filesystem.Filesystem/Remove '{"path":"/home/user/d'$i'"}' >/dev/null
  curl -s "$base/metrics" "$base/envs" >/dev/null
  curl -s -H 'Content-Type: application/json' -d '{"envVars":{"A":"1"}}' "$base/init" >/dev/null
done
# a watch that sees one event and then times out
( sleep 0.5; stream process.Process/Start '{"process":{"cmd":"/bin/sh","args":["-c","echo x > /home/user/w"]}}' >/dev/null ) &
envelope '{"path":"/home/user","recursive":true}' | curl -s --max-time 10 -H 'Connect-Timeout-Ms: 1500' \
  -H 'Content-Type: application/connect+json' --data-binary @- "$base/filesystem.Filesystem/WatchDir" >/dev/null || true
wait $! 2>/dev/null || true

expected=$(printf 'busybox-ok\n1000\n' | base64)   # stdout arrives base64-encoded
case "$out" in
  *"$expected"*) ;;
  *) echo "train-envd: envd did not run a command in the busybox root: $out" >&2; cat "$broot/envd.log" >&2; exit 1 ;;
esac

# SIGTERM to the JVM alone (it writes the configuration as it exits), not to the scripts around it
pkill -TERM -f -- "envd/jre/bin/java .*-XX:AOTConfiguration=/tmp/envd.aotconf" || true
wait "$sandbox" || true
[ -f "$broot/tmp/envd.aotconf" ] || { echo "train-envd: no AOT configuration was recorded" >&2; cat "$broot/envd.log" >&2; exit 1; }

"$here/envd-sandbox.sh" --root "$broot" --runtime "$runtime" --port "$port" --no-aot \
  --jvm-opt -XX:AOTMode=create --jvm-opt -XX:AOTConfiguration=/tmp/envd.aotconf \
  --jvm-opt -XX:AOTCache=/tmp/envd.aot >>"$broot/envd.log" 2>&1 || true
[ -f "$broot/tmp/envd.aot" ] || { echo "train-envd: the AOT cache was not created" >&2; cat "$broot/envd.log" >&2; exit 1; }
cp "$broot/tmp/envd.aot" "$runtime/envd.aot"
echo "train-envd: envd ran in a busybox-only root and trained $(du -h "$runtime/envd.aot" | cut -f1) of AOT cache" >&2
