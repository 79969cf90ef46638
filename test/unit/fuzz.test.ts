/**
 * The fuzz lane: runs what `scripts/fuzz.sh all --build-only` built (build-fuzz/: clang, libFuzzer + ASan + UBSan) —
 * one libFuzzer target per parser of untrusted bytes (model outputs, Annex-B splitting, pushed JPEG and PNG decode;
 * native/fuzz/) — through `scripts/fuzz.sh <target> --run-only --seconds N`. The script first replays the committed
 * inputs that once crashed (native/fuzz/regressions/<target>/), makes its seeds from the shared assets, then fuzzes
 * N seconds; any crash, sanitizer report, violated property, hang (10 s per input) or 2 GB RSS fails it and names the
 * reproducer. N is fixed and short (CAMTRACK_FUZZ_SECONDS overrides it for a longer local run). The four targets fuzz
 * at the same time (concurrent tests), sharing the 2 cores of the CI machine: the lane's wall time is one target's
 * N seconds plus its seed making, not four times that (.ci/run's header has the measured minutes).
 *
 * The fuzz build is not part of `npm run build:dev` (it needs clang): .ci/run builds it before the tests. A missing
 * executable fails under CI=true and skips with the reason otherwise.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';

import { assetsDir, isCi, repoRoot, requireAssets } from '../helpers/assets.js';
import { waitForBackgroundBuild } from '../helpers/background-builds.js';
import { runBounded } from '../helpers/processes.js';

// Under .ci/run this build runs in the background while the earlier test files run (test/helpers/background-builds.ts).
await waitForBackgroundBuild('fuzz');

const SCRIPT = path.join(repoRoot, 'scripts', 'fuzz.sh');
const SECONDS = Number(process.env.CAMTRACK_FUZZ_SECONDS ?? 15);
/** Each target with the shared assets its seeds are made from. */
const TARGETS = [
  { target: 'output_parser', what: 'model output parsers (Ultralytics, YOLOX, end-to-end)', needs: [] },
  { target: 'annexb', what: 'Annex-B NAL / access-unit splitter', needs: ['videos/walking.mp4', 'videos/car-detection.mp4', 'videos/mmtracking-demo.mp4'] },
  { target: 'jpeg', what: 'pushed JPEG decode (header, pixel limit, EXIF, DCT scale)', needs: ['images/zidane.jpg', 'images/bus.jpg'] },
  { target: 'png', what: 'pushed PNG decode (IHDR, pixel limit, chunk walk)', needs: ['images/dog.jpg'] },
] as const;

describe('scripts/fuzz.sh (libFuzzer targets for the parsers of untrusted bytes)', () => {
  for (const { target, what, needs } of TARGETS) {
    it.concurrent(`${target}: ${what} survives ${SECONDS} s of fuzzing and its regression inputs`, async (ctx) => {
      const { expect } = ctx;
      const exe = path.join(repoRoot, 'build-fuzz', `camtrack_fuzz_${target}`);
      if (!existsSync(exe)) {
        const why = `not built: ${exe}; build with \`scripts/fuzz.sh ${target} --build-only\` (needs clang)`;
        if (isCi) throw new Error(`${why} (CI=true: required, not skipped)`);
        console.warn(`[camtrack tests] skipping the ${target} fuzz run: ${why}`);
        ctx.skip(why);
      }
      requireAssets(ctx, ...needs);
      const r = await runBounded('env', [`CAMTRACK_ASSETS=${assetsDir()}`, SCRIPT, target, '--run-only', '--seconds', String(SECONDS)], SECONDS + 240);
      const output = `${r.stdout}\n${r.stderr}`;
      expect(r.timedOut, `fuzz.sh ${target} timed out; output tail:\n${output.slice(-6000)}`).toBe(false);
      const lines = r.stdout.trim().split('\n');
      expect(lines.at(-1), `closing line; output tail:\n${output.slice(-6000)}`).toMatch(/^fuzz: all ok \(\d+ s\)$/);
      // The target really ran: libFuzzer's executed-units count, and the corpus it grew from the seeds.
      const line = lines.find((l) => l.startsWith(`fuzz: ${target} `)) ?? '';
      const m = /^fuzz: \S+ ok: (\d+) runs in \d+ s, corpus (\d+) inputs$/.exec(line);
      expect(m, `per-target line: ${line}`).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(0);
      expect(Number(m![2])).toBeGreaterThan(0);
      expect(r.code, `exit status; output tail:\n${output.slice(-6000)}`).toBe(0);
    }, (SECONDS + 300) * 1000);
  }
});
