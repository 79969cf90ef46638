/**
 * An inference worker thread that dies while attached (an uncaught error in it, or terminate()) must not freeze
 * the pipeline or let it write into the worker's freed batch buffers. The native pipeline is driven directly, as
 * the `pipeline-null` bench trial does, with test/helpers/crashing-worker.mjs as its workers: they complete batches
 * with a zero output and one of them dies with a batch in flight. The addon's environment-teardown hook retires
 * that worker (Pipeline::RetireWorker → batch::Batcher::RetireWorker): its in-flight batch fails (dropped.inference), its slots are not used again.
 * - with a healthy worker beside it, the file stream still ends and every frame is delivered or counted dropped;
 * - with no worker left, the stream fails with ERR_CAMTRACK_INFERENCE instead of waiting forever.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

import { closeWorkers } from '../../dist/backends/close-workers.js';
import { normaliseConfig, normaliseStream } from '../../dist/config.js';
import { resolveModel } from '../../dist/models/resolve.js';
import { loadNative, type NativeEvent, type NativeStreamStats } from '../../dist/native.js';
import { toNativePipelineConfig, toNativeStream } from '../../dist/pipeline.js';
import { assetPath, describeWithAssets, repoRoot } from '../helpers/assets.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
const WALKING = 'videos/walking.mp4';
const WALKING_FRAMES = 341;
const tmp = lazyTempDir('camtrack-worker-exit-');

interface Run {
  final: string;
  events: NativeEvent[];
  stats: NativeStreamStats;
  /** Uncaught errors the workers died of. */
  crashes: string[];
}

async function runWith(crashAfter: number[]): Promise<Run> {
  const cfg = normaliseConfig({ model: assetPath(FAST_MODEL), batching: { maxBatchSize: 4, maxWaitMs: 20 }, resultCapacity: 64 });
  const model = await resolveModel(cfg.model);
  const native = loadNative();
  const batch = model.fixedBatch ?? cfg.batching.maxBatchSize;
  const events: NativeEvent[] = [];
  let resolveEnd!: (state: string) => void;
  const ended = new Promise<string>((r) => (resolveEnd = r));
  const np = new native.NativePipeline(
    toNativePipelineConfig(model, cfg, batch),
    (_results, evs) => {
      for (const e of evs) {
        events.push(e);
        if (e.kind === 'end') resolveEnd(e.state ?? '');
      }
    },
  );
  const crashes: string[] = [];
  const exited = new Set<Worker>();
  const workers: Worker[] = [];
  try {
    // One at a time, in order: the first attached is worker 0, which the batcher prefers when workers are equally
    // idle, so the crashing worker (first) is sure to get the batches it dies on.
    for (const n of crashAfter) {
      const w = new Worker(new URL('../helpers/crashing-worker.mjs', import.meta.url), {
        workerData: {
          pipelineId: np.id,
          inputElems: batch * 3 * model.inputWidth * model.inputHeight,
          outputElems: batch * model.outputElemsPerImage,
          crashAfter: n,
        },
      });
      workers.push(w);
      w.on('error', (err: Error) => crashes.push(err.message));
      w.on('exit', () => exited.add(w));
      await new Promise<void>((resolve) => w.once('message', () => resolve()));
    }
    const handle = np.addStream(toNativeStream(normaliseStream({ id: 's0', url: assetPath(WALKING) }, 'stream', cfg.tracker)));
    let timer: NodeJS.Timeout | undefined;
    const final = await Promise.race([
      ended,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no 'end' within 60 s: ${JSON.stringify(np.stats().streams)}`)), 60_000);
      }),
    ]).finally(() => clearTimeout(timer));
    const stats = np.streamStats(handle)!;
    return { final, events, stats, crashes };
  } finally {
    np.close();
    np.flush(() => {});
    await closeWorkers(workers, 2000, exited);
  }
}

describeWithAssets('Pipeline: an inference worker thread that dies attached', [FAST_MODEL, WALKING], () => {
  describe('native pipeline with test workers', () => {
    it('with a healthy worker left, the stream ends and every frame is delivered or counted dropped', async () => {
      const r = await runWith([3, 0]);
      expect(r.crashes).toEqual(['crashing-worker: dies at batch 3']);
      expect(r.final).toBe('ended');
      expect(r.stats.framesDelivered + r.stats.dropped.inference).toBe(WALKING_FRAMES);
      expect(r.stats.dropped.inference).toBeGreaterThan(0); // its in-flight batch failed
      expect(r.stats.dropped.inference).toBeLessThanOrEqual(8); // at most its two slots' worth (batch 4)
      const warnings = r.events.filter((e) => e.kind === 'warning' && /exited/.test(e.error?.message ?? ''));
      expect(warnings.length).toBeGreaterThan(0);
      // One warning per failed batch and stream, not one per image (at most its two slots failed).
      expect(warnings.length).toBeLessThanOrEqual(2);
    }, 120_000);

    it('EXPECTED FAILURE - with no worker left, the stream fails with ERR_CAMTRACK_INFERENCE instead of waiting forever', async () => {
      const r = await runWith([2]);
      expect(r.crashes).toEqual(['crashing-worker: dies at batch 2']);
      expect(r.final).toBe('failed');
      const failure = r.events.find((e) => e.kind === 'error');
      expect(failure?.error?.code).toBe('ERR_CAMTRACK_INFERENCE');
      expect(failure?.error?.message).toContain('every inference worker has exited');
      expect(r.stats.framesDelivered).toBeLessThan(WALKING_FRAMES);
    }, 120_000);
  });
});

describeWithAssets('Pipeline: process.exit() while results wait for the JS thread', [FAST_MODEL, WALKING], () => {
  // Node joins the worker threads from the main thread on exit, so each worker's teardown hook runs while the JS
  // thread can no longer take results: retiring a worker must not wait for the postprocess thread (blocked on a
  // full result ring). It used to, 10 s per worker: 20 s here.
  it('exits promptly with two inference workers and a full result ring', async () => {
    const script = path.join(tmp(), 'exit-busy.mjs');
    const dist = pathToFileURL(path.join(repoRoot, 'dist', 'index.js')).href;
    writeFileSync(
      script,
      [
        `import { Pipeline } from ${JSON.stringify(dist)};`,
        `const p = await Pipeline.create({ model: ${JSON.stringify(assetPath(FAST_MODEL))}, inference: { workers: 2 }, resultCapacity: 8 });`,
        `for (let i = 0; i < 4; i++) p.addStream({ id: 's' + i, url: ${JSON.stringify(assetPath(WALKING))}, loop: true });`,
        'await new Promise((r) => setTimeout(r, 1000));',
        'const t = Date.now();',
        'while (Date.now() - t < 1500); // the JS thread is busy: the 8-result ring fills and postprocess waits',
        "process.stdout.write('exiting\\n');",
        'process.exit(0);',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let exitingAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('exiting')) exitingAt = performance.now();
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    const exitMs = performance.now() - exitingAt;
    expect(exitingAt, stderr).toBeGreaterThan(0);
    expect(code, stderr).toBe(0);
    console.log(`[worker exit] process.exit() with a full result ring took ${exitMs.toFixed(0)} ms`);
    expect(exitMs).toBeLessThan(5000);
  }, 90_000);
});
