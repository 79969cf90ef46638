#!/usr/bin/env bash
# measure-install.sh [runs]: the figures of docs/install.md "Measured". In the test root (test-root.sh), installs the
# dist-packages/ tarballs into a fresh project `runs` times with an empty npm cache (cold: every dependency downloaded
# from the registry) and `runs` times with the cache those runs filled (warm), printing each wall time, then the
# installed sizes (du) and `npx camtrack demo` in that root. Needs root, dist-packages/ (npm run prebuild).
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
runs=${1:-3}
root=$("$PREBUILT_SCRIPTS/test-root.sh")
dist="$REPO_ROOT/dist-packages"
[ -f "$dist/manifest.json" ] || die "no dist-packages/manifest.json: npm run prebuild"
work="$root/work/measure"
files=$(cd "$dist" && ls camtrack-ffmpeg-linux-x64-*.tgz camtrack-linux-x64-*.tgz camtrack-[0-9]*.tgz | sed 's#^#./#' | tr '\n' ' ')
install_once() {  # $1: npm cache folder inside the root
  rm -rf "$work/p" && mkdir -p "$work/p" && cp "$dist"/*.tgz "$work/p/"
  echo '{"name":"p","version":"1.0.0","private":true,"allowScripts":{"onnxruntime-node":false,"protobufjs":false}}' >"$work/p/package.json"
  local t0 t1
  t0=$(date +%s.%N)
  "$PREBUILT_SCRIPTS/in-root.sh" "$root" /bin/sh -c \
    "cd /work/measure/p && npm install --strict-allow-scripts --no-audit --no-fund --cache $1 $files >/dev/null 2>&1" ||
    die "npm install failed in the root"
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
rm -rf "$work" && mkdir -p "$work"
for i in $(seq "$runs"); do echo "cold install $i: $(install_once "/work/measure/cache-cold-$i") s"; done
for i in $(seq "$runs"); do echo "warm install $i: $(install_once /work/measure/cache-cold-1) s"; done
echo "installed sizes (du -sh):"
(cd "$work/p/node_modules" && du -sh @camtrack/linux-x64 @camtrack/ffmpeg-linux-x64 camtrack onnxruntime-node . | sed 's/^/  /')
echo "tarballs (bytes):"
(cd "$dist" && ls -l ./*.tgz | awk '{print "  " $5 "  " $9}')
t0=$(date +%s.%N)
"$PREBUILT_SCRIPTS/in-root.sh" "$root" /bin/sh -c \
  'cd /work/measure/p && CAMTRACK_CACHE_DIR=/work/measure/demo npx camtrack demo --quiet | tail -2'
echo "demo (4 streams x 250 frames, scene encoding included): $(echo "$(date +%s.%N) - $t0" | bc) s"
rm -rf "$work"
