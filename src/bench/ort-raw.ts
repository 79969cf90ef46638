/**
 * Trials `ort-raw` and `ort-raw-main`: the baseline the pipeline is measured against — raw onnxruntime-node
 * inference of the same model, same batch size and same session options as the pipeline's inference worker
 * (intraOpNumThreads = intraOpThreads ?? floor(cores / workers), interOpNumThreads 1, sequential,
 * graphOptimizationLevel 'all'), on a pre-filled input tensor, with no decode, letterbox or postprocess.
 *   - `ort-raw`: in worker_threads Workers (one session each, `workers` of them concurrently), as the pipeline
 *     runs it — the number the acceptance ratio uses;
 *     with `rawInflight` (default 2 = the pipeline's slots per worker) runs in flight per session, as the
 *     pipeline's worker keeps them;
 *   - `ort-raw-seq`: the same with one run at a time (await each run: the naive loop);
 *   - `ort-raw-main`: one session on the main thread (what a naive user script would measure).
 * Warm-up runs are excluded; fps counts images (batch × runs) over the wall time of the timed runs.
 */
import { Worker } from 'node:worker_threads';

import { defaultIntraOpThreads, ortSessionOptions } from '../backends/onnxruntime.js';
import { normaliseConfig } from '../config.js';
import { resolveModel } from '../models/resolve.js';
import { makeInput } from './input.js';
import { pipelineConfigFor } from './pipeline-trial.js';
import { trialRun } from './stats.js';
import type { TrialRun, TrialSpec } from './types.js';
import { TrialClock } from './window.js';

/** What one inference loop needs (crosses into the worker as workerData). */
export interface OrtLoopOptions {
  modelPath: string;
  inputName: string;
  dims: [number, number, number, number];
  input: Float32Array;
  intraOpThreads: number;
  executionProviders: string[];
  warmup: number;
  iterations: number;
  /** session.run() calls kept in flight at once on the session (the pipeline keeps up to slotsPerWorker = 2). */
  inflight: number;
}

/**
 * Creates the session, runs `warmup` untimed inferences, calls `hooks.warm()` (the barrier), then runs
 * `iterations` timed ones, hands their latencies in ms to `hooks.timed()` (the end of the timed window: before the
 * session is released, as the pipeline trials stop their clock at the last result, before closing) and returns
 * them. Releases the session before returning.
 */
export async function runOrtLoop(
  o: OrtLoopOptions,
  hooks: { warm: () => Promise<void>; timed: (latenciesMs: number[]) => void },
): Promise<number[]> {
  const ort = (await import('onnxruntime-node')).default;
  // The pipeline's inference worker creates its sessions with the same ortSessionOptions.
  const session = await ort.InferenceSession.create(
    o.modelPath,
    ortSessionOptions(o.intraOpThreads, o.executionProviders),
  );
  try {
    const feeds = { [o.inputName]: new ort.Tensor('float32', o.input, o.dims) };
    for (let i = 0; i < o.warmup; i++) await session.run(feeds);
    await hooks.warm();
    const lat: number[] = [];
    // `inflight` loops share one counter: like the pipeline's worker, which calls run() for each submitted slot
    // without waiting for the previous one (onnxruntime-node 1.30 runs it on the libuv pool, so they overlap).
    let started = 0;
    const loop = async (): Promise<void> => {
      while (started < o.iterations) {
        started++;
        const t0 = performance.now();
        await session.run(feeds);
        lat.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, o.inflight) }, loop));
    hooks.timed(lat);
    return lat;
  } finally {
    await session.release();
  }
}

export async function runOrtRawTrial(spec: TrialSpec): Promise<TrialRun> {
  // The pipeline trials' config, so model, batch size, workers and session options come out as theirs do.
  const cfg = normaliseConfig(pipelineConfigFor(spec));
  const model = await resolveModel(cfg.model);
  // Same rules as Pipeline.create / OnnxRuntimeBackend.create.
  const batch = model.fixedBatch ?? cfg.batching.maxBatchSize;
  const intra = cfg.inference.intraOpThreads ?? defaultIntraOpThreads(cfg.inference.workers);
  const onMain = spec.trial === 'ort-raw-main';
  const inflight = spec.trial === 'ort-raw-seq' ? 1 : spec.rawInflight;
  const sessions = onMain ? 1 : cfg.inference.workers;
  const input = makeInput(model, spec.source, batch);
  const iterations = Math.max(1, Math.ceil(spec.frames / batch / sessions));
  const base: Omit<OrtLoopOptions, 'input'> = {
    modelPath: model.path,
    inputName: model.inputName,
    dims: [batch, 3, model.inputHeight, model.inputWidth],
    intraOpThreads: intra,
    executionProviders: cfg.inference.executionProviders,
    warmup: Math.max(1, Math.ceil(spec.warmup / batch)),
    iterations,
    inflight,
  };

  // The window ends with the last timed run: session release and worker teardown are not part of it.
  const clock = new TrialClock();
  let latencies: number[];
  if (onMain) {
    latencies = await runOrtLoop(
      { ...base, input: input.data },
      { warm: async () => clock.start(), timed: () => clock.stop() },
    );
  } else {
    const workers = Array.from(
      { length: sessions },
      (_, i) => new Worker(new URL('./ort-raw-worker.js', import.meta.url), { workerData: { ...base, input: input.data }, name: `bench-ort-${i}` }),
    );
    try {
      const warm: Promise<void>[] = [];
      const done: Promise<number[]>[] = [];
      for (const w of workers) {
        let onWarm!: () => void;
        warm.push(new Promise<void>((r) => (onWarm = r)));
        done.push(
          new Promise<number[]>((resolve, reject) => {
            w.on('message', (m: { type: string; latenciesMs?: number[]; message?: string }) => {
              if (m.type === 'warm') onWarm();
              else if (m.type === 'done') resolve(m.latenciesMs!);
              else if (m.type === 'error') reject(new Error(`ort-raw worker: ${m.message}`));
            });
            w.once('error', reject);
          }),
        );
      }
      // Barrier: every session loaded and warm before the clock starts, so all run concurrently in the window.
      await Promise.race([Promise.all(warm), Promise.all(done)]);
      clock.start();
      for (const w of workers) w.postMessage({ type: 'go' });
      latencies = (await Promise.all(done)).flat();
      clock.stop();
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }
  const images = iterations * sessions * batch;
  return trialRun({
    trial: spec.trial,
    frames: images,
    wallMs: clock.wallMs,
    latenciesMs: latencies,
    cpuPercent: clock.cpuPercent,
    batchSize: batch,
    intraOpThreads: intra,
    workers: sessions,
    details: {
      thread: onMain ? 'main' : 'worker_threads',
      inflightPerSession: inflight,
      input: input.kind,
      ...(input.reason ? { inputFallbackReason: input.reason } : {}),
      warmupRuns: base.warmup,
      runsPerSession: iterations,
    },
  });
}
