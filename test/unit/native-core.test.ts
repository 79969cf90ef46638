/**
 * Runs the native core test executable `camtrack_core_tests` (native/tests/*_test.cpp on GoogleTest, linked with camtrack_core;
 * built into build/ by `npm run build:dev`, not by `npm run build:native`, which builds the addon only) and asserts that it exits 0 and that its closing
 * line reports `N passed, 0 failed` with N > 0. CAMTRACK_ASSETS is passed through so its asset-backed tests run.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { assetsDir, repoRoot } from '../helpers/assets.js';
import { BUILD_COMMAND } from '../helpers/native-build.js';
import { runBounded } from '../helpers/processes.js';

/** Where cmake-js (Ninja or Makefiles, single- or multi-config) puts the executable. */
const CANDIDATES = [
  path.join(repoRoot, 'build', 'camtrack_core_tests'),
  path.join(repoRoot, 'build', 'Release', 'camtrack_core_tests'),
  path.join(repoRoot, 'build', 'Debug', 'camtrack_core_tests'),
];
const SUMMARY = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/;

describe('camtrack_core_tests (native unit tests)', () => {
  it('exits 0 and reports N passed, 0 failed', async () => {
    const exe = CANDIDATES.find((p) => existsSync(p));
    if (exe === undefined) {
      throw new Error(
        `native test executable camtrack_core_tests not found (looked at: ${CANDIDATES.join(', ')}). ` +
          `Build it with \`${BUILD_COMMAND}\` (\`npm run build:native\` builds the addon only).`,
      );
    }
    // The executable itself is not bounded; `timeout` keeps a hang from stalling the suite.
    const r = await runBounded('env', [`CAMTRACK_ASSETS=${assetsDir()}`, exe], 240);
    const output = `${r.stdout}\n${r.stderr}`;
    expect(r.timedOut, `camtrack_core_tests timed out; output tail:\n${output.slice(-4000)}`).toBe(false);
    const lines = r.stdout.trim().split('\n');
    const last = lines[lines.length - 1]!.trim();
    const m = SUMMARY.exec(last);
    expect(m, `last line should be "N passed, N failed[, N skipped]" but was ${JSON.stringify(last)}`).not.toBeNull();
    const failedLines = lines.filter((l) => /^\[  FAILED  \]|: Failure$/.test(l.trim()));
    expect(Number(m![2]), `native failures:\n${failedLines.join('\n')}\n${output.slice(-4000)}`).toBe(0);
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(r.code, `exit status; output tail:\n${output.slice(-4000)}`).toBe(0);
  }, 250_000);
});
