#!/usr/bin/env node
// `npm run prebuild`: the three packages of a linux-x64 (glibc) release, as `npm pack` tarballs in dist-packages/:
//
//   @camtrack/ffmpeg-linux-x64  LGPL FFmpeg (libavformat/libavcodec/libavutil/libswscale + libavfilter and the ffmpeg
//                               tool for the demo) and libjpeg-turbo's libturbojpeg, built from Debian's pinned
//                               source packages (scripts/prebuilt/*.sh), with headers, licences and how to rebuild
//   @camtrack/linux-x64         camtrack.node built against them (cmake/prebuilt.cmake: static libstdc++, RUNPATH
//                               to the FFmpeg package), CUDA compiled in where nvcc is found (static runtime)
//   camtrack                    the package itself, with both as optionalDependencies and no install script
//
// Checks before packing (each failure stops the build): every binary's glibc symbol versions (objdump -T) are at most
// GLIBC_FLOOR_MAX (scripts/prebuilt/versions.sh), the addon needs no libstdc++/libgcc_s, every binary needs only the
// bundled libraries and glibc/zlib, the FFmpeg build is LGPL, and the addon loads from the staged package layout with
// the bundled FFmpeg (ldd + a real require). dist-packages/manifest.json records versions, sizes and the floor.
//
// Expensive steps are cached (FFmpeg and libjpeg-turbo under .cache/prebuilt/, keyed by version and script hash; the
// addon's cmake build in build-prebuilt/); a fresh clone builds everything. Needs: nasm, patchelf, dpkg-dev, cmake,
// g++, binutils (scripts/install-system-deps.sh --with-test-deps installs them). Options: --no-cuda (addon without
// the CUDA kernels, faster to build), --skip-checks-load (no require of the staged addon).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const unknown = args.filter((a) => !['--no-cuda', '--skip-checks-load'].includes(a));
if (unknown.length > 0) {
  console.error(`[prebuild] unknown argument ${unknown.join(' ')} (options: --no-cuda, --skip-checks-load)`);
  process.exit(2);
}
const noCuda = args.includes('--no-cuda');

const distDir = path.join(root, 'dist-packages');
const workDir = path.join(root, 'build-prebuilt');
const stageDir = path.join(workDir, 'stage', 'node_modules');
const rootPkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const version = rootPkg.version;
const versions = Object.fromEntries(
  readFileSync(path.join(root, 'scripts', 'prebuilt', 'versions.sh'), 'utf8')
    .split('\n')
    .map((l) => /^([A-Z_0-9]+)=(\S+)/.exec(l))
    .filter(Boolean)
    .map((m) => [m[1], m[2]]),
);
const noEpoch = (v) => v.replace(/^\d+:/, '');
const ADDON_PKG = '@camtrack/linux-x64';
const LIBS_PKG = '@camtrack/ffmpeg-linux-x64';

const log = (line) => console.log(`[prebuild] ${line}`);
const die = (line) => {
  console.error(`[prebuild] error: ${line}`);
  process.exit(1);
};
const timings = {};
const step = (name, fn) => {
  const t0 = performance.now();
  const r = fn();
  timings[name] = Math.round((performance.now() - t0) / 100) / 10;
  log(`${name}: ${timings[name]} s`);
  return r;
};
const out = (cmd, argv, opts = {}) => execFileSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });

// ---- tools ----------------------------------------------------------------------------------------------------------
const tools = {
  nasm: 'nasm',
  patchelf: 'patchelf',
  'dpkg-source': 'dpkg-dev',
  cmake: 'cmake',
  'c++': 'g++',
  objdump: 'binutils',
  readelf: 'binutils',
  strip: 'binutils',
  'pkg-config': 'pkg-config',
};
const missingTools = Object.entries(tools).filter(
  ([t]) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0,
);
if (missingTools.length > 0) {
  die(
    `missing ${missingTools.map(([t]) => t).join(', ')}. ` +
      `Install: apt-get install -y ${[...new Set(missingTools.map(([, p]) => p))].join(' ')} ` +
      '(or sudo ./scripts/install-system-deps.sh --with-test-deps)',
  );
}

// A failed run must not leave an older release behind for the tests to pick up.
rmSync(distDir, { recursive: true, force: true });

// ---- native libraries -----------------------------------------------------------------------------------------------
const runScript = (name) => {
  const r = spawnSync('bash', [path.join(root, 'scripts', 'prebuilt', name)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) die(`scripts/prebuilt/${name} failed (exit ${r.status})`);
  return r.stdout.trim().split('\n').at(-1);
};
const ffmpegPrefix = step('FFmpeg (scripts/prebuilt/ffmpeg.sh, cached)', () => runScript('ffmpeg.sh'));
const tjPrefix = step('libjpeg-turbo (scripts/prebuilt/turbojpeg.sh, cached)', () => runScript('turbojpeg.sh'));

// ---- the addon ------------------------------------------------------------------------------------------------------
step('TypeScript (dist/)', () => {
  const tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
  out(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
});

const addonFile = step('addon (cmake-js, build-prebuilt/)', () => {
  // pkg-config sees only the bundled libraries: aliases under the usual module names (libavcodec →
  // libavcodec_camtrack) and libjpeg-turbo's own .pc; the system's FFmpeg can never be picked up.
  const pcDir = path.join(workDir, 'pkgconfig');
  rmSync(pcDir, { recursive: true, force: true });
  mkdirSync(pcDir, { recursive: true });
  const ffPc = path.join(ffmpegPrefix, 'lib', 'pkgconfig');
  for (const m of ['libavformat', 'libavcodec', 'libavutil', 'libswscale']) {
    const real = `${m}${versions.FFMPEG_BUILD_SUFFIX}`;
    const v = out('pkg-config', ['--modversion', real], { env: { ...process.env, PKG_CONFIG_LIBDIR: ffPc } }).trim();
    writeFileSync(
      path.join(pcDir, `${m}.pc`),
      `Name: ${m}\nDescription: alias of ${real} (camtrack prebuild)\nVersion: ${v}\nRequires: ${real} = ${v}\n`,
    );
  }
  const pkgConfigLibdir = [pcDir, ffPc, path.join(tjPrefix, 'lib', 'pkgconfig')].join(':');
  const buildDir = path.join(workDir, 'build');
  // A different FFmpeg/libjpeg-turbo build or option set: configure from scratch (CMake caches what it found).
  const stamp = JSON.stringify({ ffmpegPrefix, tjPrefix, noCuda });
  const stampFile = path.join(workDir, 'build.stamp');
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp)
    rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const defs = ['--CDCAMTRACK_PREBUILT=ON', '--CDCAMTRACK_BUILD_TESTS=OFF', '--CDCAMTRACK_BUILD_BENCH=OFF'];
  if (noCuda) defs.push('--CDCAMTRACK_ENABLE_CUDA=OFF');
  const env = {
    ...process.env,
    PKG_CONFIG_LIBDIR: pkgConfigLibdir,
    PKG_CONFIG_PATH: '',
    CMAKE_BUILD_PARALLEL_LEVEL: process.env.CMAKE_BUILD_PARALLEL_LEVEL ?? '2',
  };
  for (const cmd of ['configure', 'compile']) {
    const r = spawnSync(process.execPath, [cmakeJs, cmd, '--out', buildDir, '--config', 'Release', ...defs], {
      cwd: root,
      env,
      stdio: 'inherit',
    });
    if (r.status !== 0) die(`cmake-js ${cmd} failed (exit ${r.status})`);
  }
  writeFileSync(stampFile, stamp);
  const file = path.join(buildDir, 'Release', 'camtrack.node');
  if (!existsSync(file)) die(`${file} is missing after the build`);
  return file;
});
const cudaCompiled = /^CAMTRACK_CUDA_COMPILED:INTERNAL=ON$/m.test(
  readFileSync(path.join(workDir, 'build', 'CMakeCache.txt'), 'utf8'),
);

// ---- stage the packages ---------------------------------------------------------------------------------------------
const libsDir = path.join(stageDir, '@camtrack', 'ffmpeg-linux-x64');
const addonDir = path.join(stageDir, '@camtrack', 'linux-x64');
const camtrackDir = path.join(workDir, 'stage', 'camtrack');
rmSync(path.join(workDir, 'stage'), { recursive: true, force: true });

/** The real files a library folder's SONAME links point to, copied under the SONAME (npm pack drops symlinks). */
function copySonames(fromLib, toLib, pattern) {
  mkdirSync(toLib, { recursive: true });
  const copied = [];
  for (const name of readdirSync(fromLib)) {
    const p = path.join(fromLib, name);
    // libfoo.so.59 -> libfoo.so.59.37.100: ship the file as libfoo.so.59 (what the NEEDED entries name).
    if (!pattern.test(name) || !/\.so\.\d+$/.test(name)) continue;
    cpSync(p, path.join(toLib, name), { dereference: true });
    copied.push(name);
  }
  return copied;
}

const libFiles = step('stage packages', () => {
  // @camtrack/ffmpeg-linux-x64
  const lib = path.join(libsDir, 'lib');
  const libs = [
    ...copySonames(path.join(ffmpegPrefix, 'lib'), lib, /_camtrack\.so\.\d+$/),
    ...copySonames(path.join(tjPrefix, 'lib'), lib, /^libturbojpeg\.so\.\d+$/),
  ].sort();
  // Link-time names as GNU ld scripts (npm pack drops symlinks), and the .pc files (relative to their folder:
  // scripts/prebuilt/common.sh), so headers + pkg-config + link work from the package
  // (PKG_CONFIG_PATH=<pkg>/lib/pkgconfig).
  for (const so of libs) {
    const linkName = so.replace(/\.so\.\d+$/, '.so');
    writeFileSync(
      path.join(lib, linkName),
      `/* GNU ld script (camtrack prebuild): the link-time name of ${so} */\nINPUT(${so})\n`,
    );
  }
  mkdirSync(path.join(lib, 'pkgconfig'), { recursive: true });
  for (const [prefix, pcs] of [
    [ffmpegPrefix, readdirSync(path.join(ffmpegPrefix, 'lib', 'pkgconfig'))],
    [tjPrefix, ['libturbojpeg.pc']],
  ]) {
    for (const pc of pcs) {
      const text = readFileSync(path.join(prefix, 'lib', 'pkgconfig', pc), 'utf8');
      if (text.includes(prefix) || !text.includes('${pcfiledir}')) die(`${pc} is not relative to its folder`);
      writeFileSync(path.join(lib, 'pkgconfig', pc), text);
    }
  }
  cpSync(path.join(ffmpegPrefix, 'include'), path.join(libsDir, 'include'), { recursive: true });
  cpSync(path.join(tjPrefix, 'include', 'turbojpeg.h'), path.join(libsDir, 'include', 'turbojpeg.h'));
  mkdirSync(path.join(libsDir, 'bin'), { recursive: true });
  cpSync(path.join(ffmpegPrefix, 'bin', 'ffmpeg'), path.join(libsDir, 'bin', 'ffmpeg'));
  cpSync(path.join(ffmpegPrefix, 'share', 'camtrack-ffmpeg'), path.join(libsDir, 'licenses', 'ffmpeg'), {
    recursive: true,
  });
  cpSync(path.join(tjPrefix, 'share', 'camtrack-libjpeg-turbo'), path.join(libsDir, 'licenses', 'libjpeg-turbo'), {
    recursive: true,
  });

  // @camtrack/linux-x64
  mkdirSync(addonDir, { recursive: true });
  cpSync(addonFile, path.join(addonDir, 'camtrack.node'));
  out('strip', ['--strip-unneeded', path.join(addonDir, 'camtrack.node')]);
  return libs;
});

// ---- checks ---------------------------------------------------------------------------------------------------------
const GLIBC_LIBS = new Set([
  'libc.so.6',
  'libm.so.6',
  'libdl.so.2',
  'libpthread.so.0',
  'librt.so.1',
  'ld-linux-x86-64.so.2',
]);
const needed = (f) =>
  [...out('readelf', ['-d', f]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
const runpath = (f) =>
  /\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]/.exec(out('readelf', ['-d', f]))?.[1];
const symbolVersions = (f) => [
  ...new Set(
    [...out('objdump', ['-T', f]).matchAll(/\b(GLIBC|GLIBCXX|CXXABI|GCC)_([\d.]+)\b/g)].map((m) => `${m[1]}_${m[2]}`),
  ),
];
const cmpVer = (a, b) => {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++)
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
};
const maxGlibc = (syms) =>
  syms
    .filter((s) => s.startsWith('GLIBC_'))
    .map((s) => s.slice(6))
    .sort(cmpVer)
    .at(-1) ?? '0';

const checks = step('checks (objdump -T, readelf -d, ldd, load)', () => {
  const binaries = [
    path.join(addonDir, 'camtrack.node'),
    ...libFiles.map((f) => path.join(libsDir, 'lib', f)),
    path.join(libsDir, 'bin', 'ffmpeg'),
  ];
  const allowed = new Set([...GLIBC_LIBS, 'libz.so.1', ...libFiles]);
  const perFile = {};
  let floor = '0';
  for (const f of binaries) {
    const syms = symbolVersions(f);
    const g = maxGlibc(syms);
    if (cmpVer(g, floor) > 0) floor = g;
    const rel = path.relative(stageDir, f);
    perFile[rel] = { glibc: g, needed: needed(f), runpath: runpath(f) };
    if (cmpVer(g, versions.GLIBC_FLOOR_MAX) > 0)
      die(`${rel} needs GLIBC_${g}; the floor is ${versions.GLIBC_FLOOR_MAX} (objdump -T ${f})`);
    const cxx = syms.filter((s) => !s.startsWith('GLIBC_'));
    if (cxx.length > 0)
      die(`${rel} needs the system's C++ runtime (${cxx.join(', ')}): it must link libstdc++/libgcc statically`);
    const extra = perFile[rel].needed.filter((n) => !allowed.has(n));
    if (extra.length > 0) die(`${rel} needs ${extra.join(', ')}, which neither the bundle nor glibc/zlib provide`);
  }
  const addonRel = path.join('@camtrack', 'linux-x64', 'camtrack.node');
  if (!perFile[addonRel].runpath?.startsWith('$ORIGIN/../ffmpeg-linux-x64/lib'))
    die(`${addonRel} has RUNPATH ${perFile[addonRel].runpath}`);
  // ldd from the staged node_modules layout: every bundled library resolves inside the FFmpeg package.
  const ldd = out('ldd', [path.join(addonDir, 'camtrack.node')], { env: { ...process.env, LD_LIBRARY_PATH: '' } });
  for (const lib of perFile[addonRel].needed.filter((l) => libFiles.includes(l))) {
    const m = new RegExp(`^\\s*${lib.replace(/[.+]/g, '\\$&')} => (\\S+)`, 'm').exec(ldd);
    if (!m || path.dirname(realpathSync(m[1])) !== path.join(libsDir, 'lib'))
      die(`ldd does not resolve ${lib} from ${path.join(libsDir, 'lib')}:\n${ldd}`);
  }
  if (/not found/.test(ldd)) die(`ldd: a library was not found:\n${ldd}`);
  return { glibcFloor: floor, perFile, ldd };
});

// ---- package.json files, READMEs ----------------------------------------------------------------------------------
const ffVersion = noEpoch(versions.FFMPEG_DEB_VERSION);
const tjVersion = noEpoch(versions.LIBJPEG_TURBO_DEB_VERSION);
const platformFields = { os: ['linux'], cpu: ['x64'], libc: ['glibc'] };
const common = {
  version,
  homepage: rootPkg.homepage,
  repository: rootPkg.repository,
  ...platformFields,
  engines: rootPkg.engines,
};
const ffConfigure = readFileSync(path.join(libsDir, 'licenses', 'ffmpeg', 'BUILD.txt'), 'utf8');
writeFileSync(
  path.join(libsDir, 'package.json'),
  JSON.stringify(
    {
      name: LIBS_PKG,
      ...common,
      description:
        `LGPL FFmpeg ${ffVersion} (decode, demux, MJPEG/MPEG-4 encode) and libjpeg-turbo ${tjVersion} shared ` +
        `libraries for camtrack on linux-x64 (glibc >= ${checks.glibcFloor})`,
      license: 'LGPL-2.1-or-later AND IJG AND BSD-3-Clause AND Zlib',
      files: ['lib/', 'include/', 'bin/', 'licenses/', 'README.md'],
      camtrack: {
        ffmpeg: ffVersion,
        ffmpegDebian: versions.FFMPEG_DEB_VERSION,
        libjpegTurbo: tjVersion,
        libjpegTurboDebian: versions.LIBJPEG_TURBO_DEB_VERSION,
        glibc: checks.glibcFloor,
        libs: libFiles,
      },
    },
    null,
    2,
  ) + '\n',
);
writeFileSync(
  path.join(libsDir, 'README.md'),
  `# ${LIBS_PKG}

The native libraries of [camtrack](https://www.npmjs.com/package/camtrack)'s prebuilt addon (${ADDON_PKG}) on
linux-x64 with glibc ${checks.glibcFloor} or newer. Installed by npm as an optional dependency of camtrack; nothing
here runs at install time.

- \`lib/\`: FFmpeg ${ffVersion} (${libFiles.filter((l) => l.includes('_camtrack')).join(', ')}; the \`_camtrack\` suffix
  keeps them apart from a system FFmpeg) and libjpeg-turbo ${tjVersion}'s \`libturbojpeg.so.0\`; RUNPATH \`$ORIGIN\`.
  \`lib/pkgconfig/\` and the \`lib*.so\` link scripts let you build against them
  (\`PKG_CONFIG_PATH=<this>/lib/pkgconfig\`).
- \`include/\`: their headers. \`bin/ffmpeg\`: the ffmpeg tool of the same build (camtrack's demo encodes with it).
- \`licenses/\`: licence texts, Debian's copyright files, and \`BUILD.txt\` for each: the exact source, its sha256 and
  the configure line.

FFmpeg is built from Debian's source package ffmpeg ${versions.FFMPEG_DEB_VERSION} with \`--disable-autodetect
--disable-everything\` and only what camtrack uses, **LGPL-2.1-or-later** (no \`--enable-gpl\`, \`--enable-nonfree\` or
\`--enable-version3\`; no external library but the system's zlib). It has no TLS: \`https://\` sources need camtrack's
source build. libjpeg-turbo (TurboJPEG library only) is built from Debian's libjpeg-turbo
${versions.LIBJPEG_TURBO_DEB_VERSION}: IJG, BSD-3-Clause and zlib licences.

To rebuild: camtrack's repository, \`npm run prebuild\` (scripts/prebuilt/ffmpeg.sh, turbojpeg.sh). You may replace
these libraries with your own build of the same versions (LGPL §6): put them in \`lib/\` under the same names.

## FFmpeg build

\`\`\`
${ffConfigure.trim()}
\`\`\`
`,
);

writeFileSync(
  path.join(addonDir, 'package.json'),
  JSON.stringify(
    {
      name: ADDON_PKG,
      ...common,
      description:
        `camtrack's prebuilt native addon for linux-x64 (glibc >= ${checks.glibcFloor})` +
        (cudaCompiled ? ', CUDA kernels compiled in (static runtime; driver and NVDEC loaded at run time)' : ''),
      license: rootPkg.license,
      files: ['camtrack.node', 'README.md'],
      optionalDependencies: { [LIBS_PKG]: version },
      camtrack: {
        glibc: checks.glibcFloor,
        cuda: cudaCompiled,
        napi: rootPkg.binary.napi_versions[0],
        ffmpeg: ffVersion,
        libjpegTurbo: tjVersion,
      },
    },
    null,
    2,
  ) + '\n',
);
const CUDA_NOTE =
  'CUDA kernels compiled in (sm_75–sm_90 + PTX) with the CUDA runtime linked statically (redistributed under ' +
  "NVIDIA's CUDA EULA); the NVIDIA driver and NVDEC (libcuda.so.1, libnvcuvid.so.1) are loaded at run time where " +
  'present, so the addon loads on machines without a GPU.';
writeFileSync(
  path.join(addonDir, 'README.md'),
  `# ${ADDON_PKG}

[camtrack](https://www.npmjs.com/package/camtrack)'s native addon, prebuilt for linux-x64 with glibc
${checks.glibcFloor} or newer (Ubuntu 22.04, Debian 12 and newer). Installed by npm as an optional dependency of
camtrack ${version}; nothing here runs at install time. camtrack's loader (\`src/native.ts\`) finds it;
\`npx camtrack doctor\` shows what loaded.

- N-API ${rootPkg.binary.napi_versions[0]}; libstdc++ and libgcc linked statically (GCC Runtime Library Exception).
- FFmpeg and libjpeg-turbo come from ${LIBS_PKG}, found through RUNPATH \`$ORIGIN/../ffmpeg-linux-x64/lib\`.
- ${cudaCompiled ? CUDA_NOTE : 'Built without CUDA (CPU path only).'}

Where no prebuilt fits (another platform, an older glibc): \`npx camtrack build-native\` builds the addon from source.
`,
);

// camtrack: `npm pack` of this repository (package.json `files`), then its package.json for publishing.
step('pack camtrack', () => {
  mkdirSync(camtrackDir, { recursive: true });
  const info = JSON.parse(
    out('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', path.join(workDir, 'stage')], {
      cwd: root,
    }),
  )[0];
  out('tar', ['-xzf', path.join(workDir, 'stage', info.filename), '-C', camtrackDir, '--strip-components=1']);
  rmSync(path.join(workDir, 'stage', info.filename));
  const pkg = JSON.parse(readFileSync(path.join(camtrackDir, 'package.json'), 'utf8'));
  // The published package: no lifecycle script at all (prepare is the repository's tsc), no development-only fields;
  // the prebuilt packages as optional dependencies, exactly this version. They are added only here, not in the
  // repository's package.json, so that installing the repository never asks the registry for them.
  delete pkg.scripts;
  delete pkg.devDependencies;
  delete pkg.allowScripts;
  pkg.optionalDependencies = { [ADDON_PKG]: version, [LIBS_PKG]: version };
  writeFileSync(path.join(camtrackDir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
});

// A real load from the staged layout (node_modules/@camtrack/{linux-x64,ffmpeg-linux-x64}): the bundled FFmpeg.
if (!args.includes('--skip-checks-load')) {
  step('load the staged addon', () => {
    // The process's own map of loaded files says which FFmpeg it is (the system may have the same version).
    const code =
      `const m = require(${JSON.stringify(path.join(addonDir, 'camtrack.node'))}); const c = m.capabilities();` +
      "const maps = require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n')" +
      '.map((l) => l.split(/\\s+/)[5]).filter(Boolean);' +
      'const libav = [...new Set(maps.filter((f) => /\\/lib(av|sw|turbojpeg)[^/]*\\.so/.test(f)))];' +
      'console.log(JSON.stringify({ ffmpeg: c.ffmpeg.version, build: m.buildInfo, libav }))';
    const r = spawnSync(process.execPath, ['-e', code], {
      encoding: 'utf8',
      env: { ...process.env, LD_LIBRARY_PATH: '' },
    });
    if (r.status !== 0) die(`the staged addon does not load:\n${r.stderr}`);
    const loaded = JSON.parse(r.stdout.trim().split('\n').at(-1));
    const foreign = loaded.libav.filter((f) => path.dirname(f) !== path.join(libsDir, 'lib'));
    if (loaded.libav.length === 0 || foreign.length > 0)
      die(`the staged addon loaded FFmpeg libraries from outside the package: ${loaded.libav.join(', ')}`);
    log(`loads: ${r.stdout.trim()}`);
  });
}

// ---- pack ----------------------------------------------------------------------------------------------------------
const packages = step('npm pack (dist-packages/)', () => {
  rmSync(distDir, { recursive: true, force: true });
  mkdirSync(distDir, { recursive: true });
  return [libsDir, addonDir, camtrackDir].map((dir) => {
    const info = JSON.parse(
      out('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', distDir], { cwd: dir }),
    )[0];
    return {
      name: info.name,
      version: info.version,
      file: info.filename,
      size: info.size,
      unpackedSize: info.unpackedSize,
      entryCount: info.entryCount,
    };
  });
});

const git = (argv) => spawnSync('git', argv, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';
const manifest = {
  version,
  // What the packages were built from (test/e2e/package.test.ts warns when it is not the checked-out tree).
  gitCommit: git(['rev-parse', 'HEAD']),
  gitDirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
  platform: 'linux-x64',
  libc: 'glibc',
  glibcFloor: checks.glibcFloor,
  glibcFloorMax: versions.GLIBC_FLOOR_MAX,
  ffmpeg: { version: ffVersion, debian: versions.FFMPEG_DEB_VERSION },
  libjpegTurbo: { version: tjVersion, debian: versions.LIBJPEG_TURBO_DEB_VERSION },
  cuda: cudaCompiled,
  packages,
  binaries: checks.perFile,
  timingsSeconds: timings,
};
writeFileSync(path.join(distDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
for (const p of packages) log(`${p.file}: ${mb(p.size)} packed, ${mb(p.unpackedSize)} unpacked, ${p.entryCount} files`);
log(
  `glibc floor ${checks.glibcFloor} (max allowed ${versions.GLIBC_FLOOR_MAX}); ` +
    `CUDA ${cudaCompiled ? 'compiled in' : 'not compiled'}; dist-packages/manifest.json`,
);
