/**
 * Trials of pushed JPEG frames (issue 10, docs/push.md) against the same frames read by the file source, in the same
 * bench run:
 *   push-jpeg        full Pipeline, one stream with input 'push' (codec jpeg, lossless): the first JPEG_FRAMES frames of
 *                    --source encoded as JPEGs (FFmpeg's mjpeg encoder, 4:2:0, -q:v 3) pushed round and round with
 *                    back-pressure (push() false → 'drain'), decoded by libjpeg-turbo at the DCT scale the model needs;
 *   file-mjpeg       the same JPEG bytes in an AVI (stream copy, so the very same bytes), read by the file source,
 *                    looped: libavformat + libavcodec's full-size MJPEG decode;
 *   push-jpeg-null / file-mjpeg-null   the same two on the native pipeline with null inference workers (as
 *                    pipeline-null): what decoding + letterboxing + delivery of those frames cost on their own.
 * Both kinds report fps and decode → result latency over the same window as the pipeline trials. push-jpeg also
 * reports the cost of push() itself on the main thread (mean µs per call) and, for comparison, what a copy of the same
 * bytes costs there (Buffer.from, measured before the window): why the bytes are held, not copied (push_bytes.h).
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

import { defaultIntraOpThreads } from '../backends/onnxruntime.js';
import { closeWorkers } from '../backends/close-workers.js';
import { normaliseConfig, normaliseStream, type StreamOptions } from '../config.js';
import { resolveModel } from '../models/resolve.js';
import { loadNative, type NativeEvent, type NativeFrameResult } from '../native.js';
import { Pipeline, toNativePipelineConfig, toNativeStream } from '../pipeline.js';
import { pipelineConfigFor } from './pipeline-trial.js';
import { round } from './report.js';
import { trialRun } from './stats.js';
import type { TrialRun, TrialSpec } from './types.js';
import { ResultWindow } from './window.js';

/** Frames of --source turned into JPEGs (pushed round and round, or looped in the AVI). */
export const JPEG_FRAMES = 100;
/** The pushed stream's queue (the schema's default pushQueueSize). */
const QUEUE = 8;

interface Frames {
  dir: string;
  jpegs: Buffer[];
  /** The same JPEG bytes in an AVI container (stream copy). */
  avi: string;
}

function makeFrames(source: string): Frames {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-bench-push-'));
  const ffmpeg = (args: string[]) => execFileSync(process.env.FFMPEG_PATH || 'ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args], { timeout: 120_000 });
  ffmpeg(['-i', source, '-frames:v', String(JPEG_FRAMES), '-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', '3', path.join(dir, '%04d.jpg')]);
  const avi = path.join(dir, 'frames.avi');
  ffmpeg(['-framerate', '25', '-i', path.join(dir, '%04d.jpg'), '-c:v', 'copy', avi]);
  const jpegs = readdirSync(dir)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f)));
  return { dir, jpegs, avi };
}

/**
 * What a copy of each frame's bytes would cost on this thread, mean µs per frame (what holding them saves per push):
 * `pool` = a memcpy into one reused buffer (a pooled native copy would cost this), `fresh` = Buffer.from (a new
 * buffer per frame, its allocation and the garbage it leaves included). Warmed up first; median of 5 passes.
 */
function copyCostUs(jpegs: Buffer[]): { pool: number; fresh: number } {
  const pool = new Uint8Array(Math.max(...jpegs.map((j) => j.length)));
  let sink = 0;
  const pass = (fn: (j: Buffer) => void): number => {
    const t0 = performance.now();
    for (const j of jpegs) fn(j);
    return ((performance.now() - t0) * 1000) / jpegs.length;
  };
  const median5 = (fn: (j: Buffer) => void): number => {
    pass(fn); // warm-up
    const t = Array.from({ length: 5 }, () => pass(fn)).sort((a, b) => a - b);
    return t[2]!;
  };
  const poolUs = median5((j) => pool.set(j));
  const freshUs = median5((j) => (sink += Buffer.from(j).length));
  return sink > 0 ? { pool: poolUs, fresh: freshUs } : { pool: Number.NaN, fresh: Number.NaN };
}

export async function runPushTrial(spec: TrialSpec): Promise<TrialRun> {
  const frames = makeFrames(spec.source);
  try {
    return spec.trial.endsWith('-null') ? await runNull(spec, frames) : await runFull(spec, frames);
  } finally {
    rmSync(frames.dir, { recursive: true, force: true });
  }
}

function streamOptions(spec: TrialSpec, frames: Frames): StreamOptions {
  const common = { id: 's0', live: false, ...(spec.decoderThreads !== undefined ? { decoderThreads: spec.decoderThreads } : {}) };
  return spec.trial.startsWith('push-')
    ? { ...common, input: 'push', codec: 'jpeg', pushQueueSize: QUEUE }
    : { ...common, url: frames.avi, loop: true };
}

function frameDetails(frames: Frames, spec: TrialSpec): Record<string, unknown> {
  const bytes = frames.jpegs.reduce((a, j) => a + j.length, 0);
  return {
    input: spec.trial.startsWith('push-')
      ? `${JPEG_FRAMES} JPEGs of the source (ffmpeg mjpeg -q:v 3, 4:2:0) pushed round and round, lossless, pushQueueSize ${QUEUE}`
      : `the same ${JPEG_FRAMES} JPEGs in an AVI (stream copy), file source, looped`,
    meanJpegBytes: Math.round(bytes / frames.jpegs.length),
  };
}

async function runFull(spec: TrialSpec, frames: Frames): Promise<TrialRun> {
  const pipeline = await Pipeline.create(pipelineConfigFor(spec));
  let stop = false;
  let pushes = 0;
  let pushMs = 0;
  try {
    const s = pipeline.addStream({ ...streamOptions(spec, frames), resultQueueSize: 1024 });
    const copyUs = spec.trial === 'push-jpeg' ? copyCostUs(frames.jpegs) : undefined;
    const win = new ResultWindow(spec.warmup, spec.frames);
    const consumer = (async () => {
      for await (const r of s.results()) {
        win.add(r.latencyMs);
        if (win.delivered >= win.target) break;
      }
    })();
    const producer =
      spec.trial === 'push-jpeg'
        ? (async () => {
            for (let i = 0; !stop; i++) {
              const t = performance.now();
              const more = s.push(frames.jpegs[i % frames.jpegs.length]!);
              pushMs += performance.now() - t;
              pushes++;
              if (!more) await once(s, 'drain');
            }
          })().catch(() => {}) // the stream ends under it at close()
        : Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        win.done,
        consumer.then(() => {
          if (win.delivered < win.target) throw new Error(`${spec.trial}: stream ended after ${win.delivered}/${win.target} results`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${spec.trial}: ${win.delivered}/${win.target} results after ${spec.timeoutMs} ms`)), spec.timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      stop = true;
    }
    const st = s.stats();
    await pipeline.close();
    await producer;
    return trialRun({
      trial: spec.trial,
      frames: spec.frames,
      wallMs: win.clock.wallMs,
      latenciesMs: win.latenciesMs,
      cpuPercent: win.clock.cpuPercent,
      batchSize: pipeline.batchSize,
      intraOpThreads: spec.intraOpThreads ?? defaultIntraOpThreads(spec.workers),
      workers: spec.workers,
      details: {
        streams: 1,
        ...frameDetails(frames, spec),
        ...(copyUs !== undefined
          ? {
              pushCallMeanUs: round((pushMs * 1000) / pushes, 2),
              copyIntoPoolUs: round(copyUs.pool, 2),
              copyNewBufferUs: round(copyUs.fresh, 2),
              pushes,
              push: st.push,
            }
          : {}),
        drops: st.dropped,
      },
    });
  } finally {
    stop = true;
    await pipeline.close();
  }
}

async function runNull(spec: TrialSpec, frames: Frames): Promise<TrialRun> {
  const cfg = normaliseConfig(pipelineConfigFor(spec));
  const model = await resolveModel(cfg.model);
  const native = loadNative();
  const batch = model.fixedBatch ?? cfg.batching.maxBatchSize;
  const win = new ResultWindow(spec.warmup, spec.frames);
  let drained: (() => void) | undefined;
  const onEvents = (results: NativeFrameResult[], events: NativeEvent[]): void => {
    for (const r of results) win.add(r.latencyMs);
    for (const e of events) if (e.kind === 'drain') drained?.();
  };
  const np = new native.NativePipeline(toNativePipelineConfig(model, cfg, batch), onEvents);
  const workers = Array.from(
    { length: spec.workers },
    () =>
      new Worker(new URL('./null-worker.js', import.meta.url), {
        workerData: { pipelineId: np.id, inputElems: batch * 3 * model.inputWidth * model.inputHeight, outputElems: batch * model.outputElemsPerImage, slots: 2 },
      }),
  );
  let timer: NodeJS.Timeout | undefined;
  let stop = false;
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    })));
    const handle = np.addStream(toNativeStream(normaliseStream(streamOptions(spec, frames), 'stream', cfg.tracker)));
    const producer = spec.trial.startsWith('push-')
      ? (async () => {
          for (let seq = 0; !stop; seq++) {
            const queued = np.pushFrame(handle, seq, frames.jpegs[seq % frames.jpegs.length]!, -1);
            if (queued >= QUEUE) await new Promise<void>((resolve) => (drained = resolve));
          }
        })().catch(() => {})
      : Promise.resolve();
    await Promise.race([
      win.done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${spec.trial}: ${win.delivered}/${win.target} results after ${spec.timeoutMs} ms`)), spec.timeoutMs);
      }),
    ]);
    stop = true;
    drained?.();
    await producer;
    return trialRun({
      trial: spec.trial,
      frames: spec.frames,
      wallMs: win.clock.wallMs,
      latenciesMs: win.latenciesMs,
      cpuPercent: win.clock.cpuPercent,
      batchSize: batch,
      intraOpThreads: 0,
      workers: spec.workers,
      details: { streams: 1, inference: 'null (completes at once, zero output)', ...frameDetails(frames, spec) },
    });
  } finally {
    stop = true;
    drained?.();
    clearTimeout(timer);
    np.close();
    np.flush(() => {});
    await closeWorkers(workers, 5000);
  }
}
