/**
 * Trial `pipeline-null`: the native pipeline with a null inference worker (see null-worker.ts) — the ceiling
 * the pipeline could reach if inference were free, i.e. what decode + letterbox + postprocess + tracking + delivery
 * cost on their own. It builds the native pipeline the way Pipeline.create does (same model config, same stream
 * config), because the public Pipeline always starts onnxruntime. Diagnostic only: not part of the ratios.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';

import { closeWorkers } from '../backends/close-workers.js';
import { normaliseConfig, normaliseStream } from '../config.js';
import { resolveModel } from '../models/resolve.js';
import { loadNative, type NativeFrameResult } from '../native.js';
import { toNativePipelineConfig, toNativeStream } from '../pipeline.js';
import { pipelineConfigFor } from './pipeline-trial.js';
import { trialRun } from './stats.js';
import type { TrialRun, TrialSpec } from './types.js';
import { ResultWindow } from './window.js';

export async function runNullTrial(spec: TrialSpec): Promise<TrialRun> {
  const cfg = normaliseConfig(pipelineConfigFor(spec));
  const model = await resolveModel(cfg.model);
  const native = loadNative();
  const batch = model.fixedBatch ?? cfg.batching.maxBatchSize;
  const win = new ResultWindow(spec.warmup, spec.frames);
  const onEvents = (results: NativeFrameResult[]): void => {
    for (const r of results) win.add(r.latencyMs);
  };
  const np = new native.NativePipeline(toNativePipelineConfig(model, cfg, batch), onEvents);
  const workers = Array.from(
    { length: spec.workers },
    () =>
      new Worker(new URL('./null-worker.js', import.meta.url), {
        workerData: {
          pipelineId: np.id,
          inputElems: batch * 3 * model.inputWidth * model.inputHeight,
          outputElems: batch * model.outputElemsPerImage,
          slots: 2,
        },
      }),
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    })));
    // One stream: the ceiling of the 1-stream `pipeline` trial. Not live whatever the source: blocks, never drops.
    const s = normaliseStream(
      {
        id: 's0',
        url: spec.source,
        loop: true,
        live: false,
        ...(spec.decoderThreads !== undefined ? { decoderThreads: spec.decoderThreads } : {}),
      },
      'stream',
      cfg.tracker,
    );
    np.addStream(toNativeStream(s));
    await Promise.race([
      win.done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`pipeline-null: ${win.delivered}/${win.target} results after ${spec.timeoutMs} ms`)), spec.timeoutMs);
      }),
    ]);
    return trialRun({
      trial: spec.trial,
      frames: spec.frames,
      wallMs: win.clock.wallMs,
      latenciesMs: win.latenciesMs,
      cpuPercent: win.clock.cpuPercent,
      batchSize: batch,
      intraOpThreads: 0,
      workers: spec.workers,
      details: { streams: 1, inference: 'null (completes at once, zero output)', cores: os.availableParallelism() },
    });
  } finally {
    clearTimeout(timer);
    np.close();
    np.flush(() => {});
    await closeWorkers(workers, 5000);
  }
}
