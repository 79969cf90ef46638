#!/usr/bin/env bash
# Packs what the lent GPU machine lacks into ONE archive that fits its 64 MiB transfer limit, so camtrack can run
# there end to end: the Node CLI, the addon with its NVDEC decode path, onnxruntime, the vitest GPU suite, the
# native GPU tests, the decode benchmark and an `ffmpeg -hwaccel cuda` baseline.
#
#   here:  bash scripts/gpu-bundle.sh      → .gpu-bundle/camtrack-gpu.tar.xz (+ .sha256, MANIFEST.txt)
#   there: run(carry: [".gpu-bundle"], command: "bash scripts/gpu-run.sh <command...>")   (see scripts/gpu-run.sh)
#
# Why each piece is made the way it is:
#   - FFmpeg: Debian's shared libraries with their dependencies are > 160 MiB, so this builds a MINIMAL FFmpeg from
#     Debian's own source of the INSTALLED version (same release, same Debian patches, same --extra-version) with
#     the same sonames and symbol versions (LIBAVCODEC_59, ...). The addon, built here against Debian's headers,
#     loads these libraries through LD_LIBRARY_PATH unchanged. Only what camtrack and the tests use is enabled,
#     plus NVDEC/CUVID through the ffnvcodec headers (libcuda / libnvcuvid are dlopen'ed at run time: nothing
#     CUDA is linked, so the same build runs here without a driver).
#   - node: the installed Node (>= 20), stripped (it ships with debug info: 99 → 86 MB).
#   - shared libraries: every non-glibc library a bundled executable or addon needs, found with ldd here
#     (libstdc++/libgcc_s go to lib/compat: gpu-run.sh uses them only where the system's are too old).
#   - node_modules: the run-time closure of package.json's dependencies (onnxruntime-node with its linux/x64
#     binaries only, fastify, commander, ...; not the build-only cmake-js / node-addon-api) and vitest;
#     no typescript, no cmake-js, no lightningcss (vite imports it lazily, for CSS only).
#   - the current build (addon, native GPU tests, decode bench, CMakeCache.txt, which the GPU tests read) and
#     dist/ are taken as they are: this script never builds camtrack itself.
#   - assets: only the files test/gpu and native/tests/gpu name (+ test/addon/{decode-option,pipeline}.test.ts's);
#     the NVDEC test inputs are made here with the system FFmpeg (it has libx265; the bundle's FFmpeg has no video
#     encoders), as in docs/gpu-verification.md.
#   - compression: xz -9e with the x86 BCJ filter (3.5 % smaller than plain -9 on the node binary); the files are
#     ordered so that the Annex-B test streams sit near the .mp4 they were cut from, inside one xz block (the
#     64 MiB dictionary then stores them almost for free).
#
# Options:
#   --ffmpeg-only   build (or reuse) the minimal FFmpeg and stop
#   --limit-mib N   archive size limit (default 56: the working tree and the archive must stay under 64 MiB)
# Environment: CAMTRACK_ASSETS (default ../shared/assets), GPU_BUNDLE_JOBS (make -j, default 2),
#   GPU_BUNDLE_EXTRA_ASSETS (more asset paths, space-separated, e.g. "videos/car-detection.mp4").
# Cache (git-ignored): .cache/gpu-bundle/ — Debian source, nasm, FFmpeg build, NVDEC test inputs, staging tree.
set -Eeuo pipefail
# A failing command anywhere (functions included, hence -E) names itself instead of ending the script silently.
trap 'echo "gpu-bundle: ERROR: line $LINENO: \`$BASH_COMMAND\` failed" >&2' ERR

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$REPO/.cache/gpu-bundle"
OUT_DIR="$REPO/.gpu-bundle"
ARCHIVE_NAME="camtrack-gpu.tar.xz"
LIMIT_MIB=56
FFMPEG_ONLY=0
JOBS="${GPU_BUNDLE_JOBS:-2}"
ASSETS_SRC="${CAMTRACK_ASSETS:-$REPO/../shared/assets}"
BUILD_HINT='build it first with `CMAKE_BUILD_PARALLEL_LEVEL=2 npm run build:dev` (addon, native tests and benchmarks, dist/)'
# glibc is the one thing the bundle takes from the GPU machine (its glibc is newer than Debian 12's 2.36).
GLIBC_LIBS_RE='^(linux-vdso\.so|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libresolv\.so|libutil\.so|ld-linux-x86-64\.so)'

log() { echo "gpu-bundle: $*" >&2; }
die() { echo "gpu-bundle: ERROR: $*" >&2; exit 1; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# ---------------------------------------------------------------------------------------------------------------
# 1. Minimal FFmpeg from Debian's source of the installed version
# ---------------------------------------------------------------------------------------------------------------

# The installed libavcodec decides the version: the addon was compiled against its headers.
DEB_FULL_VERSION="$(dpkg-query -W -f='${source:Version}' libavcodec59 2>/dev/null)" ||
  die "libavcodec59 is not installed (see scripts/install-system-deps.sh)"
DEB_VERSION="${DEB_FULL_VERSION#*:}"   # 5.1.9-0+deb12u1: without the epoch, as the source files are named
DEB_REVISION="${DEB_VERSION##*-}"      # 0+deb12u1: Debian passes it as --extra-version
SRC_CACHE="$CACHE/debian-src"

fetch_ffmpeg_source() {
  [ -f "$SRC_CACHE/ffmpeg_${DEB_VERSION}.dsc" ] && return 0
  log "downloading Debian source ffmpeg $DEB_FULL_VERSION (private apt lists; the system's apt config is untouched)"
  mkdir -p "$SRC_CACHE/lists/partial"
  # deb-src entries in a private file: apt's own sources and lists stay as they are.
  cat >"$SRC_CACHE/sources.sources" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  local o=(-o "Dir::Etc::SourceList=$SRC_CACHE/sources.sources" -o Dir::Etc::SourceParts=/dev/null
           -o "Dir::State::Lists=$SRC_CACHE/lists")
  apt-get "${o[@]}" update >&2
  (cd "$SRC_CACHE" && apt-get "${o[@]}" source --download-only "ffmpeg=$DEB_FULL_VERSION" >&2)
  [ -f "$SRC_CACHE/ffmpeg_${DEB_VERSION}.dsc" ] || die "apt-get source did not produce ffmpeg_${DEB_VERSION}.dsc"
}

# nasm: FFmpeg's x86 SIMD (Debian builds with it; without it CPU H.264 decode is several times slower).
# Debian's .deb is unpacked into the cache, never installed system-wide.
fetch_nasm() {
  if command -v nasm >/dev/null 2>&1; then NASM_BIN="$(command -v nasm)"; return 0; fi
  NASM_BIN="$CACHE/nasm/usr/bin/nasm"
  [ -x "$NASM_BIN" ] && return 0
  log "fetching nasm (Debian .deb unpacked into $CACHE/nasm)"
  mkdir -p "$CACHE/nasm/deb"
  (cd "$CACHE/nasm/deb" && apt-get download nasm >&2 2>/dev/null) || die "apt-get download nasm failed"
  dpkg -x "$CACHE"/nasm/deb/nasm_*.deb "$CACHE/nasm"
  [ -x "$NASM_BIN" ] || die "nasm not found after unpacking"
}

# What camtrack needs (native/core/decode/video_source.cpp, native/core/cuda/capabilities.cpp, the tests) and what
# `ffmpeg -hwaccel cuda -hwaccel_output_format cuda -i clip.mp4 -f null -` needs. Everything else is off.
FFMPEG_COMPONENTS=(
  # containers camtrack opens: files (mp4/mov, mkv, raw Annex-B, MPEG-TS), live sources (RTSP/RTP/SDP, UDP TS)
  # and still images (the addon tests feed JPEG/PNG files as streams)
  --enable-demuxer=mov,matroska,h264,hevc,mpegts,rtsp,rtp,sdp,image2,image_jpeg_pipe,image_png_pipe
  --enable-protocol=file,pipe,tcp,udp,rtp,http,httpproxy
  # CPU decoders (the pipeline's 'cpu' path) + NVDEC/CUVID (the baseline); mpeg4: test/gpu's CPU-fallback clip
  # (mmtracking-demo.mp4); aac: the clips carry an audio track, which the ffmpeg CLI decodes and discards (-f null)
  --enable-decoder=h264,hevc,mpeg4,mjpeg,png,h264_cuvid,hevc_cuvid,aac
  --enable-parser=h264,hevc,mpeg4video,mjpeg,png,aac
  --enable-bsf=h264_mp4toannexb,hevc_mp4toannexb,null
  --enable-hwaccel=h264_nvdec,hevc_nvdec
  # ffmpeg CLI outputs: -f null / rawvideo / Annex-B elementary streams / images (test/addon/images.test.ts turns
  # the JPEGs into PNGs with the CLI)
  --enable-muxer=null,rawvideo,h264,hevc,image2
  --enable-encoder=wrapped_avframe,rawvideo,pcm_s16le,png
  --enable-filter=null,anull,format,aformat,aresample,scale,hwdownload,hwupload,hwupload_cuda,select
)
FFMPEG_CONFIG=(
  --extra-version="$DEB_REVISION" --toolchain=hardened --arch=amd64
  --disable-everything --disable-autodetect --enable-shared --disable-static --disable-doc --disable-debug
  --enable-stripping --disable-avdevice --disable-postproc --disable-ffplay
  --enable-pthreads --enable-zlib --enable-ffnvcodec --enable-cuda --enable-nvdec --enable-cuvid
  "${FFMPEG_COMPONENTS[@]}"
)
# The build directory is keyed by version + configuration: changing either rebuilds, an unchanged run reuses.
FFMPEG_KEY="$(printf '%s\n' "$DEB_VERSION" "${FFMPEG_CONFIG[@]}" | sha256sum | cut -c1-12)"
FFMPEG_BUILD="$CACHE/ffmpeg-$FFMPEG_KEY"
FFMPEG_PREFIX="$FFMPEG_BUILD/install"

build_ffmpeg() {
  if [ -f "$FFMPEG_BUILD/.done" ]; then log "FFmpeg $DEB_VERSION (minimal, $FFMPEG_KEY): cached"; return 0; fi
  fetch_ffmpeg_source
  fetch_nasm
  rm -rf "$FFMPEG_BUILD"
  mkdir -p "$FFMPEG_BUILD"
  log "unpacking ffmpeg_$DEB_VERSION (orig tarball + Debian patches) into $FFMPEG_BUILD/src"
  # dpkg-source applies debian/patches/series exactly as a Debian build does.
  (cd "$FFMPEG_BUILD" && dpkg-source --no-check -x "$SRC_CACHE/ffmpeg_${DEB_VERSION}.dsc" src >&2)
  log "configuring: ${FFMPEG_CONFIG[*]}"
  (
    cd "$FFMPEG_BUILD/src"
    export PATH="$(dirname "$NASM_BIN"):$PATH"
    ./configure --prefix="$FFMPEG_PREFIX" "${FFMPEG_CONFIG[@]}" >"$FFMPEG_BUILD/configure.log" 2>&1 ||
      { tail -40 ffbuild/config.log >&2; die "FFmpeg configure failed"; }
    # A configuration that lost one of these must stop here, not on the GPU machine.
    # (5.1 writes component switches to config_components.h, features to config.h.)
    for f in CONFIG_H264_DECODER CONFIG_HEVC_DECODER CONFIG_MPEG4_DECODER CONFIG_H264_NVDEC_HWACCEL \
             CONFIG_HEVC_NVDEC_HWACCEL CONFIG_H264_CUVID_DECODER CONFIG_MOV_DEMUXER CONFIG_RTSP_DEMUXER \
             CONFIG_H264_MP4TOANNEXB_BSF CONFIG_MJPEG_DECODER CONFIG_PNG_DECODER CONFIG_SWSCALE CONFIG_NVDEC \
             CONFIG_ZLIB HAVE_PTHREADS HAVE_X86ASM; do
      grep -hq "define $f 1" config.h config_components.h || die "FFmpeg configure: $f is not enabled"
    done
    log "building FFmpeg with make -j$JOBS (about 3 minutes on 2 cores)"
    make -j"$JOBS" >"$FFMPEG_BUILD/make.log" 2>&1 ||
      { tail -40 "$FFMPEG_BUILD/make.log" >&2; die "FFmpeg build failed (log: $FFMPEG_BUILD/make.log)"; }
    make install >>"$FFMPEG_BUILD/make.log" 2>&1
  )
  touch "$FFMPEG_BUILD/.done"
  # Earlier configurations' builds are dead weight (their objects are hundreds of MB).
  find "$CACHE" -maxdepth 1 -name 'ffmpeg-*' ! -name "ffmpeg-$FFMPEG_KEY" -exec rm -rf {} +
  log "FFmpeg installed into $FFMPEG_PREFIX"
}

# The addon and the decode bench must find every versioned FFmpeg symbol they import in the minimal build; a
# missing one would only show on the GPU machine, as a load failure.
check_ffmpeg_symbols() {
  local bin missing=0 provided
  provided="$(for l in "$FFMPEG_PREFIX"/lib/lib*.so.*.*; do objdump -T "$l"; done |
              awk '$2 == "g" && $0 !~ /\*UND\*/ { print $(NF-1) " " $NF }' | sort -u)"
  for bin in "$@"; do
    while read -r ver sym; do
      if ! grep -qxF "$ver $sym" <<<"$provided"; then log "$bin needs $sym@$ver: not in the minimal FFmpeg"; missing=1; fi
    done < <(objdump -T "$bin" | awk '/\*UND\*/ && /LIBAV|LIBSW/ { v = $(NF-1); gsub(/[()]/, "", v); print v " " $NF }')
  done
  [ "$missing" = 0 ] || die "the minimal FFmpeg lacks symbols the build imports (see above)"
}

# ---------------------------------------------------------------------------------------------------------------
# 2. Inputs from this checkout: build outputs, dist/, node_modules
# ---------------------------------------------------------------------------------------------------------------

ADDON="$REPO/build/Release/camtrack.node"
GPU_TESTS="$REPO/build/camtrack_gpu_tests"
CMAKE_CACHE="$REPO/build/CMakeCache.txt"

check_build() {
  local f
  for f in "$ADDON" "$GPU_TESTS" "$CMAKE_CACHE" "$REPO/dist/index.js" "$REPO/dist/cli/main.js"; do
    [ -f "$f" ] || die "${f#"$REPO"/} is missing: $BUILD_HINT"
  done
  for f in $(runtime_roots | tr ',' ' '); do
    [ -f "$REPO/node_modules/$f/package.json" ] || die "node_modules/$f is missing: run \`npm install\` first"
  done
  # A build without CUDA would only skip on the GPU machine: worth a loud warning, not a failure.
  if grep -q '^CAMTRACK_ENABLE_CUDA:BOOL=OFF' "$CMAKE_CACHE" || ! grep -qa __cudaRegisterFatBinary "$ADDON"; then
    log "WARNING: build/Release/camtrack.node has no CUDA code (CAMTRACK_ENABLE_CUDA=OFF or no nvcc): GPU tests will skip"
  fi
  DECODE_BENCH="$(find "$REPO/build" -maxdepth 3 -type f -name camtrack_bench_decode_bench -print -quit)"
  [ -n "$DECODE_BENCH" ] || log "note: no camtrack_bench_decode_bench in build/ (CAMTRACK_BUILD_BENCH=OFF? \`npm run build:dev\` builds it): not bundled"
}

# Dependency closure of the run-time packages, resolved as Node resolves them (nearest node_modules upwards).
# Prints package directories relative to node_modules/, e.g. "vitest", "@vitest/runner", "a/node_modules/b".
node_closure() {
  node --input-type=module - "$REPO/node_modules" "$1" "$2" <<'EOF'
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
const [nm, roots, excludedArg] = process.argv.slice(2);
const excluded = new Set(excludedArg.split(',').filter(Boolean));
const seen = new Set();
const missing = [];
function resolveFrom(dir, name) {
  for (let d = dir; d.startsWith(path.dirname(nm)); d = path.dirname(d)) {
    const cand = path.join(d, 'node_modules', name);
    if (existsSync(path.join(cand, 'package.json'))) return cand;
    if (d === path.dirname(nm)) break;
  }
  return undefined;
}
function visit(dir) {
  if (seen.has(dir)) return;
  seen.add(dir);
  const pj = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const optional = pj.optionalDependencies ?? {};
  for (const name of Object.keys({ ...pj.dependencies, ...optional })) {
    if (excluded.has(name) || name.startsWith('@types/')) continue;
    const found = resolveFrom(dir, name);
    if (found) visit(found);
    else if (!(name in optional)) missing.push(`${name} (needed by ${pj.name})`);  // optional: other platforms
  }
}
for (const r of roots.split(',')) visit(path.join(nm, r));
if (missing.length) { console.error(`unresolved dependencies: ${missing.join(', ')}`); process.exit(1); }
for (const d of [...seen].sort()) console.log(path.relative(nm, d));
EOF
}

# Copies one package without its nested node_modules (nested packages come separately, from the closure) and
# without what nothing loads at run time: type declarations, source maps, docs, other platforms' binaries.
copy_package() {
  local rel="$1" dst="$2/node_modules/$1"
  mkdir -p "$dst"
  tar -C "$REPO/node_modules/$rel" -cf - --exclude=./node_modules \
      --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' --exclude='*.map' --exclude='*.md' \
      --exclude=./bin/napi-v6/darwin --exclude=./bin/napi-v6/win32 --exclude=./bin/napi-v6/linux/arm64 . |
    tar -C "$dst" -xf -
}

# The packages the bundle's Node code imports: every run-time dependency in package.json (dist/ imports them:
# commander, fastify, @sinclair/typebox, ...) but the build-only ones, plus vitest for the GPU test suite.
runtime_roots() {
  node -e 'const d = Object.keys(require(process.argv[1]).dependencies || {});
    const buildOnly = new Set(["cmake-js", "node-addon-api", "node-api-headers"]);
    console.log([...d.filter((n) => !buildOnly.has(n)), "vitest"].join(","))' "$REPO/package.json"
}

stage_node_modules() {
  local stage="$1" rel pkgs bin_json name target
  # lightningcss: vite loads it lazily for CSS only; vitest over .ts never does (2.4 MB compressed saved).
  pkgs="$(node_closure "$(runtime_roots)" lightningcss,typescript,cmake-js,fsevents)"
  for rel in $pkgs; do copy_package "$rel" "$stage"; done
  # node_modules/.bin entries of the top-level packages: what `npx <bin>` runs (the runner's npx looks there).
  mkdir -p "$stage/node_modules/.bin"
  for rel in $pkgs; do
    case "$rel" in */node_modules/*) continue ;; esac
    bin_json="$(node -e 'const p=require(process.argv[1]); const b=typeof p.bin==="string"?{[p.name.split("/").pop()]:p.bin}:(p.bin||{}); for (const [k,v] of Object.entries(b)) console.log(k+" "+v)' "$REPO/node_modules/$rel/package.json")"
    while read -r name target; do
      [ -n "$name" ] && ln -sfn "../$rel/${target#./}" "$stage/node_modules/.bin/$name"
    done <<<"$bin_json"
  done
  # onnxruntime-node's postinstall (disabled here) would only fetch CUDA/TensorRT providers: not used.
  [ -f "$stage/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1" ] ||
    die "node_modules/onnxruntime-node has no linux/x64 binaries"
  log "node_modules: $(wc -w <<<"$pkgs") packages"
}

# ---------------------------------------------------------------------------------------------------------------
# 3. Assets and NVDEC test inputs
# ---------------------------------------------------------------------------------------------------------------

# The asset paths the GPU tests name (test/gpu/*.ts, native/tests/gpu/*.cpp), so a new test's file comes along,
# plus those of the two addon tests that run the pipeline over files with both decode paths (a quick check of the
# bundle's FFmpeg under the addon; together they add only images/bus.jpg).
gpu_test_assets() {
  grep -rhoE "[\"'](models|videos|images|mot)/[A-Za-z0-9_./-]+\.[a-z0-9]+[\"']" "$REPO/test/gpu" "$REPO/native/tests/gpu" \
      "$REPO/test/addon/decode-option.test.ts" "$REPO/test/addon/pipeline.test.ts" | tr -d "\"'" | sort -u
  for a in ${GPU_BUNDLE_EXTRA_ASSETS:-}; do echo "$a"; done
}

# The inputs native/tests/gpu/nvdec_gpu_test.cpp reads from $CAMTRACK_GPU_TEST_DATA (and pipeline-nvdec's HEVC
# clip), made with the system FFmpeg exactly as docs/gpu-verification.md lists. Cached: x265 output is
# deterministic for the same input and version, but re-encoding costs a minute.
GPU_TEST_DATA_FILES=(walking.h264 walking.h264.pts walking_ref.nv12 walking_hevc.mp4 walking.hevc walking.hevc.pts
                     walking_hevc_ref.nv12 reschange.h264 reschange.h264.pts reschange_part2_ref.nv12)
make_gpu_test_data() {
  local D="$CACHE/gpu-test-data" A="$ASSETS_SRC/videos"
  if [ -f "$D/.done" ]; then log "NVDEC test inputs: cached"; return 0; fi
  command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null ||
    die "the system ffmpeg/ffprobe are needed to make the NVDEC test inputs (apt-get install -y ffmpeg)"
  # (captured first: `ffmpeg | grep -q` would fail under pipefail when grep stops reading early)
  local encoders; encoders="$(ffmpeg -hide_banner -encoders 2>/dev/null)"
  grep -q libx265 <<<"$encoders" || die "the system ffmpeg has no libx265 encoder (needed for the HEVC test inputs)"
  [ -f "$A/walking.mp4" ] && [ -f "$A/car-detection.mp4" ] || die "videos/walking.mp4 and car-detection.mp4 not in $ASSETS_SRC"
  log "making the NVDEC test inputs with the system FFmpeg into $D"
  rm -rf "$D"; mkdir -p "$D"
  local ff=(ffmpeg -hide_banner -v error -y)
  pts() { ffprobe -v error -select_streams v:0 -show_entries packet=pts -of csv=p=0 "$@"; }
  "${ff[@]}" -i "$A/walking.mp4" -c:v copy -bsf:v h264_mp4toannexb -an -f h264 "$D/walking.h264"
  pts "$A/walking.mp4" >"$D/walking.h264.pts"
  "${ff[@]}" -i "$A/walking.mp4" -vf "select='eq(n\,0)+eq(n\,50)+eq(n\,100)+eq(n\,200)+eq(n\,340)'" -vsync 0 \
    -f rawvideo -pix_fmt nv12 "$D/walking_ref.nv12"
  "${ff[@]}" -i "$A/walking.mp4" -frames:v 60 -c:v libx265 -x265-params log-level=error -an "$D/walking_hevc.mp4"
  "${ff[@]}" -i "$D/walking_hevc.mp4" -c:v copy -bsf:v hevc_mp4toannexb -f hevc "$D/walking.hevc"
  pts "$D/walking_hevc.mp4" >"$D/walking.hevc.pts"
  "${ff[@]}" -i "$D/walking_hevc.mp4" -vf "select='eq(n\,0)+eq(n\,30)+eq(n\,59)'" -vsync 0 \
    -f rawvideo -pix_fmt nv12 "$D/walking_hevc_ref.nv12"
  "${ff[@]}" -i "$A/walking.mp4" -frames:v 120 -c:v copy -bsf:v h264_mp4toannexb -an -f h264 "$D/part1.h264"
  "${ff[@]}" -i "$A/car-detection.mp4" -frames:v 100 -c:v copy -bsf:v h264_mp4toannexb -an -f h264 "$D/part2.h264"
  cat "$D/part1.h264" "$D/part2.h264" >"$D/reschange.h264"   # 1280x720 High (B-frames), then 768x432 Baseline
  # (awk NR<=N, not head: head would close the pipe early and ffprobe's SIGPIPE fails the pipeline)
  { pts "$A/walking.mp4" | awk 'NR <= 120'; pts "$A/car-detection.mp4" | awk 'NR <= 100 { print $1 + 10000000 }'; } \
    >"$D/reschange.h264.pts"
  "${ff[@]}" -i "$D/part2.h264" -vf "select='eq(n\,0)+eq(n\,99)'" -vsync 0 -f rawvideo -pix_fmt nv12 \
    "$D/reschange_part2_ref.nv12"
  rm -f "$D/part1.h264" "$D/part2.h264"
  local f
  for f in "${GPU_TEST_DATA_FILES[@]}"; do [ -s "$D/$f" ] || die "NVDEC test input $f was not made"; done
  touch "$D/.done"
}

# ---------------------------------------------------------------------------------------------------------------
# 4. Staging tree (the archive's contents, unpacked by gpu-run.sh into /tmp/camtrack-gpu)
# ---------------------------------------------------------------------------------------------------------------

# Copies the non-glibc shared libraries the given ELF files need (as resolved here) into lib/ or lib/compat/.
# Libraries already in the stage (FFmpeg's, libonnxruntime next to its binding) are found through
# LD_LIBRARY_PATH and skipped.
bundle_shared_deps() {
  local stage="$1"; shift
  local elf line name path unresolved=""
  for elf in "$@"; do
    while read -r line; do
      name="${line%% *}"
      [[ "$name" =~ $GLIBC_LIBS_RE ]] && continue
      path="$(awk '{ print $3 }' <<<"$line")"
      if [ "$path" = "not" ]; then unresolved+=" $name (needed by ${elf#"$stage"/})"; continue; fi
      case "$path" in "$stage"/*) continue ;; esac
      if [[ "$name" =~ ^(libstdc\+\+\.so|libgcc_s\.so) ]]; then
        cp -L "$path" "$stage/lib/compat/$name"
      else
        cp -L "$path" "$stage/lib/$name"
      fi
    done < <(LD_LIBRARY_PATH="$stage/lib:$stage/node_modules/onnxruntime-node/bin/napi-v6/linux/x64" ldd "$elf" |
             awk '/=>/ { print $1 " => " $3 }')
  done
  [ -z "$unresolved" ] || die "unresolved shared libraries:$unresolved"
}

# The newest GLIBCXX_/CXXABI_/GLIBC_ versions the bundled ELF files require: gpu-run.sh compares them with the
# GPU machine's libraries (bundled libstdc++ only where the system's is older; a warning where glibc is older).
required_versions() {
  local prefix="$1"; shift
  for f in "$@"; do objdump -p "$f" 2>/dev/null; done |
    grep -oE "\b${prefix}_[0-9]+(\.[0-9]+)+\b" | sort -u -V | tail -1
}

stage_tree() {
  local S="$1" f
  rm -rf "$S"; mkdir -p "$S"/{bin,lib/compat,build/Release,assets,gpu-test-data}

  # node: the one on PATH here (what the addon and dist/ were built and tested with), stripped.
  local node_bin; node_bin="$(readlink -f "$(command -v node)")"
  [ "$("$node_bin" -p 'process.versions.node.split(".")[0] >= 20')" = true ] || die "node >= 20 needed ($node_bin)"
  cp "$node_bin" "$S/bin/node"; strip --strip-all "$S/bin/node"
  # npx: only what the bundle has, i.e. node_modules/.bin of the current directory (no registry there).
  cat >"$S/bin/npx" <<'EOF'
#!/usr/bin/env bash
# npx of the GPU bundle: runs node_modules/.bin/<command> of the current directory (nothing is downloaded there).
set -euo pipefail
while [ $# -gt 0 ] && [[ "$1" == -* ]]; do shift; done   # --yes, --no-install, ...: nothing to install anyway
[ $# -gt 0 ] || { echo "npx (camtrack GPU bundle): usage: npx <command> [args...]" >&2; exit 2; }
bin="node_modules/.bin/$1"; shift
[ -e "$bin" ] || { echo "npx (camtrack GPU bundle): no $bin; the bundle has: $(ls node_modules/.bin | tr '\n' ' ')" >&2; exit 127; }
exec "$bin" "$@"
EOF
  chmod +x "$S/bin/npx"

  # FFmpeg: libraries with their soname links, the CLI tools.
  cp -a "$FFMPEG_PREFIX"/lib/lib*.so* "$S/lib/"
  cp "$FFMPEG_PREFIX/bin/ffmpeg" "$FFMPEG_PREFIX/bin/ffprobe" "$S/bin/"

  # camtrack's build and dist/
  cp "$ADDON" "$S/build/Release/"
  cp "$GPU_TESTS" "$CMAKE_CACHE" "$S/build/"
  # The decode bench at its build/ path, when there is one ("" otherwise: the three uses below skip it).
  local bench=""
  [ -z "$DECODE_BENCH" ] || bench="$S/build/${DECODE_BENCH#"$REPO/build/"}"
  [ -z "$bench" ] || cp "$DECODE_BENCH" "$bench"
  # (with its source maps: the .js files name them, and vite warns about every missing one)
  tar -C "$REPO" -cf - dist | tar -C "$S" -xf -

  stage_node_modules "$S"

  # Assets the GPU tests name, and the NVDEC test inputs.
  local a
  while read -r a; do
    [ -f "$ASSETS_SRC/$a" ] || die "asset $a (named by a GPU test) not found in $ASSETS_SRC (set CAMTRACK_ASSETS)"
    mkdir -p "$S/assets/$(dirname "$a")"; cp "$ASSETS_SRC/$a" "$S/assets/$a"
  done < <(gpu_test_assets)
  for f in "${GPU_TEST_DATA_FILES[@]}"; do cp "$CACHE/gpu-test-data/$f" "$S/gpu-test-data/"; done

  # Shared libraries of everything executable in the stage.
  local elves=("$S/bin/node" "$S/bin/ffmpeg" "$S/bin/ffprobe" "$S"/lib/lib*.so.*.* "$S/build/Release/camtrack.node"
               "$S/build/camtrack_gpu_tests")
  [ -z "$bench" ] || elves+=("$bench")
  while IFS= read -r f; do elves+=("$f"); done < <(find "$S/node_modules" -name '*.node' -o -name '*.so.[0-9]*' -type f)
  bundle_shared_deps "$S" "${elves[@]}"
  check_ffmpeg_symbols "$S/build/Release/camtrack.node" ${bench:+"$bench"}

  {
    echo "GLIBCXX $(required_versions GLIBCXX "${elves[@]}")"
    echo "CXXABI $(required_versions CXXABI "${elves[@]}")"
    echo "GLIBC $(required_versions GLIBC "${elves[@]}")"
  } >"$S/REQUIRES"
  {
    echo "camtrack GPU bundle, made $(date -u +%Y-%m-%dT%H:%M:%SZ) by scripts/gpu-bundle.sh"
    echo "commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD -- 2>/dev/null || echo ' (+ uncommitted changes)')"
    echo "node: $("$S/bin/node" --version) (from $node_bin, stripped)"
    echo "ffmpeg: $DEB_VERSION, minimal build $FFMPEG_KEY: ${FFMPEG_CONFIG[*]}"
    echo "onnxruntime-node: $(node -p "require('$REPO/node_modules/onnxruntime-node/package.json').version")"
    echo "vitest: $(node -p "require('$REPO/node_modules/vitest/package.json').version")"
    echo "requires: $(tr '\n' ' ' <"$S/REQUIRES")"
  } >"$S/MANIFEST.txt"
}

# Order of the files in the archive. xz's dictionary (64 MiB at -9) only finds repeats it has seen recently, so
# the Annex-B streams follow the .mp4 they were cut from; the rest is grouped by kind (executables, then data).
archive_order() {
  local S="$1"
  (cd "$S" && {
    find bin lib build dist node_modules -type f -o -type l | sort
    find assets gpu-test-data -type f | sort |
      awk '/walking\.mp4$/ { print; print "gpu-test-data/walking.h264"; print "gpu-test-data/reschange.h264"; next }
           /gpu-test-data\/(walking|reschange)\.h264$/ { next } { print }'
    printf '%s\n' MANIFEST.txt REQUIRES
  })
}

# ---------------------------------------------------------------------------------------------------------------
# 5. Main
# ---------------------------------------------------------------------------------------------------------------

main() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --ffmpeg-only) FFMPEG_ONLY=1 ;;
      --limit-mib) LIMIT_MIB="$2"; shift ;;
      -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
    shift
  done
  mkdir -p "$CACHE"
  # Inputs first: a missing build should fail in a second, not after the FFmpeg build.
  if [ "$FFMPEG_ONLY" = 0 ]; then
    check_build
    [ -d "$ASSETS_SRC" ] || die "assets not found at $ASSETS_SRC (set CAMTRACK_ASSETS)"
    ASSETS_SRC="$(cd "$ASSETS_SRC" && pwd)"
  fi
  build_ffmpeg
  if [ "$FFMPEG_ONLY" = 1 ]; then ls -la "$FFMPEG_PREFIX/lib" "$FFMPEG_PREFIX/bin" >&2; return 0; fi
  make_gpu_test_data

  local S="$CACHE/stage"
  log "staging into $S"
  stage_tree "$S"
  # The runner's own check of the file list: everything it links into the repo must be there.
  for f in build/Release/camtrack.node dist/index.js node_modules/.bin/vitest bin/node bin/ffmpeg; do
    [ -e "$S/$f" ] || die "staging lost $f"
  done

  mkdir -p "$OUT_DIR"
  local tmp="$OUT_DIR/.$ARCHIVE_NAME.partial"
  log "compressing (xz -9e, x86 BCJ; a few minutes on 2 cores)"
  archive_order "$S" >"$CACHE/archive-order.txt"
  tar -C "$S" --owner=0 --group=0 --numeric-owner --no-recursion -T "$CACHE/archive-order.txt" -cf - |
    xz --x86 --lzma2=preset=9e -T1 -c >"$tmp"
  local size limit=$((LIMIT_MIB * 1048576))
  size="$(stat -c %s "$tmp")"
  if [ "$size" -gt "$limit" ]; then
    rm -f "$tmp"
    die "the archive is $(mib "$size"), over the ${LIMIT_MIB} MiB limit (see du -sh $S/*; an earlier archive in $OUT_DIR, if any, is left as it was)"
  fi
  rm -f "$OUT_DIR"/*.tar.xz "$OUT_DIR"/*.sha256
  mv "$tmp" "$OUT_DIR/$ARCHIVE_NAME"
  (cd "$OUT_DIR" && sha256sum "$ARCHIVE_NAME" >"$ARCHIVE_NAME.sha256")
  cp "$S/MANIFEST.txt" "$OUT_DIR/MANIFEST.txt"

  local tree_bytes
  tree_bytes="$(cd "$REPO" && git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null |
                awk '{ s += $1 } END { print s + 0 }')"
  log "unpacked: $(du -sh "$S" | cut -f1); biggest parts (uncompressed):"
  (cd "$S" && du -sh bin lib build dist node_modules assets gpu-test-data | sort -h | sed 's/^/gpu-bundle:   /' >&2)
  log "ARCHIVE $OUT_DIR/$ARCHIVE_NAME: $(mib "$size") (limit $LIMIT_MIB MiB); working tree that travels:" \
      "$(mib "$tree_bytes"); together $(mib $((size + tree_bytes))) of 64 MiB"
  echo "$OUT_DIR/$ARCHIVE_NAME"
}

main "$@"
