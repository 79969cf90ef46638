/**
 * A model that onnxruntime loads but fails to run (test/helpers/failing-model.ts) must be visible and bounded, not
 * log spam. Each run is a child process (test/helpers/run-stream.mjs) so its stderr can be read. On a file stream:
 * - ONE 'warning' (ERR_CAMTRACK_INFERENCE, the first error) for the whole outage, not one per failed batch;
 * - every frame counted in dropped.inference, stats().inference 'failing' with its counts (stream and pipeline),
 *   the error in stats().lastError (code ERR_CAMTRACK_INFERENCE, reason 'inference'); the stream ends 'ended';
 * - when inference works again, ONE more warning with the outage's counts, and stats().inference is 'ok' again;
 * - onnxruntime's own log follows CAMTRACK_ORT_LOG (quiet by default): no per-run lines on stderr unless asked.
 * Reproduced at 3b7e67b: 341 warnings for 341 frames, no inference stats, no lastError, 684 onnxruntime stderr lines.
 * Live streams: test/e2e/inference-failure-rtsp.test.ts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import type { PipelineStats, StreamStats } from '../../dist/index.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { writeFailingModel } from '../helpers/failing-model.js';
import { runBounded } from '../helpers/processes.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const WALKING = 'videos/walking.mp4';
const WALKING_FRAMES = 341;
const RUN_STREAM = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'run-stream.mjs');
/** onnxruntime's log lines look like `2026-… [E:onnxruntime:, sequential_executor.cc:671 ExecuteKernel] …`. */
const ORT_LINE = /\[[VIWEF]:onnxruntime/;
const BREAKER_OFF = { consecutiveFailures: 0, windowBatches: 0 };
const tmp = lazyTempDir('camtrack-inference-failure-');

interface Run {
  final: string | null;
  results: number;
  warnings: { code: string; message: string }[];
  stream: StreamStats;
  pipeline: PipelineStats;
  stderr: string;
}

/**
 * Runs walking.mp4 through a failing model (`pipeline` adds to its config) in a child process with CAMTRACK_ORT_LOG
 * set to `ortLog` (or unset).
 */
async function runFailing(ortLog: string | undefined, fails: 'always' | 'batches-of-2' = 'always', pipeline = {}): Promise<Run> {
  // The circuit breaker is off here: these tests are about counting failed batches (test/addon/breaker.test.ts has it on).
  const config = { pipeline: { model: writeFailingModel(tmp(), fails), inference: { breaker: BREAKER_OFF }, ...pipeline }, stream: { id: 'clip', url: assetPath(WALKING) } };
  const env = ortLog === undefined ? ['-u', 'CAMTRACK_ORT_LOG'] : [`CAMTRACK_ORT_LOG=${ortLog}`];
  const r = await runBounded('env', [...env, process.execPath, RUN_STREAM, JSON.stringify(config)], 50);
  expect(r.code, r.stderr).toBe(0);
  return { ...(JSON.parse(r.stdout) as Omit<Run, 'stderr'>), stderr: r.stderr };
}

describeWithAssets('Pipeline: a model that loads but fails every inference', [WALKING], () => {
  describe('on a file stream', () => {
    it('EXPECTED FAILURE - one warning, every frame in dropped.inference, inference health and lastError in stats, ends', async () => {
      const run = await runFailing(undefined);
      expect(run.final).toBe('ended');
      expect(run.results).toBe(0);
      expect(run.warnings).toHaveLength(1);
      expect(run.warnings[0]!.code).toBe('ERR_CAMTRACK_INFERENCE');
      expect(run.warnings[0]!.message).toMatch(/^inference is failing.*cannot be reshaped/s);

      const s = run.stream;
      expect(s.state).toBe('ended');
      expect(s.framesSubmitted).toBe(WALKING_FRAMES);
      expect(s.framesDelivered).toBe(0);
      expect(s.dropped.inference).toBe(WALKING_FRAMES);
      expect(s.inference.state).toBe('failing');
      // Batches of 1 (the model's fixed batch): one failed batch per frame, none since a success.
      expect(s.inference.failedBatches).toBe(WALKING_FRAMES);
      expect(s.inference.consecutiveFailures).toBe(WALKING_FRAMES);
      expect(s.inference.lastError).toMatch(/cannot be reshaped/);
      expect(s.lastErrorCode).toBe('ERR_CAMTRACK_INFERENCE');
      expect(s.lastErrorReason).toBe('inference');
      expect(s.lastError).toBe(run.warnings[0]!.message);

      expect(run.pipeline.failedBatches).toBe(WALKING_FRAMES);
      expect(run.pipeline.inference).toMatchObject({ state: 'failing', failedBatches: WALKING_FRAMES, consecutiveFailures: WALKING_FRAMES });
      expect(run.pipeline.inference.lastError).toMatch(/cannot be reshaped/);

      // Default CAMTRACK_ORT_LOG (quiet): onnxruntime writes nothing, neither per run nor at load.
      expect(run.stderr.split('\n').filter((l) => ORT_LINE.test(l))).toEqual([]);
    });

    it('one warning when failures start and one with the counts when they stop; stats say ok again', async () => {
      // Files block, so with a long max wait every batch is full (2 frames: fails) but the last: 341 = 2·170 + 1.
      const run = await runFailing(undefined, 'batches-of-2', { batching: { maxBatchSize: 2, maxWaitMs: 3000 } });
      expect(run.final).toBe('ended');
      expect(run.results).toBe(1);
      expect(run.warnings.map((w) => w.code)).toEqual(['ERR_CAMTRACK_INFERENCE', 'ERR_CAMTRACK_INFERENCE']);
      expect(run.warnings[0]!.message).toMatch(/^inference is failing.*cannot be reshaped/s);
      expect(run.warnings[1]!.message).toMatch(/^inference recovered after 170 failed batches \(340 frames dropped\) in [\d.]+ s; it had started with: .*cannot be reshaped/s);
      expect(run.stream.dropped.inference).toBe(WALKING_FRAMES - 1);
      expect(run.stream.inference).toMatchObject({ state: 'ok', failedBatches: 170, consecutiveFailures: 0 });
      expect(run.stream.inference.lastError).toMatch(/cannot be reshaped/);
      expect(run.pipeline.inference).toMatchObject({ state: 'ok', failedBatches: 170, consecutiveFailures: 0 });
    });

    it("CAMTRACK_ORT_LOG=error lets onnxruntime's own error lines through (the level reaches onnxruntime)", async () => {
      const run = await runFailing('error');
      expect(run.warnings).toHaveLength(1);
      const lines = run.stderr.split('\n').filter((l) => ORT_LINE.test(l));
      expect(lines.length).toBeGreaterThanOrEqual(WALKING_FRAMES);
      expect(lines.every((l) => l.includes('[E:onnxruntime'))).toBe(true);
    });
  });
});
