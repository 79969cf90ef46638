#!/usr/bin/env bash
# Runs a command on the lent GPU machine with the bundle made by scripts/gpu-bundle.sh (that machine has CUDA and
# a driver but no Node and no FFmpeg, and nothing can be installed there).
#
#   here:  bash scripts/gpu-bundle.sh
#   there: run(carry: [".gpu-bundle"], command: "bash scripts/gpu-run.sh node bin/camtrack.js doctor")
#          e.g. bash scripts/gpu-run.sh npx vitest run test/gpu
#               bash scripts/gpu-run.sh ./build/camtrack_gpu_tests
#               bash scripts/gpu-run.sh ffmpeg -hwaccel cuda -hwaccel_output_format cuda -i "$CAMTRACK_ASSETS/videos/walking.mp4" -f null -
#
# What it does:
#   1. unpacks .gpu-bundle/camtrack-gpu.tar.xz into $CAMTRACK_GPU_DIR (default /tmp/camtrack-gpu), once per
#      archive: the archive's sha256 is kept there and a different archive replaces the old tree;
#   2. links build/, dist/ and node_modules/ of the repo to the bundle's (only where the repo has none: they are
#      git-ignored, so a carried working tree has none; an existing directory is left alone, with a note);
#   3. PATH: the bundle's node, npx (runs node_modules/.bin only) and ffmpeg/ffprobe first; LD_LIBRARY_PATH: the
#      bundle's lib/ (minimal FFmpeg, same sonames as Debian's) first, plus lib/compat (libstdc++/libgcc_s) only
#      where the system's libstdc++ lacks a version the bundle needs (CAMTRACK_GPU_BUNDLED_LIBSTDCXX=1 forces it);
#      CAMTRACK_ASSETS and CAMTRACK_GPU_TEST_DATA to the bundle's (unless already set), FFMPEG_PATH to its ffmpeg;
#   4. execs the command in the repo root. With no command it prints what it set up.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARCHIVE="$REPO/.gpu-bundle/camtrack-gpu.tar.xz"
DEST="${CAMTRACK_GPU_DIR:-/tmp/camtrack-gpu}"

say() { echo "gpu-run: $*" >&2; }
die() { echo "gpu-run: ERROR: $*" >&2; exit 1; }

[ -f "$ARCHIVE" ] || die "$ARCHIVE is missing. Make it on the dev machine with \`bash scripts/gpu-bundle.sh\` and
carry it: run(carry: [\".gpu-bundle\"], command: \"bash scripts/gpu-run.sh <command...>\")."

# 1. Unpack once per archive. A half-unpacked tree (killed run) has no stamp and is replaced.
sum="$(sha256sum "$ARCHIVE" | cut -d' ' -f1)"
if [ -f "$REPO/.gpu-bundle/camtrack-gpu.tar.xz.sha256" ] &&
   ! grep -q "^$sum " "$REPO/.gpu-bundle/camtrack-gpu.tar.xz.sha256"; then
  die "$ARCHIVE does not match its .sha256 (truncated in transfer?): make and carry it again"
fi
if [ "$(cat "$DEST/.archive-sha256" 2>/dev/null)" != "$sum" ]; then
  say "unpacking $(du -h "$ARCHIVE" | cut -f1) into $DEST"
  rm -rf "$DEST" "$DEST.partial"
  mkdir -p "$DEST.partial"
  tar -C "$DEST.partial" -xJf "$ARCHIVE" || die "unpacking $ARCHIVE failed"
  echo "$sum" >"$DEST.partial/.archive-sha256"
  mv "$DEST.partial" "$DEST"
fi

# 2. The repo's build/, dist/, node_modules/ → the bundle's. Node resolves ESM packages only through
#    node_modules folders above the importing file (NODE_PATH does not apply), hence links, not variables.
for d in build dist node_modules; do
  if [ -L "$REPO/$d" ] || [ ! -e "$REPO/$d" ]; then
    ln -sfn "$DEST/$d" "$REPO/$d"
  elif [ -z "${CAMTRACK_GPU_QUIET:-}" ]; then
    say "note: using the repo's own $d/ (not the bundle's)"
  fi
done

# dist/*.js.map point at ../src/*.ts: from the bundle's dist/ that is $DEST/src, i.e. this repo's src/.
ln -sfn "$REPO/src" "$DEST/src"

# 3. Environment.
export PATH="$DEST/bin:$PATH"
lib_path="$DEST/lib"
# The bundle's libstdc++ is Debian 12's (GCC 12). Put it first only where the system's is missing or older than
# what the bundle's binaries need: a newer system one must win, or the machine's own tools (cmake, nvidia tools)
# would fail with "GLIBCXX_3.4.3x not found".
need_compat() {
  [ "${CAMTRACK_GPU_BUNDLED_LIBSTDCXX:-}" = 1 ] && return 0
  local sys v
  sys="$(/sbin/ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ { print $NF; exit }')"
  [ -n "$sys" ] && [ -f "$sys" ] || return 0
  for v in $(awk '$1 == "GLIBCXX" || $1 == "CXXABI" { print $2 }' "$DEST/REQUIRES"); do
    grep -qaF "$v" "$sys" || return 0
  done
  return 1
}
if need_compat; then lib_path="$lib_path:$DEST/lib/compat"; fi
export LD_LIBRARY_PATH="$lib_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CAMTRACK_ASSETS="${CAMTRACK_ASSETS:-$DEST/assets}"
export CAMTRACK_GPU_TEST_DATA="${CAMTRACK_GPU_TEST_DATA:-$DEST/gpu-test-data}"
export FFMPEG_PATH="${FFMPEG_PATH:-$DEST/bin/ffmpeg}"

# glibc comes from the machine: say so plainly if it is older than the bundle was built for.
need_glibc="$(awk '$1 == "GLIBC" { sub(/^GLIBC_/, "", $2); print $2 }' "$DEST/REQUIRES")"
have_glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{ print $2 }')"
if [ -n "$need_glibc" ] && [ -n "$have_glibc" ] &&
   [ "$(printf '%s\n%s\n' "$need_glibc" "$have_glibc" | sort -V | awk 'NR == 1')" != "$need_glibc" ]; then
  say "WARNING: this machine's glibc is $have_glibc; the bundle's binaries need $need_glibc"
fi

cd "$REPO"
# The bundle is a snapshot of one build: say which, so a stale one is visible in the output of every run.
say "bundle built from $(grep -m1 '^commit:' "$DEST/MANIFEST.txt" || echo 'an unknown commit') (remake it after every build)"
if [ $# -eq 0 ]; then
  cat "$DEST/MANIFEST.txt" >&2
  say "PATH=$PATH"
  say "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  say "CAMTRACK_ASSETS=$CAMTRACK_ASSETS CAMTRACK_GPU_TEST_DATA=$CAMTRACK_GPU_TEST_DATA"
  say "usage: bash scripts/gpu-run.sh <command...>"
  exit 0
fi
exec "$@"
