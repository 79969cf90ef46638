#!/usr/bin/env bash
# Installs the system packages camtrack needs, explicitly (never from an npm hook).
#   runtime/build: FFmpeg's libraries and headers (decode), libjpeg-turbo's TurboJPEG (pushed JPEG frames),
#   pkg-config, cmake, a C++17 compiler
#   tests only (--with-test-deps): GoogleTest (libgtest-dev: the native unit test executables), GStreamer's RTSP
#   server (python3-gi), Redis, clang (its ASan/UBSan/TSan and libFuzzer runtimes, scripts/fuzz.sh;
#   scripts/sanitize.sh), and what `npm run prebuild` and its clean-install test need (nasm, patchelf, dpkg-dev for
#   Debian's source packages; debootstrap for the minimal Debian root), prometheus (its promtool checks camtrack serve's
#   /metrics in test/e2e/serve-metrics.test.ts), chromium (the dashboard's browser test, driven by playwright-core:
#   test/e2e/serve-dashboard.test.ts), mosquitto (the MQTT broker test/e2e/analytics-outputs.test.ts starts)
# Debian 12 / Ubuntu 22.04+. Run as root or with sudo.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
PKGS=(pkg-config cmake g++ ffmpeg libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libffmpeg-nvenc-dev
      libturbojpeg0-dev)
if [ "${1:-}" = "--with-test-deps" ] || [ "${CAMTRACK_TEST_DEPS:-}" = 1 ]; then
  PKGS+=(gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
         gstreamer1.0-plugins-ugly gstreamer1.0-tools python3-gi redis-server clang libgtest-dev
         nasm patchelf dpkg-dev binutils debootstrap debian-archive-keyring prometheus
         chromium mosquitto)
fi
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "[camtrack] system packages present"; exit 0; fi
echo "[camtrack] installing: ${missing[*]}"
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}"
