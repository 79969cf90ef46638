#!/usr/bin/env bash
# libFuzzer runs of the parsers of untrusted bytes (native/fuzz; clang with -fsanitize=fuzzer,address,undefined):
#   output_parser  model output tensors → detections (core/postprocess/output_parser)
#   annexb         pushed H.264/HEVC Annex-B splitting into NAL units / access units (core/decode/annexb_reader)
#   jpeg           pushed JPEG decode: header + pixel limit, EXIF orientation, DCT scale, libjpeg-turbo (jpeg_decoder)
#   png            pushed PNG decode: IHDR + pixel limit, chunk walk, libavcodec (png_decoder)
# Built in build-fuzz/ (only the fuzz targets and the core sources they use). Seeds are made at run time in
# build-fuzz/seeds/<target>/ from the shared assets ($CAMTRACK_ASSETS, else <ancestor>/shared/assets): the JPEGs and
# small re-encodings of them (JPEG subsamplings, an EXIF-rotated one, PNG pixel formats), Annex-B cut from the clips
# with `ffmpeg -c copy -bsf:v h264_mp4toannexb -f h264` and a small HEVC encode, hand-built output-parser inputs.
# Nothing is fetched. The corpus libFuzzer grows is kept in build-fuzz/corpus/<target>/ (reused by the next run).
# Before fuzzing, each target replays native/fuzz/regressions/<target>/* (inputs that once crashed; committed).
#
# Usage: scripts/fuzz.sh [all|<target>...] [--seconds N] [--build-only|--run-only]
#   --seconds N   fuzz each target N seconds (-max_total_time; default 60)
#   --build-only  configure and build, run nothing; --run-only  run what is built (test/unit/fuzz.test.ts)
# Per target a line `fuzz: <target> ok: <runs> runs in <s> s, corpus <n> inputs` or `fuzz: <target> FAILED …` with
# the reproducer path (`reproduce: build-fuzz/camtrack_fuzz_<target> <file>`). Last line: `fuzz: all ok (N s)` or
# `fuzz: FAILED: …`; exit status 0 only when every target ran clean. Needs clang (Debian: apt-get install clang).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
all_targets=(output_parser annexb jpeg png)
targets=()
seconds=60
build=1
run=1
usage() { echo "usage: scripts/fuzz.sh [all|output_parser|annexb|jpeg|png...] [--seconds N] [--build-only|--run-only]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    all) targets+=("${all_targets[@]}") ;;
    --seconds) [[ "${2:-}" =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || usage; seconds=$2; shift ;;
    --build-only) run=0 ;;
    --run-only) build=0 ;;
    *) [[ " ${all_targets[*]} " == *" $1 "* ]] || usage; targets+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
dir="$root/build-fuzz"
jobs="${CAMTRACK_FUZZ_JOBS:-$(nproc)}"
started=$SECONDS

assets_dir() {
  if [ -n "${CAMTRACK_ASSETS:-}" ]; then echo "$CAMTRACK_ASSETS"; return; fi
  local d="$root"
  while [ "$d" != / ]; do
    [ -d "$d/shared/assets" ] && { echo "$d/shared/assets"; return; }
    d=$(dirname "$d")
  done
}

build_all() {
  if ! command -v clang++ >/dev/null; then
    echo "[fuzz] clang++ not found (Debian: apt-get install clang)" >&2
    return 1
  fi
  CC=clang CXX=clang++ cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAMTRACK_FUZZ=ON \
    -DCAMTRACK_ENABLE_CUDA=OFF >"$dir.configure.log" 2>&1 || { tail -20 "$dir.configure.log" >&2; return 1; }
  rm -f "$dir.configure.log"
  local t names=()
  for t in "${targets[@]}"; do names+=("camtrack_fuzz_$t"); done
  cmake --build "$dir" -j "$jobs" --target "${names[@]}"
}

# Seeds for <target> into build-fuzz/seeds/<target>/ (remade each run; a missing asset only means fewer seeds).
make_seeds() {
  local t=$1 out="$dir/seeds/$1" assets f i
  assets=$(assets_dir)
  rm -rf "$out" && mkdir -p "$out"
  local ff=(ffmpeg -hide_banner -loglevel error -nostdin -y)
  case "$t" in
    jpeg)
      for f in "$assets"/images/*.jpg; do [ -f "$f" ] && cp "$f" "$out/"; done
      f="$assets/images/zidane.jpg"
      if [ -f "$f" ]; then
        for fmt in yuvj420p yuvj422p yuvj444p gray; do
          "${ff[@]}" -i "$f" -vf scale=64:-2 -pix_fmt "$fmt" -frames:v 1 "$out/small-$fmt.jpg"
        done
        # EXIF orientation 6 (APP1, big-endian TIFF, one IFD entry) spliced after SOI: the rotation path.
        { printf '\xff\xd8\xff\xe1\x00\x22Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00'
          tail -c +3 "$out/small-yuvj420p.jpg"; } >"$out/small-exif6.jpg"
      fi
      ;;
    png)
      f="$assets/images/dog.jpg"
      if [ -f "$f" ]; then
        for fmt in rgb24 rgba gray pal8 rgb48be gray16be ya8 monob; do
          "${ff[@]}" -i "$f" -vf scale=32:-2 -pix_fmt "$fmt" -frames:v 1 -c:v png "$out/small-$fmt.png"
        done
      fi
      ;;
    annexb)
      for f in "$assets"/videos/walking.mp4 "$assets"/videos/car-detection.mp4; do
        [ -f "$f" ] && "${ff[@]}" -i "$f" -map 0:v:0 -frames:v 2 -c copy -bsf:v h264_mp4toannexb -f h264 "$out/$(basename "$f" .mp4).h264"
      done
      f="$assets/videos/mmtracking-demo.mp4"
      [ -f "$f" ] && "${ff[@]}" -i "$f" -frames:v 4 -vf scale=64:-2 -c:v libx265 -x265-params log-level=error -f hevc "$out/mmtracking-demo.hevc"
      ;;
    output_parser)
      # Hand-built: per layout, a valid configuration header (see native/fuzz/fuzz_output_parser.cpp) and a few
      # detections' worth of floats.
      node -e '
        const fs = require("fs"), out = process.argv[1];
        for (const layout of [0, 1, 2]) {
          const b = Buffer.alloc(1 + 24 + 4 + 2 + 1 + 2 + 1 + 16 + 4 * 6 * 40);
          let o = 0;
          b[o++] = layout;
          for (const v of [1n, BigInt(4 + 3), 40n]) { b.writeBigInt64LE(v, o); o += 8; }
          b[o++] = 1; b[o++] = 1; b[o++] = 3;  // 64x64 input, 3 classes
          b.writeUInt16LE(39, o); o += 2;      // 40 anchors
          b[o++] = 0; b[o++] = 64; b[o++] = 128; b[o++] = 9;  // flags, score 0.25, iou 0.5, max 10
          for (const v of [0.5, 2, 3]) { b.writeFloatLE(v, o); o += 4; }
          b.writeUInt16LE(128, o); o += 2; b.writeUInt16LE(96, o); o += 2;
          for (let i = 0; o + 4 <= b.length; i++, o += 4) b.writeFloatLE(((i * 37) % 64) / (i % 5 === 4 ? 64 : 1), o);
          fs.writeFileSync(`${out}/layout-${layout}`, b);
        }' "$out"
      ;;
  esac
  return 0
}

# Runs <target>: regressions, then -max_total_time fuzzing. Prints the per-target line; returns non-zero on failure.
run_target() {
  local t=$1 exe="$dir/camtrack_fuzz_$1" log="$dir/logs/$1.log"
  if [ ! -x "$exe" ]; then
    echo "fuzz: $t FAILED (not built: scripts/fuzz.sh $t --build-only)"
    return 1
  fi
  mkdir -p "$dir/logs" "$dir/crashes" "$dir/corpus/$t"
  export ASAN_OPTIONS="detect_leaks=1 allocator_may_return_null=1"
  export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1"
  local regressions=("$root/native/fuzz/regressions/$t"/*)
  if [ -e "${regressions[0]}" ]; then
    if ! timeout -k 5 120 "$exe" -rss_limit_mb=2048 "${regressions[@]}" >"$dir/logs/$t.regressions.log" 2>&1; then
      echo "fuzz: $t FAILED (a committed regression input crashes again; log: build-fuzz/logs/$t.regressions.log)"
      grep -m1 -B2 -A12 'ERROR:\|runtime error\|property violated' "$dir/logs/$t.regressions.log" >&2
      return 1
    fi
  fi
  make_seeds "$t"
  # -timeout: one input over 10 s is a hang (reported as a timeout artifact); -rss_limit_mb: over 2 GB is a crash.
  timeout -k 10 $((seconds + 120)) "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
    -print_final_stats=1 -artifact_prefix="$dir/crashes/$t-" "$dir/corpus/$t" "$dir/seeds/$t" >"$log" 2>&1
  local rc=$?
  local runs corpus
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  corpus=$(ls "$dir/corpus/$t" | wc -l)
  if [ $rc -ne 0 ]; then
    local artifact
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    grep -m1 -B2 -A16 'ERROR:\|runtime error\|property violated' "$log" >&2
    echo "fuzz: $t FAILED (exit $rc after ${runs:-?} runs; log: build-fuzz/logs/$t.log)"
    [ -n "$artifact" ] && echo "reproduce: build-fuzz/camtrack_fuzz_$t ${artifact#"$root/"}"
    return 1
  fi
  echo "fuzz: $t ok: ${runs:-?} runs in $seconds s, corpus $corpus inputs"
}

if [ $build = 1 ]; then
  build_all || { echo "fuzz: FAILED: build ($((SECONDS - started)) s)"; exit 1; }
fi
[ $run = 0 ] && { echo "fuzz: built ${targets[*]} ($((SECONDS - started)) s)"; exit 0; }
failed=()
for t in "${targets[@]}"; do run_target "$t" || failed+=("$t"); done
if [ ${#failed[@]} -eq 0 ]; then
  echo "fuzz: all ok ($((SECONDS - started)) s)"
  exit 0
fi
echo "fuzz: FAILED: ${failed[*]} ($((SECONDS - started)) s)"
exit 1
