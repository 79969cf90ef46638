/**
 * The sanitizer lane: runs what `scripts/sanitize.sh all` built (build-tsan/, build-asan/: clang, CUDA off) —
 * camtrack_pipeline_driver (the whole native pipeline: real decode of the shared clips, null inference on its own
 * threads, a consumer thread, accounting checks) under ThreadSanitizer, and the driver plus camtrack_core_tests under
 * AddressSanitizer + UBSan — through `scripts/sanitize.sh <kind> --run-only`, which fails on any sanitizer report.
 *
 * asan-addon: the addon itself (build-asan/camtrack.node) under ASan + UBSan with a subset of the addon tests, the
 * ASan runtime preloaded into Node (scripts/sanitize.sh says why leak detection is off there).
 *
 * The sanitizer builds are not part of `npm run build:dev` (they need clang and take minutes): .ci/run builds them
 * before the tests. A missing executable fails under CI=true and skips with the reason otherwise.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { assetsDir, isCi, repoRoot, requireAssets } from '../helpers/assets.js';
import { waitForBackgroundBuild } from '../helpers/background-builds.js';
import { runBounded } from '../helpers/processes.js';

// Under .ci/run this build runs in the background while the earlier test files run (test/helpers/background-builds.ts).
await waitForBackgroundBuild('sanitizers');

const CLIPS = ['videos/walking.mp4', 'videos/car-detection.mp4', 'videos/mmtracking-demo.mp4'];
const SCRIPT = path.join(repoRoot, 'scripts', 'sanitize.sh');
const KINDS = [
  { kind: 'tsan', what: 'ThreadSanitizer', exes: ['camtrack_pipeline_driver'] },
  { kind: 'asan', what: 'AddressSanitizer + UBSan', exes: ['camtrack_pipeline_driver', 'camtrack_core_tests'] },
] as const;

describe('scripts/sanitize.sh (native pipeline under sanitizers)', () => {
  for (const { kind, what, exes } of KINDS) {
    // tsan and asan run at the same time (concurrent tests, one process each): mostly one thread each, they share the
    // 2 cores of the CI machine, and the asan-addon run below waits for both.
    it.concurrent(`${kind}: ${exes.join(' and ')} run clean under ${what}`, async (ctx) => {
      const { expect } = ctx;
      const missing = exes.map((e) => path.join(repoRoot, `build-${kind}`, e)).filter((p) => !existsSync(p));
      if (missing.length > 0) {
        const why = `not built: ${missing.join(', ')}; build with \`scripts/sanitize.sh ${kind}\` (needs clang)`;
        if (isCi) throw new Error(`${why} (CI=true: required, not skipped)`);
        console.warn(`[camtrack tests] skipping the ${kind} sanitizer run: ${why}`);
        ctx.skip(why);
      }
      requireAssets(ctx, ...CLIPS);
      const r = await runBounded('env', [`CAMTRACK_ASSETS=${assetsDir()}`, SCRIPT, kind, '--run-only'], 580);
      const output = `${r.stdout}\n${r.stderr}`;
      expect(r.timedOut, `sanitize.sh ${kind} timed out; output tail:\n${output.slice(-6000)}`).toBe(false);
      const last = r.stdout.trim().split('\n').pop() ?? '';
      expect(last, `closing line; failures and sanitizer reports:\n${failures(output)}\noutput tail:\n${output.slice(-3000)}`).toMatch(new RegExp(`^sanitize: ${kind} ok \\(`));
      expect(r.stdout).toMatch(/camtrack_pipeline_driver: \d+ passed, 0 failed/);
      expect(r.code, `exit status; output tail:\n${output.slice(-6000)}`).toBe(0);
    }, 600_000);
  }
});

describe('scripts/sanitize.sh asan-addon (the N-API addon under ASan + UBSan, driven from JS)', () => {
  it('a subset of the addon tests passes with build-asan/camtrack.node and the ASan runtime preloaded', async (ctx) => {
    const addon = path.join(repoRoot, 'build-asan', 'camtrack.node');
    if (!existsSync(addon)) {
      const why = `not built: ${addon}; build with \`scripts/sanitize.sh asan-addon\` (needs clang)`;
      if (isCi) throw new Error(`${why} (CI=true: required, not skipped)`);
      console.warn(`[camtrack tests] skipping the asan-addon run: ${why}`);
      ctx.skip(why);
    }
    requireAssets(ctx, 'models/yolo11n_int8_320.onnx', 'videos/walking.mp4');
    const r = await runBounded('env', [`CAMTRACK_ASSETS=${assetsDir()}`, SCRIPT, 'asan-addon', '--run-only'], 580);
    const output = `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    expect(r.timedOut, `sanitize.sh asan-addon timed out; output tail:\n${output.slice(-6000)}`).toBe(false);
    const last = r.stdout.trim().split('\n').pop() ?? '';
    expect(last, `closing line; failures and sanitizer reports:\n${failures(output)}\noutput tail:\n${output.slice(-3000)}`).toMatch(/^sanitize: asan-addon ok \(/);
    expect(output).toMatch(/Tests\s+\d+ passed/);
    expect(output).not.toMatch(/ERROR: AddressSanitizer|runtime error:/);
    expect(r.code).toBe(0);
  }, 600_000);
});

/** The lines that say what failed (driver/unit checks, sanitizer reports), with a little context, for the message. */
function failures(output: string): string {
  const lines = output.split('\n');
  const keep = new Set<number>();
  lines.forEach((l, i) => {
    if (/^FAIL|ERROR: \w+Sanitizer|runtime error|SUMMARY: |WARNING: ThreadSanitizer/.test(l)) for (let j = i; j < Math.min(lines.length, i + 20); j++) keep.add(j);
  });
  return [...keep].slice(0, 200).map((i) => lines[i]).join('\n') || '(none found)';
}
