/**
 * The short soak: `npm run soak -- --minutes 3 --json <file>` (scripts/soak.mjs) — one Pipeline with 8 RTSP cameras
 * from the GStreamer test server (one killed and restarted every 60 s), 2 file streams, a pushed JPEG stream, a
 * stream added and removed every second and a sometimes-slow consumer, sampled every 10 s — must pass its thresholds
 * (fds/threads flat and RSS bounded after warm-up, last-window latency p99 within 1.5× of the first window's, every
 * frame accounted for). The report is checked here too, so a soak that did not really run the load fails.
 * CAMTRACK_SOAK_MINUTES overrides the length (docs/reliability.md has a 60-minute run).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { assetsDir, describeWithAssets, isCi, repoRoot } from '../helpers/assets.js';
import { runBounded } from '../helpers/processes.js';
import { rtspServerUnavailableReason } from '../helpers/rtsp-server.js';

const MINUTES = Number(process.env.CAMTRACK_SOAK_MINUTES ?? 3);
const NEEDS = ['models/yolo11n_int8_320.onnx', 'videos/walking.mp4', 'videos/car-detection.mp4', 'images/bus.jpg'];

const unavailable = rtspServerUnavailableReason();
if (unavailable !== undefined && !isCi) console.warn(`[camtrack tests] skipping the soak: ${unavailable}`);
const describeRtsp = unavailable !== undefined && !isCi ? describe.skip : describe;

interface Check {
  ok: boolean;
  [k: string]: unknown;
}
interface SoakReport {
  ok: boolean;
  runSeconds: number;
  slopes: Record<string, number>;
  totals: {
    framesIn: number;
    resultsOut: number;
    resultsRead: number;
    dropped: { busy: number; fpsLimit: number; inference: number; decoderPool: number; consumer: number };
    churnCycles: number;
    flakyRestarts: number;
    cam7Reconnects: number;
    pushed: number;
    streamsSeen: number;
  };
  checks: Record<string, Check>;
  samples: { t: number; fds: number; threads: number; rssMb: number }[];
}

describeWithAssets('npm run soak (scripts/soak.mjs)', NEEDS, () => {
  describeRtsp('a short soak under the mixed load', () => {
    let dir: string;
    beforeAll(async () => {
      if (unavailable !== undefined) throw new Error(unavailable); // only reached with CI=true
      dir = await mkdtemp(path.join(tmpdir(), 'camtrack-soak-'));
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it(`holds its thresholds for ${MINUTES} minutes`, async () => {
      const json = path.join(dir, 'soak.json');
      const r = await runBounded('env', [`CAMTRACK_ASSETS=${assetsDir()}`, process.execPath, path.join(repoRoot, 'scripts', 'soak.mjs'), '--minutes', String(MINUTES), '--json', json], MINUTES * 60 + 120);
      const output = `${r.stdout}\n${r.stderr}`;
      console.log(output.split('\n').filter((l) => l.startsWith('soak:')).join('\n'));
      expect(r.timedOut, `soak timed out; output tail:\n${output.slice(-4000)}`).toBe(false);
      const report = JSON.parse(await readFile(json, 'utf8')) as SoakReport;
      for (const [name, check] of Object.entries(report.checks)) expect(check.ok, `${name}: ${JSON.stringify(check)}`).toBe(true);
      // The load really ran: churn about once a second, the flaky camera restarted and reconnected, frames in and out.
      expect(report.totals.churnCycles).toBeGreaterThan(MINUTES * 60 * 0.5);
      expect(report.totals.flakyRestarts).toBeGreaterThanOrEqual(Math.floor(MINUTES) - 1);
      if (MINUTES >= 2) expect(report.totals.cam7Reconnects).toBeGreaterThanOrEqual(1);
      expect(report.totals.resultsOut).toBeGreaterThan(0);
      expect(report.totals.resultsRead).toBeLessThanOrEqual(report.totals.resultsOut);
      expect(report.totals.pushed).toBeGreaterThan(0);
      // The slow consumer overflowed its queue (12 s stalls, a 4-result queue at 1 fps): drops counted as `consumer`.
      expect(report.totals.dropped.consumer).toBeGreaterThan(0);
      expect(report.samples.length).toBeGreaterThanOrEqual(Math.floor((MINUTES * 60) / 10));
      expect(report.ok).toBe(true);
      expect(r.code, `exit status; output tail:\n${output.slice(-4000)}`).toBe(0);
    }, (MINUTES * 60 + 180) * 1000);
  });
});
