#!/usr/bin/env bash
# Sanitizer builds and runs of the native core (clang, CUDA off; see CMakeLists.txt CAMTRACK_SANITIZE):
#   tsan   build-tsan/: camtrack_pipeline_driver under ThreadSanitizer (suppressions: native/tests/tsan.supp)
#   asan   build-asan/: camtrack_pipeline_driver and camtrack_core_tests under AddressSanitizer + UBSan
#   asan-addon  build-asan/camtrack.node (the N-API addon, ASan + UBSan) and addon tests run with it under Node, the
#          ASan runtime preloaded (LD_PRELOAD; Node itself is not instrumented). Leak detection is off there: at exit
#          LeakSanitizer reports V8's, Node's, rolldown's and onnxruntime's own never-freed memory (docs/reliability.md),
#          and a suppression of the node binary would hide every allocation made under a call from JS; camtrack's
#          leaks are checked by the asan kind (LeakSanitizer on, the same core code). Tests:
#          $CAMTRACK_ASAN_ADDON_TESTS (space-separated vitest paths; default: a subset where JS buffers and objects
#          cross into native code, about a minute; `test/addon` runs all of them, about 10 minutes here)
#   all    tsan, asan and asan-addon (default)
# Any report fails the run (halt_on_error=1, UBSan without recovery, LeakSanitizer on). The driver needs the shared
# clips: $CAMTRACK_ASSETS, else <ancestor>/shared/assets. Needs clang (Debian: apt-get install clang).
#
# Usage: scripts/sanitize.sh [tsan|asan|all] [--build-only|--run-only]
#   --build-only  configure and build, run nothing (.ci/run: the runs happen in test/unit/sanitizers.test.ts)
#   --run-only    run what is built, without configuring or building (test/unit/sanitizers.test.ts uses it)
# Last line: `sanitize: tsan ok, asan ok (N s)` or `sanitize: … FAILED …`; exit status 0 only when all passed.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
which="${1:-all}"
build=1
run=1
case "${2:-}" in --run-only) build=0 ;; --build-only) run=0 ;; "") ;;
  *) echo "usage: scripts/sanitize.sh [tsan|asan|all] [--build-only|--run-only]" >&2; exit 2 ;; esac
case "$which" in tsan) kinds=(tsan) ;; asan) kinds=(asan) ;; asan-addon) kinds=(asan-addon) ;; all) kinds=(tsan asan asan-addon) ;;
  *) echo "usage: scripts/sanitize.sh [tsan|asan|asan-addon|all] [--build-only|--run-only]" >&2; exit 2 ;; esac
jobs="${CAMTRACK_SANITIZE_JOBS:-$(nproc)}"
started=$SECONDS

# <kind> → the CMake sanitizer and the targets it builds.
declare -A sanitizer=([tsan]=thread [asan]=address [asan-addon]=address)
declare -A targets=([tsan]="camtrack_pipeline_driver" [asan]="camtrack_pipeline_driver camtrack_core_tests" [asan-addon]="camtrack")
# asan-addon shares asan's build folder (the same instrumented core); the addon target exists there because the
# configure step gives it what cmake-js would (Node's and node-addon-api's headers; on Linux nothing to link).
declare -A folder=([tsan]=build-tsan [asan]=build-asan [asan-addon]=build-asan)
# Not push.test.ts: its RSS bound does not hold with ASan's quarantine and redzones (it passed in the full run).
DEFAULT_ADDON_TESTS="test/addon/binding-arguments.test.ts test/addon/native-config.test.ts test/addon/frame-tags.test.ts test/addon/stream-lifecycle.test.ts test/addon/images.test.ts test/addon/worker-exit.test.ts"

build_kind() {
  local kind=$1 dir="${folder[$1]}" js=()
  if ! command -v clang++ >/dev/null; then
    echo "[sanitize] clang++ not found (Debian: apt-get install clang)" >&2
    return 1
  fi
  if [ "$dir" = build-asan ]; then
    local napi addon_api
    napi="$(node -p "require('node-api-headers').include_dir" 2>/dev/null)" &&
      addon_api="$(node -p "require('node-addon-api').include_dir" 2>/dev/null)" ||
      { echo "[sanitize] node-api-headers / node-addon-api not installed (npm ci)" >&2; return 1; }
    js=(-DCMAKE_JS_VERSION=sanitize "-DCMAKE_JS_INC=$napi;$root/$addon_api" -DCMAKE_JS_SRC= -DCMAKE_JS_LIB=)
  fi
  # -O1 (the optimisation the sanitizers' own documentation suggests) and line tables only: the builds run in CI on every
  # commit, and these flags compile 13–25 % faster than RelWithDebInfo's -O2 -g (measured on pipeline.cpp and
  # analytics_test.cpp, ASan + UBSan: 4.1 → 3.0 s and 7.1 → 6.2 s) with the same file:line in every report.
  CC=clang CXX=clang++ cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -DNDEBUG" \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -DNDEBUG" -DCAMTRACK_SANITIZE="${sanitizer[$kind]}" \
    -DCAMTRACK_BUILD_TESTS=ON -DCAMTRACK_ENABLE_CUDA=OFF "${js[@]}" >"$dir.configure.log" 2>&1 ||
    { tail -20 "$dir.configure.log" >&2; return 1; }
  rm -f "$dir.configure.log"
  # shellcheck disable=SC2086
  cmake --build "$dir" -j "$jobs" --target ${targets[$kind]}
}

run_addon_tests() {
  local addon="$root/build-asan/camtrack.node" runtime
  if [ ! -f "$addon" ]; then
    echo "[sanitize] asan-addon: $addon is not built (scripts/sanitize.sh asan-addon)" >&2
    return 1
  fi
  runtime="$(clang -print-file-name=libclang_rt.asan-x86_64.so)"
  [ -f "$runtime" ] || { echo "[sanitize] asan-addon: clang's ASan runtime not found ($runtime)" >&2; return 1; }
  echo "[sanitize] asan-addon: vitest ${CAMTRACK_ASAN_ADDON_TESTS:-$DEFAULT_ADDON_TESTS}"
  # shellcheck disable=SC2086
  LD_PRELOAD="$runtime" CAMTRACK_NATIVE_PATH="$addon" \
    ASAN_OPTIONS="halt_on_error=1 exitcode=66 detect_leaks=0 strict_string_checks=1" \
    UBSAN_OPTIONS="halt_on_error=1 exitcode=66 print_stacktrace=1" \
    timeout -k 5 1500 "$root/node_modules/.bin/vitest" run ${CAMTRACK_ASAN_ADDON_TESTS:-$DEFAULT_ADDON_TESTS}
  local rc=$?
  [ $rc -eq 0 ] || echo "[sanitize] asan-addon: the addon tests FAILED (exit $rc; a sanitizer report exits its test process with 66)" >&2
  return $rc
}

run_kind() {
  [ "$1" = asan-addon ] && { run_addon_tests; return; }
  local kind=$1 dir="$root/build-$1" status=0
  # exitcode 66: a sanitizer report, told apart from the executables' own failures (1) in the summary.
  export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 history_size=4 suppressions=$root/native/tests/tsan.supp"
  export ASAN_OPTIONS="halt_on_error=1 exitcode=66 detect_leaks=1 detect_stack_use_after_return=1 strict_string_checks=1"
  export UBSAN_OPTIONS="halt_on_error=1 exitcode=66 print_stacktrace=1"
  local exes=("$dir/camtrack_pipeline_driver")
  [ "$kind" = asan ] && exes+=("$dir/camtrack_core_tests")
  for exe in "${exes[@]}"; do
    if [ ! -x "$exe" ]; then
      echo "[sanitize] $kind: $exe is not built (scripts/sanitize.sh $kind)" >&2
      status=1
      continue
    fi
    echo "[sanitize] $kind: $(basename "$exe")"
    # Bounded: a deadlock must fail the run, not hang it.
    timeout -k 5 270 "$exe"
    local rc=$?
    if [ $rc -ne 0 ]; then
      case $rc in 66) why="sanitizer report" ;; 124|137) why="timed out" ;; *) why="exit $rc" ;; esac
      echo "[sanitize] $kind: $(basename "$exe") FAILED ($why)" >&2
      status=1
    fi
  done
  return $status
}

summary=()
failed=0
for kind in "${kinds[@]}"; do
  if [ $build = 1 ] && ! build_kind "$kind"; then
    summary+=("$kind build FAILED")
    failed=1
    continue
  fi
  if [ $run = 0 ]; then
    summary+=("$kind built")
  elif run_kind "$kind"; then
    summary+=("$kind ok")
  else
    summary+=("$kind FAILED")
    failed=1
  fi
done
line=$(IFS=,; echo "${summary[*]}" | sed 's/,/, /g')
echo "sanitize: $line ($((SECONDS - started)) s)"
exit $failed
