/**
 * The published package as npm makes it: `npm pack` of this tree (package.json `files`), then a CMake configure of
 * the extracted tarball. What a user gets is what they run: bin/, dist/, the addon's sources (native/core,
 * native/binding), CMakeLists.txt and the two scripts users run (build-native.mjs: the install script;
 * install-system-deps.sh: the fix it prints). No tests, benchmarks, CI or GPU-bundle scripts. In the tarball the
 * native tests and benchmarks are absent and OFF by default, so its build (a user's `npm install`) has no target but
 * camtrack_core (+ the addon under cmake-js), and still configures when they are turned on.
 *
 * Real npm, tar and cmake (needs FFmpeg's development libraries, as the addon build does); --ignore-scripts keeps
 * npm from running `prepare` (tsc): dist/ is the one `npm test` has just built.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { repoRoot } from '../helpers/assets.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const tmp = lazyTempDir('camtrack-package-');

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

    const pkg = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['install'], 'the install script builds the addon only').toBe('node scripts/build-native.mjs');
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
