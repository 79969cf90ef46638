/**
 * The adaptive batching bench as a user runs it (`node bench/batching.mjs`, docs/scheduling.md "Adaptive batching
 * and priorities"), in its quick mode: the report's shape and invariants, not speed. Every configuration ran every
 * step; the adaptive batcher reported mode 'adaptive' and caps within [1, maxBatchSize], the fixed ones 'static'
 * with their own cap; the capacity is the best raw inference rate of the same run; the criteria rows are derived from
 * the ramps' own figures; the priority runs delivered frames, and in the lossless run every pushed frame came back.
 * Real onnxruntime, the demo model written with a symbolic batch, ffmpeg for the JPEGs; no shared assets.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

import { repoRoot } from '../helpers/assets.js';

interface Step {
  streams: number;
  offeredFps: number;
  resultFps: number;
  latencyMs: { n: number; p50: number | null; p99: number | null };
  meanBatchFill: number;
  batching: { mode: string; batchCap: number; waitMs: number };
}
interface Report {
  tool: string;
  commit: string | null;
  machine: { node: string };
  bench: string;
  quick: boolean;
  targetLatencyMs: number;
  rawInference: { batch: number; imagesPerSecond: number }[];
  capacityFps: number;
  ramps: { config: string; batching: { maxBatchSize: number; targetLatencyMs?: number }; steps: Step[] }[];
  criteria: {
    streams: number;
    withinCapacity: boolean;
    adaptiveP99Ms: number | null;
    adaptiveMeetsTarget: boolean;
    bestFixedMeetingTarget: string | null;
    bestFixedResultFps: number | null;
    throughputRatio: number | null;
    offeredFps: number;
    adaptiveResultFps: number;
  }[];
  priorities: {
    live: { highStreams: number; high: { deliveredShare: number }; normal: { deliveredShare: number } };
    liveControl: { highStreams: number };
    lossless: { high: { pushed: number; results: number }; normal: { pushed: number; results: number; latencyMs: { n: number } } };
    liveHighP99BelowNormalP50: boolean;
    losslessHighP99BelowNormalP50: boolean;
  };
}

it('bench/batching.mjs --quick: every config ran every step, the criteria follow from the figures', () => {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bench', 'batching.mjs'), '--quick'], { encoding: 'utf8', timeout: 240_000 });
  expect(r.status, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout) as Report;
  expect(report).toMatchObject({ bench: 'batching', quick: true, targetLatencyMs: 100 });
  // The common stamp of every bench report (src/bench/report.ts).
  expect(report).toMatchObject({ tool: 'bench/batching.mjs', machine: { node: process.version } });
  expect(report.commit).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
  expect(report.rawInference.map((x) => x.batch)).toEqual([1, 2, 4, 8]);
  for (const x of report.rawInference) expect(x.imagesPerSecond).toBeGreaterThan(0);
  expect(report.capacityFps).toBe(Math.max(...report.rawInference.map((x) => x.imagesPerSecond)));

  expect(report.ramps.map((x) => x.config)).toEqual(['adaptive', 'fixed-1', 'fixed-4']);
  const steps = report.ramps[0]!.steps.map((s) => s.streams);
  expect(steps).toEqual([1, 4]);
  for (const ramp of report.ramps) {
    expect(ramp.steps.map((s) => s.streams)).toEqual(steps);
    for (const s of ramp.steps) {
      expect(s.offeredFps).toBeGreaterThan(0);
      expect(s.latencyMs.n).toBeGreaterThan(0); // frames came back at every step
      expect(s.latencyMs.p99!).toBeGreaterThanOrEqual(s.latencyMs.p50!);
      expect(s.meanBatchFill).toBeGreaterThanOrEqual(1);
      expect(s.meanBatchFill).toBeLessThanOrEqual(ramp.batching.maxBatchSize);
      if (ramp.config === 'adaptive') {
        expect(s.batching.mode).toBe('adaptive');
        expect(s.batching.batchCap).toBeGreaterThanOrEqual(1);
        expect(s.batching.batchCap).toBeLessThanOrEqual(8);
        expect(s.batching.waitMs).toBeGreaterThanOrEqual(0);
        expect(s.batching.waitMs).toBeLessThanOrEqual(50);
      } else {
        expect(s.batching).toMatchObject({ mode: 'static', batchCap: ramp.batching.maxBatchSize });
      }
    }
  }
  for (const [i, c] of report.criteria.entries()) {
    const a = report.ramps[0]!.steps[i]!;
    expect(c).toMatchObject({ streams: a.streams, offeredFps: a.offeredFps, adaptiveP99Ms: a.latencyMs.p99, adaptiveResultFps: a.resultFps });
    expect(c.withinCapacity).toBe(a.offeredFps <= report.capacityFps);
    expect(c.adaptiveMeetsTarget).toBe(a.latencyMs.p99! <= report.targetLatencyMs);
    const meeting = report.ramps.slice(1).filter((x) => x.steps[i]!.latencyMs.p99! <= report.targetLatencyMs);
    if (meeting.length === 0) {
      expect(c.bestFixedMeetingTarget).toBeNull();
    } else {
      const best = Math.max(...meeting.map((x) => x.steps[i]!.resultFps));
      expect(c.bestFixedResultFps).toBe(best);
      if (best > 0) expect(c.throughputRatio).toBeCloseTo(a.resultFps / best, 2);
    }
  }
  const p = report.priorities;
  expect(p.live.highStreams).toBe(4);
  expect(p.liveControl.highStreams).toBe(0);
  expect(p.live.high.deliveredShare).toBeGreaterThan(0);
  expect(p.live.normal.deliveredShare).toBeGreaterThan(0);
  expect(p.lossless.high.results).toBe(p.lossless.high.pushed);
  expect(p.lossless.normal.results).toBe(p.lossless.normal.pushed);
  expect(p.lossless.normal.latencyMs.n).toBeGreaterThan(0);
  expect(typeof p.liveHighP99BelowNormalP50).toBe('boolean');
  expect(typeof p.losslessHighP99BelowNormalP50).toBe('boolean');
}, 300_000);
