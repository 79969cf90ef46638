#!/usr/bin/env bash
# One-command set-up on a fresh Debian/Ubuntu machine, run from the package directory:
#   1. system packages (FFmpeg libraries for the addon; GStreamer RTSP server + Redis for the test suite),
#      through scripts/install-system-deps.sh — explicit, never from an npm hook; uses sudo when not root.
#      Set CAMTRACK_NO_TEST_DEPS=1 to install only what the product itself needs.
#   2. npm install (dependencies and the TypeScript build; it compiles nothing native), then the addon from source
#      with cmake-js: `npm run build:dev` (with the native test and benchmark executables `npm test` runs), or
#      `npm run build:native` (the addon only) with CAMTRACK_NO_TEST_DEPS=1
#   3. npx camtrack demo (the real pipeline on the built-in scene, no GPU or internet needed)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "${CAMTRACK_NO_TEST_DEPS:-}" = 1 ]; then
  ./scripts/install-system-deps.sh
else
  ./scripts/install-system-deps.sh --with-test-deps
fi
# onnxruntime-node's postinstall would download its CUDA provider from outside the npm registry; camtrack uses the
# bundled CPU provider. npm 11 skips that postinstall anyway (package.json's allowScripts denies it); the variable
# makes older npm skip the download too.
ONNXRUNTIME_NODE_INSTALL=skip npm install
if [ "${CAMTRACK_NO_TEST_DEPS:-}" != 1 ]; then
  npm run build:dev
else
  npm run build:native
fi
npx camtrack demo
