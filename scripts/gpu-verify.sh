#!/usr/bin/env bash
# One prepared run of the GPU checks on the lent GPU machine (docs/gpu-verification.md), within one `run` call:
#   here:  CMAKE_BUILD_PARALLEL_LEVEL=2 npm run build:dev && bash scripts/gpu-bundle.sh
#   there: run(carry: [".gpu-bundle"], command: "bash scripts/gpu-verify.sh", timeout_s: 560)
# Each step has its own time limit and writes its log to $OUT/<step>.log (brought back by `run`); a step that fails
# does not stop the next. Prints one line per step: name, exit code, seconds.
set -u
OUT="${OUT:-/tmp/camtrack-gpu-verify}"
mkdir -p "$OUT"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() {
  local name="$1" limit="$2"
  shift 2
  local t0=$SECONDS
  timeout "$limit" bash scripts/gpu-run.sh "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  echo "step $name: rc=$rc $((SECONDS - t0))s" | tee -a "$OUT/summary.txt"
}
# At most 8 files come back from a run: machine.txt, summary.txt and one log per step but unpack.
{ nvidia-smi --query-gpu=name,driver_version,memory.total,pci.bus_id --format=csv; nvidia-smi -q | grep -iE 'CUDA Version' | head -2
  echo "cpus: $(nproc)"; git log -1 --format='tree: %H %s' 2>/dev/null; cat .gpu-bundle/MANIFEST.txt 2>/dev/null; } >"$OUT/machine.txt" 2>&1
timeout 120 bash scripts/gpu-run.sh true >>"$OUT/summary.txt" 2>&1 || echo "unpack failed" >>"$OUT/summary.txt"
step doctor 60 node bin/camtrack.js doctor
step native-gpu-tests 120 ./build/camtrack_gpu_tests
# The baseline bench/decode.mjs compares with (baselineArgs: -hwaccel cuda -hwaccel_output_format cuda ... -f null -) and
# variants of it, on one clip: which of them the bundle's minimal FFmpeg runs, and how fast (-benchmark).
step ffmpeg-hwaccel 90 bash -c 'clip="$CAMTRACK_ASSETS/videos/walking.mp4"
  for v in "-hwaccel cuda -hwaccel_output_format cuda" "-hwaccel cuda -hwaccel_output_format cuda -stream_loop 3" \
           "-hwaccel cuda -hwaccel_output_format cuda -reinit_filter 0 -stream_loop 3"; do
    echo "== ffmpeg $v -i walking.mp4 -an -f null -"
    ffmpeg -hide_banner -benchmark $v -i "$clip" -an -f null - 2>&1 | tail -4; echo "rc=${PIPESTATUS[0]}"
  done'
step vitest-gpu 320 npx vitest run test/gpu --reporter=verbose --reporter=json --outputFile="$OUT/vitest-gpu.json"
cat "$OUT/summary.txt"
grep -aE "PSNR|Tests |Test Files|FAIL|✓|×| => " "$OUT/vitest-gpu.log" | cut -c1-300 | tail -60
