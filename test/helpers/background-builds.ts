/**
 * Builds that CI runs in the background while the test suite runs (.ci/run): the sanitizer builds, the fuzz builds
 * and the prebuilt packages with their Debian root. They are CPU work that the mostly real-time test suite leaves
 * room for, started under `nice -n 19` so that the tests keep the cores when they want them; the three test files
 * that need their outputs (test/unit/sanitizers.test.ts, test/unit/fuzz.test.ts, test/e2e/package.test.ts) run last
 * (vitest.config.ts's sequencer) and first wait here for their build to finish.
 *
 * Protocol (written by .ci/run): $CAMTRACK_BACKGROUND_BUILDS is a folder; `<name>.pending` exists from the start of
 * a build until `<name>.status` (its exit status) is written; `<name>.log` is its output, `<name>.seconds` its duration. Without the variable, or
 * without a `.pending`/`.status` file for the name, there is nothing to wait for (a developer's `npm test`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export type BackgroundBuild = 'sanitizers' | 'fuzz' | 'prebuilt';

const POLL_MS = 2000;

/**
 * Waits (at most `timeoutMs`) until the background build `name` has finished. Prints one line when it has to wait
 * and the tail of the build's log when it failed; the test's own checks then report what is missing.
 */
export async function waitForBackgroundBuild(name: BackgroundBuild, timeoutMs = 40 * 60_000): Promise<void> {
  const dir = process.env.CAMTRACK_BACKGROUND_BUILDS;
  if (!dir) return;
  const pending = path.join(dir, `${name}.pending`);
  const status = path.join(dir, `${name}.status`);
  const log = path.join(dir, `${name}.log`);
  if (!existsSync(status) && !existsSync(pending)) return;
  const t0 = Date.now();
  if (!existsSync(status)) console.warn(`[camtrack tests] waiting for the background build "${name}" (log: ${log})`);
  while (!existsSync(status)) {
    if (Date.now() - t0 > timeoutMs) {
      console.warn(`[camtrack tests] the background build "${name}" has not finished after ${timeoutMs / 60_000} min (log: ${log})`);
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const code = readFileSync(status, 'utf8').trim();
  const waited = ((Date.now() - t0) / 1000).toFixed(0);
  if (code !== '0') {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-40).join('\n') : '(no log)';
    console.warn(`[camtrack tests] the background build "${name}" failed (exit ${code}); the end of ${log}:\n${tail}`);
  } else {
    const secondsFile = path.join(dir, `${name}.seconds`);
    const took = existsSync(secondsFile) ? `, it took ${readFileSync(secondsFile, 'utf8').trim()} s` : '';
    console.warn(`[camtrack tests] the background build "${name}" is done (this file waited ${waited} s${took})`);
  }
}
