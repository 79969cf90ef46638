#!/usr/bin/env bash
# Loops the 'owner' scenario of test/helpers/exit-scenario.mjs (a worker thread owns a delivering native pipeline and
# the main thread calls process.exit(3)) and counts runs that do not exit with code 3 or print a crash.
#   scripts/repro-exit-owner.sh [runs=50] [busy-loops=0]
# busy-loops > 0 starts that many background CPU burners (`yes > /dev/null`) for the duration, to vary timing.
# Needs `npm run build:dev` and /work/shared/assets (or CAMTRACK_ASSETS).
set -u
runs=${1:-50}
burners=${2:-0}
root=$(cd "$(dirname "$0")/.." && pwd)
assets=${CAMTRACK_ASSETS:-$root/../shared/assets}
pids=()
for ((i = 0; i < burners; i++)); do yes > /dev/null & pids+=($!); done
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
fail=0
for ((i = 1; i <= runs; i++)); do
  out=$(timeout 30 node "$root/test/helpers/exit-scenario.mjs" owner "$assets/models/yolo11n_int8_320.onnx" \
    "$assets/videos/walking.mp4" 0 2>&1)
  rc=$?
  if [[ $rc -ne 3 ]] || grep -qE 'terminate called|Napi::Error|Aborted|double free|corruption|Segmentation' <<<"$out"; then
    fail=$((fail + 1))
    echo "run $i: rc=$rc $(grep -v '^EXITING$' <<<"$out" | tail -3 | tr '\n' ' ')"
  fi
done
echo "owner scenario: $fail failures in $runs runs (busy loops: $burners)"
[[ $fail -eq 0 ]]
