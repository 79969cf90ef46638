/**
 * The published package as npm makes it: `npm pack` of this tree (package.json `files`), then a CMake configure of
 * the extracted tarball. What a user gets is what they run: bin/, dist/, the addon's sources (native/core,
 * native/binding), CMakeLists.txt + cmake/ and the two scripts users run (build-native.mjs: `npx camtrack
 * build-native`; install-system-deps.sh: the fix it prints). No tests, benchmarks, CI or GPU-bundle scripts, and no
 * install script. In the tarball the native tests and benchmarks are absent and OFF by default, so its source build
 * has no target but camtrack_core (+ the addon under cmake-js), and still configures when they are turned on.
 *
 * Then the release as `npm run prebuild` makes it (dist-packages/: camtrack, @camtrack/linux-x64,
 * @camtrack/ffmpeg-linux-x64; CI runs the prebuild first, see .ci/run): what each tarball holds, the glibc floor
 * from the binaries' symbols, and a real install into a fresh project inside a minimal Debian root
 * (scripts/prebuilt/test-root.sh: debootstrap minbase, no FFmpeg, no compiler, no cmake; this machine's Node copied in)
 * where the install runs no script, `npx camtrack doctor` and `npx camtrack demo` work on the bundled FFmpeg, ldd
 * resolves it from the package, and the loader names a missing library and the package that provides it.
 *
 * Real npm, tar, cmake, objdump, the debootstrap root and chroot (root only); --ignore-scripts keeps npm from running
 * `prepare` (tsc): dist/ is the one `npm test` has just built. Without dist-packages/ or the root (or not as root)
 * the prebuilt tests fail under CI=true and skip, saying why, elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isCi, repoRoot } from '../helpers/assets.js';
import { waitForBackgroundBuild } from '../helpers/background-builds.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

// Under .ci/run this build runs in the background while the earlier test files run (test/helpers/background-builds.ts).
await waitForBackgroundBuild('prebuilt');

const tmp = lazyTempDir('camtrack-package-');
/** npm's install-time lifecycle scripts (npm rebuild runs the same ones). */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'] as const;

function run(command: string, args: string[], cwd: string) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`${command} ${args.join(' ')}: ${r.error.message}`);
  expect(r.status, `${command} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** Every file under `dir` (relative to the repo root, '/'-separated). */
function filesUnder(dir: string): string[] {
  return readdirSync(path.join(repoRoot, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(repoRoot, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

/** CMake's targets in a configured build dir, from its `help` target (Makefiles and Ninja both list them). */
function cmakeTargets(buildDir: string): string {
  return run('cmake', ['--build', buildDir, '--target', 'help'], buildDir);
}

describe('npm pack (package.json files) and the packed native build', () => {
  let packed: string[] = [];
  let packageDir = '';
  beforeAll(() => {
    const out = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp()], repoRoot);
    const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
    packed = info!.files.map((f) => f.path);
    run('tar', ['-xzf', path.join(tmp(), info!.filename), '-C', tmp()], tmp());
    packageDir = path.join(tmp(), 'package');
  }, 120_000);

  it('ships bin/, dist/, the addon sources and the user scripts, and no test, benchmark, CI or GPU-bundle file', () => {
    const devOnly = packed.filter(
      (p) =>
        /^(test|bench|native\/tests|\.ci|\.github|docs)\//.test(p) ||
        /^scripts\/(gpu-|run-tests|setup)/.test(p) ||
        /\.test\.[cm]?[jt]s$/.test(p) ||
        p === 'binding.gyp',
    );
    expect(devOnly, 'development-only files in the package').toEqual([]);
    expect(packed.filter((p) => p.startsWith('scripts/')).sort()).toEqual(['scripts/build-native.mjs', 'scripts/install-system-deps.sh']);
    for (const need of ['package.json', 'CMakeLists.txt', 'bin/camtrack.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js']) {
      expect(packed, need).toContain(need);
    }
    // `camtrack bench` is a user command: its compiled code ships.
    expect(packed).toContain('dist/bench/runner.js');
    // Every source of the addon, so that the install script can build it.
    const addonSources = [...filesUnder('native/core'), ...filesUnder('native/binding')];
    expect(addonSources.length).toBeGreaterThan(20);
    expect(addonSources.filter((f) => !packed.includes(f)), 'addon sources missing from the package').toEqual([]);

    // The source build's CMake pieces ship with it (CMakeLists.txt includes cmake/prebuilt.cmake).
    expect(packed).toEqual(expect.arrayContaining(['cmake/prebuilt.cmake', 'cmake/glibc_compat.c']));
    // No install-time script of any kind: an install never builds (the addon is prebuilt, or `npx camtrack
    // build-native`), and gypfile false stops npm's implicit `node-gyp rebuild`.
    const pkg = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
      gypfile?: boolean;
    };
    for (const s of INSTALL_SCRIPTS) expect(pkg.scripts?.[s], `package.json scripts.${s}`).toBeUndefined();
    expect(pkg.gypfile).toBe(false);
  });

  it("configures the packed tree with the native tests and benchmarks OFF: a user's build has no such target", () => {
    const buildDir = path.join(tmp(), 'build');
    run('cmake', ['-S', packageDir, '-B', buildDir, '-DCAMTRACK_ENABLE_CUDA=OFF'], tmp());
    const cache = readFileSync(path.join(buildDir, 'CMakeCache.txt'), 'utf8');
    expect(cache).toMatch(/^CAMTRACK_BUILD_TESTS:BOOL=OFF$/m);
    expect(cache).toMatch(/^CAMTRACK_BUILD_BENCH:BOOL=OFF$/m);
    const targets = cmakeTargets(buildDir);
    expect(targets).toMatch(/\bcamtrack_core\b/);
    expect(targets).not.toMatch(/camtrack_(core_tests|gpu_tests|bench_)/);

    // Turned on in the tarball (no native/tests, no bench/), it still configures, with nothing to build for them.
    run('cmake', ['-S', packageDir, '-B', buildDir, '-DCAMTRACK_BUILD_TESTS=ON', '-DCAMTRACK_BUILD_BENCH=ON'], tmp());
    expect(cmakeTargets(buildDir)).not.toMatch(/camtrack_(core_tests|gpu_tests|bench_)/);
  }, 120_000);
});

// ---- the prebuilt packages ------------------------------------------------------------------------------------------

const distDir = path.join(repoRoot, 'dist-packages');
const manifestFile = path.join(distDir, 'manifest.json');
interface Manifest {
  version: string;
  gitCommit: string;
  gitDirty: boolean;
  glibcFloor: string;
  glibcFloorMax: string;
  ffmpeg: { version: string; debian: string };
  packages: { name: string; file: string; size: number; unpackedSize: number }[];
}
const ADDON = '@camtrack/linux-x64';
const LIBS = '@camtrack/ffmpeg-linux-x64';

/** Why the prebuilt tests cannot run here, or undefined. Under CI=true that is a failure, elsewhere a skip. */
function whyNoPrebuilt(): string | undefined {
  if (!existsSync(manifestFile)) return `no ${path.relative(repoRoot, manifestFile)}: run npm run prebuild`;
  return undefined;
}

/** A describe that needs dist-packages/ (and `extra()` for more needs). See the file header. */
function describeNeeding(name: string, why: () => string | undefined, fn: () => void): void {
  const reason = why();
  if (!reason) return describe(name, fn);
  if (isCi) {
    return describe(name, () => {
      it('has what it needs (required when CI=true)', () => {
        throw new Error(reason);
      });
    });
  }
  console.warn(`[camtrack tests] skipping "${name}": ${reason}`);
  describe.skip(`${name} [skipped: ${reason}]`, fn);
}

const cmpVersion = (a: string, b: string): number => {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++)
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
};

describeNeeding('the prebuilt packages (npm run prebuild → dist-packages/)', whyNoPrebuilt, () => {
  let manifest: Manifest;
  /** Extracted tarballs: package name → folder. */
  const dirs: Record<string, string> = {};
  const pkgJson = (name: string) =>
    JSON.parse(readFileSync(path.join(dirs[name]!, 'package.json'), 'utf8')) as Record<string, unknown>;

  beforeAll(() => {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim();
    if (manifest.gitCommit !== head || manifest.gitDirty) {
      console.warn(
        `[camtrack tests] dist-packages/ was built from ${manifest.gitCommit}${manifest.gitDirty ? ' (dirty)' : ''}, not ${head}: npm run prebuild`,
      );
    }
    for (const p of manifest.packages) {
      const dir = path.join(tmp(), 'extracted', p.name);
      mkdirSync(dir, { recursive: true });
      run('tar', ['-xzf', path.join(distDir, p.file), '-C', dir, '--strip-components=1'], dir);
      dirs[p.name] = dir;
    }
  }, 120_000);

  it('are three tarballs of one version: camtrack with the two platform packages as optionalDependencies, and no install script anywhere', () => {
    expect(manifest.packages.map((p) => p.name).sort()).toEqual([LIBS, ADDON, 'camtrack']);
    const v = manifest.version;
    for (const name of [ADDON, LIBS, 'camtrack']) {
      const pkg = pkgJson(name) as { version: string; scripts?: Record<string, string>; gypfile?: boolean };
      expect(pkg.version, name).toBe(v);
      for (const s of INSTALL_SCRIPTS) expect(pkg.scripts?.[s], `${name} scripts.${s}`).toBeUndefined();
      expect(
        existsSync(path.join(dirs[name]!, 'binding.gyp')),
        `${name} has a binding.gyp (npm would run node-gyp)`,
      ).toBe(false);
    }
    const camtrack = pkgJson('camtrack') as {
      optionalDependencies: Record<string, string>;
      scripts?: object;
      gypfile: boolean;
    };
    expect(camtrack.optionalDependencies).toEqual({ [ADDON]: v, [LIBS]: v });
    expect(camtrack.scripts, 'the published camtrack has no scripts at all').toBeUndefined();
    expect(camtrack.gypfile).toBe(false);
    for (const name of [ADDON, LIBS]) {
      expect(pkgJson(name), name).toMatchObject({ os: ['linux'], cpu: ['x64'], libc: ['glibc'] });
    }
    expect(pkgJson(ADDON)).toMatchObject({
      optionalDependencies: { [LIBS]: v },
      camtrack: { glibc: manifest.glibcFloor },
    });
    expect(readdirSync(dirs[ADDON]!).sort()).toEqual(['README.md', 'camtrack.node', 'package.json']);
  });

  it(`${LIBS}: an LGPL FFmpeg with what camtrack uses, its configure line, licences and exact source; libturbojpeg`, () => {
    const dir = dirs[LIBS]!;
    const lib = readdirSync(path.join(dir, 'lib'));
    for (const so of [
      'libavformat_camtrack.so.59',
      'libavcodec_camtrack.so.59',
      'libavutil_camtrack.so.57',
      'libswscale_camtrack.so.6',
      'libturbojpeg.so.0',
    ]) {
      expect(lib, so).toContain(so);
    }
    for (const h of [
      'include/libavcodec/avcodec.h',
      'include/libavformat/avformat.h',
      'include/turbojpeg.h',
      'licenses/ffmpeg/COPYING.LGPLv2.1',
      'licenses/libjpeg-turbo/LICENSE.md',
      'licenses/ffmpeg/debian-copyright',
    ]) {
      expect(existsSync(path.join(dir, h)), h).toBe(true);
    }
    const build = readFileSync(path.join(dir, 'licenses', 'ffmpeg', 'BUILD.txt'), 'utf8');
    const configure = build.split('\n').find((l) => l.startsWith('<source>/configure ')) ?? '';
    expect(configure).toContain('--disable-autodetect --disable-everything');
    expect(configure).not.toMatch(/--enable-(gpl|nonfree|version3)\b/);
    expect(build).toContain(`apt-get source ffmpeg=${manifest.ffmpeg.debian}`);
    expect(build).toMatch(/^ {2}[0-9a-f]{64} {2}ffmpeg_.*\.orig\.tar\.xz$/m);
    // The bundled ffmpeg tool (what the demo encodes with) runs from the package and says what the build is.
    const ffmpeg = path.join(dir, 'bin', 'ffmpeg');
    const says = (arg: string) => run(ffmpeg, ['-hide_banner', arg], dir);
    expect(says('-L')).toMatch(/GNU Lesser General Public\s+License/);
    // `-decoders`/`-encoders` list one codec a line after a ' ------' line: ' V....D h264  H.264 / …'.
    const words = (text: string) =>
      new Set([...text.slice(text.indexOf(' ------')).matchAll(/^\s*[A-Z.]{6}\s+(\S+)/gm)].map((m) => m[1]));
    const decoders = words(says('-decoders'));
    for (const d of ['h264', 'hevc', 'mjpeg', 'png', 'mpeg4']) expect(decoders, `decoder ${d}`).toContain(d);
    // FFmpeg's own encoders only (mpeg4 selects h263), no external (GPL or other) encoder library.
    expect([...words(says('-encoders'))].sort()).toEqual(['h263', 'mjpeg', 'mpeg4', 'rawvideo']);
    expect(says('-bsfs')).toMatch(/^h264_mp4toannexb$/m);
    const protocols = says('-protocols');
    for (const p of ['file', 'rtp', 'tcp', 'udp', 'http']) expect(protocols).toMatch(new RegExp(`^\\s+${p}$`, 'm'));
    expect(protocols, 'no TLS in the prebuilt (docs/install.md)').not.toMatch(/^\s+(https|tls)$/m);
  });

  it(`needs glibc ≤ the floor (objdump -T of every binary), no system C++ runtime, and finds FFmpeg through RUNPATH`, () => {
    expect(cmpVersion(manifest.glibcFloor, manifest.glibcFloorMax)).toBeLessThanOrEqual(0);
    expect(manifest.glibcFloorMax).toBe('2.35'); // Ubuntu 22.04
    const binaries = [
      path.join(dirs[ADDON]!, 'camtrack.node'),
      path.join(dirs[LIBS]!, 'bin', 'ffmpeg'),
      ...readdirSync(path.join(dirs[LIBS]!, 'lib'))
        .filter((f) => /\.so\.\d+$/.test(f))
        .map((f) => path.join(dirs[LIBS]!, 'lib', f)),
    ];
    let highest = '0';
    for (const f of binaries) {
      const symbols = run('objdump', ['-T', f], tmp());
      for (const m of symbols.matchAll(/\bGLIBC_([\d.]+)\b/g)) if (cmpVersion(m[1]!, highest) > 0) highest = m[1]!;
      expect(symbols, `${path.basename(f)} needs the system's libstdc++/libgcc`).not.toMatch(
        /\b(GLIBCXX|CXXABI|GCC)_[\d.]+/,
      );
    }
    expect(highest, 'the highest GLIBC_ symbol version of the binaries').toBe(manifest.glibcFloor);
    const dyn = run('readelf', ['-d', path.join(dirs[ADDON]!, 'camtrack.node')], tmp());
    expect(dyn).toMatch(/\(RUNPATH\)\s+Library runpath: \[\$ORIGIN\/\.\.\/ffmpeg-linux-x64\/lib:/);
    expect(dyn).not.toMatch(/libstdc\+\+|libgcc_s|libav(codec|format|util)\.so/);
  });

  // ---- a clean machine ----
  const inRoot = path.join(repoRoot, 'scripts', 'prebuilt', 'in-root.sh');
  let rootfs = '';
  const whyNoRoot = (): string | undefined => {
    if (process.getuid?.() !== 0) return 'the clean-root install needs root (chroot)';
    const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'prebuilt', 'test-root.sh'), '--existing'], {
      encoding: 'utf8',
    });
    if (r.status !== 0) return `no Debian test root: ${r.stderr.trim() || `exit ${r.status}`} (CI makes it: .ci/run)`;
    rootfs = r.stdout.trim().split('\n').at(-1)!;
    return undefined;
  };
  /** Runs a shell command in the project folder inside the root; never throws. */
  const project = `/work/camtrack-test-${process.pid}`;
  const sh = (command: string, timeoutMs = 120_000, env: Record<string, string> = {}) => {
    const r = spawnSync(inRoot, [rootfs, '/bin/sh', '-c', `cd ${project} && ${command}`], {
      encoding: 'utf8',
      timeout: timeoutMs,
      env: {
        ...process.env,
        IN_ROOT_ENV: Object.entries(env)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      },
    });
    return {
      status: r.status,
      stdout: r.stdout ?? '',
      stderr: r.stderr ?? '',
      out: `${r.stdout ?? ''}${r.stderr ?? ''}`,
      error: r.error,
    };
  };

  describeNeeding(
    'in a fresh project inside a minimal Debian root (debootstrap minbase: no FFmpeg, no compiler)',
    whyNoRoot,
    () => {
      let install: ReturnType<typeof sh>;
      let installSeconds = 0;
      beforeAll(() => {
        const dir = path.join(rootfs, project);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        for (const p of manifest.packages) cpSync(path.join(distDir, p.file), path.join(dir, p.file));
        // A user's project as docs/install.md tells it: onnxruntime-node's own postinstall (a CUDA download) and
        // protobufjs's (a version-scheme warning; it comes with @grpc/proto-loader) denied. With
        // --strict-allow-scripts any other package with an install script fails the install: camtrack's must have none.
        writeFileSync(
          path.join(dir, 'package.json'),
          JSON.stringify({
            name: 'user-project',
            version: '1.0.0',
            private: true,
            allowScripts: { 'onnxruntime-node': false, protobufjs: false },
          }),
        );
        const files = ['@camtrack/ffmpeg-linux-x64', '@camtrack/linux-x64', 'camtrack'].map(
          (n) => `./${manifest.packages.find((p) => p.name === n)!.file}`,
        );
        const t0 = performance.now();
        install = sh(
          `npm install --strict-allow-scripts --no-audit --no-fund --loglevel=info ${files.join(' ')}`,
          600_000,
        );
        installSeconds = (performance.now() - t0) / 1000;
        console.log(
          `[package] npm install of the three tarballs in the clean root: ${installSeconds.toFixed(1)} s (exit ${install.status})`,
        );
      }, 620_000);
      afterAll(() => {
        if (rootfs) rmSync(path.join(rootfs, project), { recursive: true, force: true });
      });

      it('installs with no install script run (npm --strict-allow-scripts) and compiles nothing: the root has no compiler', () => {
        expect(install.status, install.out).toBe(0);
        expect(install.out, 'npm ran a lifecycle script').not.toMatch(/npm info run /);
        const tools = sh(
          'for t in cc gcc g++ c++ cmake make pkg-config ffmpeg; do command -v $t; done; ls /usr/lib/x86_64-linux-gnu | grep -c "^libav" || true',
        );
        expect(tools.stdout.trim(), 'compilers, cmake or FFmpeg in the test root').toBe('0');
        expect(
          existsSync(path.join(rootfs, project, 'node_modules', 'camtrack', 'build')),
          'node_modules/camtrack/build exists',
        ).toBe(false);
        const versions = sh(
          `node -p "['camtrack','${ADDON}','${LIBS}'].map((n) => require(n + '/package.json').version).join(' ')"`,
        );
        expect(versions.stdout.trim()).toBe(`${manifest.version} ${manifest.version} ${manifest.version}`);
      });

      it('`npx camtrack doctor` loads the prebuilt addon, with the bundled FFmpeg', () => {
        const r = sh('npx camtrack doctor --json');
        expect(r.status, r.out).toBe(0);
        const caps = JSON.parse(r.stdout) as {
          native: { loaded: boolean; source: string; file: string; prebuilt: { glibc: string } };
          ffmpeg: { version: string };
        };
        expect(caps.native).toMatchObject({
          loaded: true,
          source: 'prebuilt',
          file: `${project}/node_modules/${ADDON}/camtrack.node`,
        });
        expect(caps.native.prebuilt.glibc).toBe(manifest.glibcFloor);
        expect(caps.ffmpeg.version).toBe(manifest.ffmpeg.version.replace(/-.*/, ''));
      });

      it('ldd resolves every FFmpeg library of the addon from the FFmpeg package', () => {
        const r = sh(`ldd node_modules/${ADDON}/camtrack.node`);
        expect(r.status, r.out).toBe(0);
        expect(r.stdout).not.toMatch(/not found/);
        // Every bundled library the addon needs (libturbojpeg too, once the binding uses the JPEG decoder).
        const resolved = [...r.stdout.matchAll(/^\s*(lib(?:av|sw)\S+|libturbojpeg\S+) => (\S+)/gm)];
        expect(resolved.map((m) => m[1])).toEqual(
          expect.arrayContaining([
            'libavcodec_camtrack.so.59',
            'libavformat_camtrack.so.59',
            'libavutil_camtrack.so.57',
            'libswscale_camtrack.so.6',
          ]),
        );
        for (const [, lib, where] of resolved) {
          expect(path.normalize(where!), lib).toBe(`${project}/node_modules/${LIBS}/lib/${lib}`);
        }
      });

      it('`npx camtrack demo` runs the real pipeline with only the bundled FFmpeg (no ffmpeg on PATH)', () => {
        const r = sh('npx camtrack demo --streams 2 --frames 100 --json --quiet', 240_000, {
          CAMTRACK_CACHE_DIR: `${project}/demo-cache`,
        });
        expect(r.status, r.out).toBe(0);
        const summary = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
          frames: number;
          fps: number;
          accuracy: { mota: number; idf1: number };
        };
        expect(summary.frames).toBe(200);
        expect(summary.accuracy.mota).toBeGreaterThan(0.85);
        expect(summary.accuracy.idf1).toBeGreaterThan(0.6);
        console.log(
          `[package] demo in the clean root: ${summary.frames} frames at ${summary.fps.toFixed(0)} fps, MOTA ${summary.accuracy.mota.toFixed(3)}`,
        );
      }, 250_000);

      it('EXPECTED FAILURE - an https:// source is refused up front: the prebuilt FFmpeg has no TLS', () => {
        const model = '$(ls demo-cache/demo/demo-detector-*.onnx | head -1)';
        const r = sh(`npx camtrack demo --model "${model}" --source https://cam.invalid/live.mp4 --duration 5 --quiet`);
        expect(r.status, r.out).toBe(1);
        expect(r.stderr).toContain(`stream.url: https:// sources need TLS, which the prebuilt FFmpeg (${LIBS}) does not have`);
        expect(r.stderr).toContain('npx camtrack build-native');
      });

      it('EXPECTED FAILURE - a missing FFmpeg package or library is named, with the package that should provide it', () => {
        const reason = () => {
          const r = sh('npx camtrack doctor --json 2>/dev/null');
          expect(r.status).toBe(1);
          return (JSON.parse(r.stdout) as { native: { reason: string } }).native.reason;
        };
        const libs = `node_modules/${LIBS}`;
        expect(sh(`mv ${libs} ../ffmpeg-aside`).status).toBe(0);
        try {
          expect(reason()).toContain(
            `the prebuilt addon needs libavformat_camtrack.so.59, which ${LIBS} provides, and it was not found: ${LIBS} is not installed`,
          );
        } finally {
          expect(sh(`mv ../ffmpeg-aside ${libs}`).status).toBe(0);
        }
        expect(sh(`mv ${libs}/lib/libswscale_camtrack.so.6 ../swscale-aside`).status).toBe(0);
        try {
          expect(reason()).toContain(
            `needs libswscale_camtrack.so.6, which ${LIBS} provides, and it was not found: ${LIBS} ${manifest.version} at ${project}/${libs} lacks lib/libswscale_camtrack.so.6`,
          );
        } finally {
          expect(sh(`mv ../swscale-aside ${libs}/lib/libswscale_camtrack.so.6`).status).toBe(0);
        }
      });

      it('EXPECTED FAILURE - without the prebuilt addon the loader says so, and build-native names what a source build lacks', () => {
        expect(sh(`mv node_modules/${ADDON} ../addon-aside`).status).toBe(0);
        try {
          const doctor = sh('npx camtrack doctor --json 2>/dev/null');
          expect(doctor.status).toBe(1);
          expect((JSON.parse(doctor.stdout) as { native: { reason: string } }).native.reason).toContain(
            `prebuilt: ${ADDON} is not installed. npm installs it with camtrack as an optional dependency`,
          );
          const build = sh('npx camtrack build-native');
          expect(build.status).toBe(1);
          expect(build.stderr).toContain('Cannot build the native addon: missing pkg-config, cmake, a C++17 compiler');
          expect(build.stderr).toContain('sudo ./scripts/install-system-deps.sh');
        } finally {
          expect(sh(`mv ../addon-aside node_modules/${ADDON}`).status).toBe(0);
        }
      });
    },
  );
});
