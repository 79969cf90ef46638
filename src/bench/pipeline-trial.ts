/**
 * Trials `pipeline` (1 stream) and `pipeline-4x` (`streams` streams, default 4): the full public Pipeline on a
 * looped file — decode, letterbox, batching, onnxruntime in its worker thread, NMS, ByteTrack, delivery to JS —
 * consumed with `for await (const r of stream.results())` as a user would. The window starts when `warmup`
 * results have been delivered (all streams together) and ends after `frames` more.
 *
 * Reported: fps (all streams), per-stream fps, decode → result latency p50/p99 (from the results' latencyMs in
 * the window), CPU % of the process, main-thread event-loop delay p99 (perf_hooks.monitorEventLoopDelay), drops,
 * and from pipeline.stats(): mean batch fill, mean submit → complete time and the mean number of batches in flight
 * in the window (Little's law) — well below `workers` means the inference workers waited for frames.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { defaultIntraOpThreads } from '../backends/onnxruntime.js';
import { Pipeline } from '../pipeline.js';
import type { PipelineConfig } from '../config.js';
import type { PipelineStats } from '../types.js';
import { round } from './report.js';
import { trialRun } from './stats.js';
import type { TrialRun, TrialSpec } from './types.js';
import { ResultWindow } from './window.js';

/** The PipelineConfig a pipeline trial runs (also recorded in the report). */
export function pipelineConfigFor(spec: TrialSpec): PipelineConfig {
  return {
    model: spec.model,
    inference: {
      backend: 'onnxruntime',
      workers: spec.workers,
      ...(spec.intraOpThreads !== undefined ? { intraOpThreads: spec.intraOpThreads } : {}),
    },
    batching: {
      ...(spec.maxWaitMs !== undefined ? { maxWaitMs: spec.maxWaitMs } : {}),
      ...(spec.maxBatchSize !== undefined ? { maxBatchSize: spec.maxBatchSize } : {}),
    },
  };
}

function inferMsTotal(s: PipelineStats): number {
  return s.batches * s.meanInferMs;
}

const LOOP_RESOLUTION_MS = 1;

export async function runPipelineTrial(spec: TrialSpec): Promise<TrialRun> {
  const nStreams = spec.trial === 'pipeline' ? 1 : spec.streams;
  const config = pipelineConfigFor(spec);
  const pipeline = await Pipeline.create(config);
  // Node's histogram records the interval between its timer's runs, resolution included (an idle loop reads
  // p50 = resolution); the lateness reported below subtracts it. 1 ms: the finest it samples.
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  try {
    const ids = Array.from({ length: nStreams }, (_, i) => `s${i}`);
    const streams = ids.map((id) =>
      pipeline.addStream({
        id,
        url: spec.source,
        loop: true,
        // Large enough that a briefly busy consumer never drops (drops would inflate nothing but hide stalls).
        resultQueueSize: 1024,
        ...(spec.decoderThreads !== undefined ? { decoderThreads: spec.decoderThreads } : {}),
      }),
    );
    const perStream = new Map<string, number>(ids.map((id) => [id, 0]));
    let s0: PipelineStats | undefined, s1: PipelineStats | undefined;
    const win = new ResultWindow(spec.warmup, spec.frames, {
      opening: () => {
        s0 = pipeline.stats();
        loopDelay.enable();
      },
      closed: () => {
        loopDelay.disable();
        s1 = pipeline.stats();
      },
    });
    const consumers = streams.map(async (s) => {
      for await (const r of s.results()) {
        if (win.add(r.latencyMs)) perStream.set(r.streamId, perStream.get(r.streamId)! + 1);
        if (win.delivered >= win.target) break;
      }
    });
    const errors: string[] = [];
    pipeline.on('error', (err: Error, s: { id: string }) => errors.push(`${s.id}: ${err.message}`));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`pipeline trial: ${win.delivered}/${win.target} results after ${spec.timeoutMs} ms${errors.length ? ` (${errors.join('; ')})` : ''}`)),
        spec.timeoutMs,
      );
    });
    const ended = Promise.all(consumers).then(() => {
      if (win.delivered < win.target) throw new Error(`pipeline trial: streams ended after ${win.delivered}/${win.target} results${errors.length ? ` (${errors.join('; ')})` : ''}`);
    });
    try {
      await Promise.race([win.done, timeout, ended]);
    } finally {
      clearTimeout(timer);
    }
    const wallMs = win.clock.wallMs;
    const workers = spec.workers;
    const intra = spec.intraOpThreads ?? defaultIntraOpThreads(workers);
    const inferMs = inferMsTotal(s1!) - inferMsTotal(s0!);
    const images = s1!.images - s0!.images;
    const batches = s1!.batches - s0!.batches;
    const drops = { busy: 0, fpsLimit: 0, inference: 0, decoderPool: 0, consumer: 0 };
    for (const s of streams) {
      const d = s.stats().dropped;
      for (const k of Object.keys(drops) as (keyof typeof drops)[]) drops[k] += d[k];
    }
    return trialRun({
      trial: spec.trial,
      frames: spec.frames,
      wallMs,
      latenciesMs: win.latenciesMs,
      cpuPercent: win.clock.cpuPercent,
      batchSize: pipeline.batchSize,
      intraOpThreads: intra,
      workers,
      details: {
        streams: nStreams,
        source: spec.source,
        warmupResults: spec.warmup,
        perStreamFps: Object.fromEntries([...perStream].map(([id, n]) => [id, round((n / wallMs) * 1000, 2)])),
        eventLoopDelayP99Ms: round(Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS)),
        eventLoopDelayMaxMs: round(Math.max(0, loopDelay.max / 1e6 - LOOP_RESOLUTION_MS)),
        // From pipeline.stats() differences over the window.
        batches,
        meanBatchFill: batches > 0 ? round(images / batches) : null,
        meanInferMs: batches > 0 ? round(inferMs / batches) : null,
        // Little's law: (Σ submit→complete ms) / window ms = mean batches in flight over all workers. Near
        // workers × slots (2 each) = inference never waits for frames; below `workers` = workers sat idle.
        meanBatchesInFlight: round(inferMs / wallMs),
        // Whole-run pipeline.stats() latency (includes warm-up), for comparison with the window's.
        statsLatency: s1!.latency,
        resultWaits: s1!.resultWaits - s0!.resultWaits,
        drops,
        config: { ...config, decoderThreads: spec.decoderThreads ?? 'default' },
      },
    });
  } finally {
    loopDelay.disable();
    await pipeline.close();
  }
}
