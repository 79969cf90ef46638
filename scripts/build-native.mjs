#!/usr/bin/env node
// Builds the native addon from source with cmake-js: `npx camtrack build-native` in an installed package (where no
// prebuilt fits: the package has no install script, the prebuilt addon comes from the optional dependency
// @camtrack/linux-x64, docs/install.md), `npm run build:native` / `npm run build:dev` in the repository.
// `--dev` (`npm run build:dev`) builds the native test and benchmark executables too (CAMTRACK_BUILD_TESTS and
// CAMTRACK_BUILD_BENCH, OFF by default so that a user's `npm install` compiles the addon only): what `npm test`, CI
// and the benchmarks need. A build configured with --dev keeps them in later plain builds (CMake's cache).
// Before handing over to cmake it checks the system requirements (FFmpeg's libraries, ffnvcodec headers, cmake, a
// C++ compiler) so a missing package gives one clear message with the command that fixes it, not a CMake trace.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const unknown = process.argv.slice(2).filter((a) => a !== '--dev');
if (unknown.length > 0) {
  console.error(`[camtrack] build-native.mjs: unknown argument ${unknown.join(' ')} (the only option is --dev)`);
  process.exit(2);
}
const dev = process.argv.includes('--dev');

if (process.env.CAMTRACK_SKIP_NATIVE_BUILD === '1') {
  console.log('[camtrack] CAMTRACK_SKIP_NATIVE_BUILD=1: not building the native addon.');
  process.exit(0);
}

// pkg-config modules the build needs: FFmpeg's libraries, libjpeg-turbo's TurboJPEG (libturbojpeg0-dev: pushed JPEG
// frames), and ffnvcodec (NVIDIA's codec headers, Debian package libffmpeg-nvenc-dev): the NVDEC decoder is always
// compiled and loads the driver at run time, so the headers are needed on every machine, GPU or not.
const pcModules = ['libavformat', 'libavcodec', 'libavutil', 'libswscale', 'libturbojpeg', 'ffnvcodec'];
const runs = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
};
const missing = [];
if (!runs('pkg-config', ['--version'])) missing.push('pkg-config');
else missing.push(...pcModules.filter((m) => !runs('pkg-config', ['--exists', m])));
if (!runs('cmake', ['--version'])) missing.push('cmake');
if (!runs(process.env.CXX || 'c++', ['--version'])) missing.push(`a C++17 compiler (${process.env.CXX || 'c++'})`);
if (missing.length > 0) {
  console.error(
    `\n[camtrack] Cannot build the native addon: missing ${missing.join(', ')}.\n` +
      "  camtrack decodes video with FFmpeg's libraries (libavformat, libavcodec, libavutil, libswscale), JPEG with\n" +
      "  libjpeg-turbo's TurboJPEG (libturbojpeg), and builds its addon with cmake and a C++17 compiler; NVDEC needs\n" +
      '  the ffnvcodec headers at build time.\n' +
      '  Fix (Debian/Ubuntu):  sudo ./scripts/install-system-deps.sh   (in node_modules/camtrack when installed as a dependency)\n' +
      '     which runs:        apt-get install -y pkg-config cmake g++ ffmpeg libavformat-dev libavcodec-dev libavutil-dev\n' +
      '                        libswscale-dev libffmpeg-nvenc-dev libturbojpeg0-dev\n' +
      '  then run `npx camtrack build-native` again (in camtrack\'s repository: npm run build:dev).\n' +
      '  On linux-x64 with glibc >= 2.35 no build is needed: `npm install camtrack` installs the prebuilt addon.\n',
  );
  process.exit(1);
}

const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const defines = dev ? ['CAMTRACK_BUILD_TESTS=ON', 'CAMTRACK_BUILD_BENCH=ON'] : [];
if (process.env.CAMTRACK_CMAKE_ARGS) defines.push(...process.env.CAMTRACK_CMAKE_ARGS.split(/\s+/).filter(Boolean));
const cdArgs = defines.map((d) => `--CD${d.replace(/^-D/, '')}`);
const parallel = process.env.CMAKE_BUILD_PARALLEL_LEVEL ?? String(Math.max(1, (await import('node:os')).availableParallelism()));
const runCmakeJs = (command) =>
  spawnSync(process.execPath, [cmakeJs, command, '--out', 'build', '--config', 'Release', ...cdArgs], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: parallel },
  });
// cmake-js `compile` configures only where build/ has no CMakeCache.txt yet, so it would ignore -D options given to
// an already configured build (e.g. `npm run build:dev` after `npm install`): configure first when there are any.
let res = cdArgs.length > 0 ? runCmakeJs('configure') : { status: 0 };
if (res.status === 0) res = runCmakeJs('compile');
if (res.status !== 0) {
  console.error('\n[camtrack] Native build failed (see the output above). `npx camtrack doctor` explains what was found.');
  process.exit(res.status ?? 1);
}
if (!existsSync(path.join(root, 'build', 'Release', 'camtrack.node'))) {
  console.error('[camtrack] cmake-js finished but build/Release/camtrack.node is missing.');
  process.exit(1);
}
