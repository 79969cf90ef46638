#!/usr/bin/env node
// `npm test`: runs vitest once with the default reporter (for people) and the JSON reporter (for this script),
// then prints the closing line CI reads, exactly `N passed, N failed` (plus `, N skipped` when some were
// skipped), and exits with vitest's own status.
//
// Extra arguments go to vitest unchanged, e.g. `npm test -- test/unit` or `npm test -- -t 'TUD-Campus'`.
// Before running it says (without stopping) when the native addon or the compiled TypeScript is missing,
// because the addon/e2e tiers need them while the unit tier does not.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const resultsDir = path.join(root, 'test-results');
const jsonFile = path.join(resultsDir, 'vitest.json');

// Compile the TypeScript first so the addon/e2e tiers (which import the built package, dist/) never test stale
// output. Fast (a few seconds) and a no-op for an unchanged tree apart from the time it takes.
try {
  const tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) console.warn('[camtrack] TypeScript build failed (see above); running the tests anyway.');
} catch {
  // typescript is a devDependency; without it dist/ is whatever was built before.
}

const missing = [];
if (!existsSync(path.join(root, 'build', 'Release', 'camtrack.node'))) missing.push('the native addon (build/Release/camtrack.node)');
if (!existsSync(path.join(root, 'dist', 'index.js'))) missing.push('the compiled TypeScript (dist/index.js)');
// `npm install` builds the addon only; the native tests and benchmarks are opt-in targets (CMakeLists.txt).
const cmakeCache = path.join(root, 'build', 'CMakeCache.txt');
if (existsSync(cmakeCache) && /^CAMTRACK_BUILD_TESTS:BOOL=OFF$/m.test(readFileSync(cmakeCache, 'utf8'))) {
  missing.push('the native test executables (build/ was configured without them)');
} else if (existsSync(cmakeCache) && /^GTest_DIR:PATH=.*NOTFOUND$/m.test(readFileSync(cmakeCache, 'utf8'))) {
  missing.push('the native unit test executables (GoogleTest was not found: apt-get install libgtest-dev, then npm run build:dev)');
}
if (missing.length > 0) {
  console.warn(
    `[camtrack] Not built: ${missing.join(' and ')}. Tests that need them will fail.\n` +
      '  Fix: npm run build:dev   (the addon, the native test and benchmark executables, dist/)\n' +
      '  Running the tests anyway.',
  );
}

// The prebuilt packages are a separate, slower build (minutes, cached): test/e2e/package.test.ts installs them into a
// clean Debian root, and skips that (fails under CI=true) when they are missing. .ci/run builds them first.
if (!existsSync(path.join(root, 'dist-packages', 'manifest.json'))) {
  console.warn(
    '[camtrack] Not built: the prebuilt packages (dist-packages/). Their clean-install test will skip (fail under CI=true).\n' +
      '  Fix: npm run prebuild && sudo scripts/prebuilt/test-root.sh   (as .ci/run does; cached after the first run)',
  );
}

mkdirSync(resultsDir, { recursive: true });
rmSync(jsonFile, { force: true });

let vitestBin;
try {
  vitestBin = path.join(path.dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
} catch {
  console.error('[camtrack] vitest is not installed. Fix: npm ci');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const args = [
  vitestBin,
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${jsonFile}`,
  ...process.argv.slice(2),
];
const child = spawn(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
});
// Let Ctrl-C reach vitest (same process group) and only report afterwards.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));

child.on('error', (e) => {
  console.error(`[camtrack] could not start vitest: ${e.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
});

/**
 * Minutes per lane (.ci/run's header keeps the budget by lane) and the slowest files, from vitest's JSON report:
 * each file's own start → end (a file that waited for a background build counts its wait).
 */
function printLaneTimes(files) {
  const lanes = [
    ['sanitizers', /test\/unit\/sanitizers\.test\.ts$/],
    ['fuzz', /test\/unit\/fuzz\.test\.ts$/],
    ['soak', /test\/e2e\/soak\.test\.ts$/],
    ['prebuilt', /test\/e2e\/package\.test\.ts$/],
    ['unit', /test\/unit\//],
    ['addon', /test\/addon\//],
    ['e2e', /test\/e2e\//],
    ['gpu', /test\/gpu\//],
  ];
  const minutes = new Map();
  const perFile = [];
  for (const f of files) {
    const ms = (f.endTime ?? 0) - (f.startTime ?? 0);
    if (!(ms > 0)) continue;
    const name = path.relative(root, f.name ?? '').split(path.sep).join('/');
    perFile.push([name, ms]);
    const lane = lanes.find(([, re]) => re.test(name))?.[0] ?? 'other';
    minutes.set(lane, (minutes.get(lane) ?? 0) + ms / 60_000);
  }
  if (perFile.length === 0) return;
  const total = [...minutes.values()].reduce((a, b) => a + b, 0);
  const byLane = [...minutes].map(([lane, m]) => `${lane} ${m.toFixed(1)}`).join(', ');
  const slowest = perFile
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([n, ms]) => `${n} ${(ms / 1000).toFixed(0)} s`)
    .join(', ');
  console.log(`[camtrack] test minutes by lane: ${byLane} (files ${total.toFixed(1)} in all); slowest: ${slowest}`);
}

child.on('exit', (code, signal) => {
  let status = code ?? 1;
  let summary;
  try {
    const r = JSON.parse(readFileSync(jsonFile, 'utf8'));
    const passed = r.numPassedTests ?? 0;
    let failed = r.numFailedTests ?? 0;
    const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    // A file that fails to load (syntax error, throwing import) has no tests; count it as a failure so the
    // closing line never says "0 failed" for a red run.
    const brokenSuites = (r.testResults ?? []).filter(
      (s) => s.status === 'failed' && (s.assertionResults ?? []).every((a) => a.status !== 'failed'),
    ).length;
    failed += brokenSuites;
    // vitest can fail a run in which every test passed (unhandled errors, a failing global hook): count that too.
    if (status !== 0 && failed === 0) {
      console.error(`[camtrack] vitest exited with ${status}${signal ? ` (${signal})` : ''} although no test failed (see its output above)`);
      failed = 1;
    }
    if (failed > 0 && status === 0) status = 1;
    summary = `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
    printLaneTimes(r.testResults ?? []);
  } catch (e) {
    console.error(`[camtrack] could not read ${path.relative(root, jsonFile)}: ${e.message}` + (signal ? ` (vitest ended by ${signal})` : ''));
    summary = '0 passed, 1 failed';
    if (status === 0) status = 1;
  }
  console.log(summary);
  process.exit(status);
});
