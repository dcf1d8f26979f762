#!/usr/bin/env bash
# Packages envd as a self-contained runtime directory that runs in ANY Linux root
# filesystem (glibc, musl, or nothing but a static busybox; with or without Java):
#
#   glibc/     the dynamic loader (as ld.so, whatever this architecture calls it) and the
#              few C libraries the JVM needs, from this host
#   locale/    glibc's C.UTF-8 locale, so envd encodes file names as UTF-8 in any image
#   jre/       a jlink'd JRE with only the modules envd uses, and its CDS archive
#   app/       envd.jar: cella-envd and its libraries in one jar
#   envd.args  the JVM's options and class path (a java @argfile: no shell needed)
#   envd.aot   an AOT cache (JDK 25) trained by a real run, for a fast start
#   bin/envd   a convenience launcher where a shell exists
#
# It is mounted read-only at /.cella/envd in every sandbox and writes nothing into
# itself. The sandbox starts it without any shell:
#   /.cella/envd/glibc/ld.so --library-path /.cella/envd/glibc \
#     /.cella/envd/jre/bin/java @/.cella/envd/envd.args -XX:AOTCache=/.cella/envd/envd.aot \
#     dev.cella.envd.Envd --port 49983
#
# The AOT training run happens in a root filesystem holding nothing but a static
# busybox, which also proves the claim above on every build. It needs root (mount and
# pid namespaces); without root the runtime is built without the AOT cache.
#
# Usage: scripts/build-envd-runtime.sh ENVD_TARGET_DIR   (envd/target)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
target=$(cd "${1:?usage: build-envd-runtime.sh ENVD_TARGET_DIR}" && pwd)
java_home=${CELLA_JAVA_HOME:-${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}}
out="$target/envd-runtime"
mount_path=/.cella/envd
modules=java.base,jdk.httpserver

[ -f "$target/cella-envd.jar" ] || { echo "build-envd-runtime: $target/cella-envd.jar is missing; build envd first" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/app" "$out/glibc" "$out/bin"

# 1. the JRE
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --generate-cds-archive --output "$out/jre" 2>&1 | grep -v '^\[.*warning\]\[cds\]' >&2 || true
[ -x "$out/jre/bin/java" ] || { echo "build-envd-runtime: jlink failed" >&2; exit 1; }

# 2. the C libraries the JRE links against, and the loader that loads them
libs=$( { ldd "$out/jre/bin/java"; ldd "$out/jre/lib/server/libjvm.so"; for so in "$out"/jre/lib/*.so; do ldd "$so"; done; } 2>/dev/null \
  | awk '/=>/ {print $3}' | grep '^/' | grep -v "$out" | sort -u)
for lib in $libs; do cp -L "$lib" "$out/glibc/"; done
# The program interpreter java names (ld-linux-x86-64.so.2 on x86_64, ld-linux-aarch64.so.1 on
# arm64), under one name for every architecture, so whoever starts envd need not know which.
loader=$(ldd "$out/jre/bin/java" | awk '/ld-linux/ {print ($2 == "=>") ? $3 : $1; exit}')  # "X (addr)" or "X => Y (addr)"
[ -n "$loader" ] && [ -f "$loader" ] || { echo "build-envd-runtime: cannot find java's dynamic loader in ldd's output" >&2; exit 1; }
cp -L "$loader" "$out/glibc/ld.so"
# glibc's C.UTF-8 locale, for envd alone (LOCPATH=/.cella/envd/locale LC_CTYPE=C.UTF-8 in its
# environment): without a UTF-8 locale the JDK encodes file names as ASCII and refuses every
# path with a character beyond it ("invalid path"), and most images have no locale files.
[ -d /usr/lib/locale/C.utf8 ] || { echo "build-envd-runtime: glibc's C.utf8 locale is missing (/usr/lib/locale/C.utf8, Debian's libc-bin)" >&2; exit 1; }
mkdir -p "$out/locale" && cp -r /usr/lib/locale/C.utf8 "$out/locale/"

# 3. the application
# One jar of envd and its libraries: the JVM opens every jar of the class path the first time
# a class is not found in the AOT cache (Jackson asks for java.beans, absent from this JRE),
# which with six jars took ~12 ms of each start. Each library's licence files are kept under
# META-INF/licenses/<its jar>; multi-release classes (jackson-core's) stay so.
merged=$(mktemp -d)
trap 'rm -rf "$merged"' EXIT
mkdir -p "$merged/classes/META-INF/licenses"
for j in "$target"/lib/*.jar "$target/cella-envd.jar"; do
  (cd "$merged/classes" && "$java_home/bin/jar" xf "$j")
  lic="$merged/classes/META-INF/licenses/$(basename "$j" .jar)"
  for f in "$merged"/classes/META-INF/LICENSE* "$merged"/classes/META-INF/NOTICE*; do
    [ -f "$f" ] && { mkdir -p "$lic"; mv "$f" "$lic/"; }
  done
done
rm -f "$merged/classes/META-INF/MANIFEST.MF" "$merged/classes/module-info.class" "$merged"/classes/META-INF/versions/*/module-info.class
printf 'Manifest-Version: 1.0\nMulti-Release: true\nEnable-Native-Access: ALL-UNNAMED\n' > "$merged/manifest.txt"
"$java_home/bin/jar" --create --file "$out/app/envd.jar" --manifest "$merged/manifest.txt" -C "$merged/classes" .
cp_line="$mount_path/app/envd.jar"
# ArchiveRelocationMode=0: the AOT cache is mapped where it was built for, not at a random
# address. Relocating it patched ~18 MiB of its pages in every envd (private dirty memory,
# per sandbox) and took ~27 ms of each start ("Genesis" 29.6 ms -> 2.7 ms); mapped in place
# its read-only part stays one copy in the page cache for all sandboxes (envd's anonymous
# memory 39.1 -> 29.7 MiB). The JDK relocates anyway when that address is taken. The cost:
# envd's archived class metadata sits at a known address, as it did by default before JDK 21.
# slf4j.provider: envd's own small log backend, named so SLF4J does not scan the jars for one
# (dev.cella.envd.log.EnvdLogging says why it is not Logback); SLF4J would announce it on stderr.
# stdout/stderr.encoding: envd's environment has no locale, so the JDK would write its log as
# ASCII (every non-ASCII character of a path or message a '?'); UTF-8 as Logback wrote it.
cat > "$out/envd.args" <<ARGS
--enable-native-access=ALL-UNNAMED
-XX:+UnlockDiagnosticVMOptions
-XX:ArchiveRelocationMode=0
-XX:+UseSerialGC
-XX:TieredStopAtLevel=1
-XX:ReservedCodeCacheSize=32m
-Xms8m
-Xmx512m
-Xss512k
-XX:+ExitOnOutOfMemoryError
-Xlog:aot=off,cds=off
-Djava.io.tmpdir=/tmp
-Dslf4j.provider=dev.cella.envd.log.EnvdLogging
-Dslf4j.internal.verbosity=WARN
-Dstdout.encoding=UTF-8
-Dstderr.encoding=UTF-8
-cp $cp_line
ARGS

cat > "$out/bin/envd" <<'LAUNCH'
#!/bin/sh
# envd, for a shell; the node starts the same command without one.
r=/.cella/envd
aot=""
[ -f "$r/envd.aot" ] && aot="-XX:AOTCache=$r/envd.aot"
unset LC_ALL
LOCPATH="$r/locale" LC_CTYPE=C.UTF-8 exec "$r/glibc/ld.so" --library-path "$r/glibc" "$r/jre/bin/java" "@$r/envd.args" $aot dev.cella.envd.Envd "$@"
LAUNCH
chmod +x "$out/bin/envd"

# 4. AOT training in a busybox-only root
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
  echo "build-envd-runtime: not root: no AOT cache (envd starts slower)" >&2
  exit 0
fi
"$here/train-envd.sh" "$out"
