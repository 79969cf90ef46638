/**
 * `camtrack bench`: end-to-end benchmark with its own baseline, as one JSON document on stdout (and in --out).
 *
 *   camtrack bench [--model f.onnx] [--source video] [--frames 400] [--warmup 20] [--trials ort-raw,pipeline]
 *                  [--repeat N] [--streams 4] [--workers N] [--intra-op-threads N] [--max-wait-ms N]
 *                  [--max-batch-size N] [--decoder-threads N] [--raw-inflight 2] [--timeout-s 300] [--out file.json]
 *
 * Each run of each trial happens in a fresh child process (src/bench/runner.ts); trials alternate over --repeat
 * rounds and the report gives medians. The acceptance check of the CPU path is
 * ratios.pipelineVsRaw ≥ 0.9: pipeline fps ≥ 0.9 × raw onnxruntime-node fps, same model, batch and session
 * options, measured in the same bench run. Exit code 0 when every trial ran (the ratio is reported, not enforced).
 */
import { normaliseConfig } from '../config.js';
import { existsSync } from 'node:fs';
import path from 'node:path';

import { packageRoot } from '../native.js';
import { ratio, runTrials } from '../bench/runner.js';
import { resultsPath, startReport, writeReport } from '../bench/report.js';
import type { TrialName, TrialSpec } from '../bench/types.js';

/** Options of `camtrack bench` (declared, with their defaults and ranges, in main.ts). */
export interface BenchOptions {
  model?: string;
  source?: string;
  frames: number;
  warmup: number;
  trials: TrialName[];
  repeat: number;
  streams: number;
  workers?: number;
  intraOpThreads?: number;
  maxWaitMs?: number;
  maxBatchSize?: number;
  decoderThreads?: number;
  rawInflight: number;
  timeoutS: number;
  out?: string;
  quiet?: boolean;
}

/** Target of the CPU-path acceptance check: pipeline fps / raw onnxruntime fps. */
export const PIPELINE_VS_RAW_TARGET = 0.9;

function assetsDir(): string {
  return process.env.CAMTRACK_ASSETS ?? path.resolve(packageRoot, '..', 'shared', 'assets');
}

export async function runBench(args: BenchOptions): Promise<number> {
  const model = path.resolve(args.model ?? path.join(assetsDir(), 'models', 'yolox_nano.onnx'));
  if (!existsSync(model)) {
    throw new Error(
      args.model
        ? `model ${model} does not exist`
        : `no default model at ${model}; pass --model <file.onnx> (or set CAMTRACK_ASSETS to the shared assets directory)`,
    );
  }
  const sourceArg = args.source ?? path.join(assetsDir(), 'videos', 'walking.mp4');
  const source = /^[a-z][a-z0-9+.-]*:\/\//i.test(sourceArg) ? sourceArg : path.resolve(sourceArg);
  if (!source.includes('://') && !existsSync(source)) {
    throw new Error(`source ${source} does not exist; pass --source <video file>`);
  }
  const { trials, repeat, quiet = false } = args;
  const base: Omit<TrialSpec, 'trial'> = {
    model,
    source,
    frames: args.frames,
    warmup: args.warmup,
    streams: args.streams,
    // The pipeline's own default (inference.workers), so the bench measures what users get.
    workers: args.workers ?? normaliseConfig({ model: 'x.onnx' }).inference.workers,
    intraOpThreads: args.intraOpThreads,
    maxWaitMs: args.maxWaitMs,
    maxBatchSize: args.maxBatchSize,
    decoderThreads: args.decoderThreads,
    rawInflight: args.rawInflight,
    timeoutMs: args.timeoutS * 1000,
  };
  const start = startReport(); // the machine and its load before the first trial
  const results = await runTrials(base, trials, repeat, (line) => {
    if (!quiet) process.stderr.write(line + '\n');
  });
  const raw = results['ort-raw'];
  const pipelineVsRaw = ratio(results['pipeline'], raw);
  const anyRun = Object.values(results)[0]!.runs[0]!;
  // The stamp (tool, version, startedAt, durationS, commit, machine) is report.ts's, as in every bench report.
  const body = {
    model,
    source,
    batchSize: anyRun.batchSize,
    options: { ...base, trials, repeat },
    trials: results,
    ratios: {
      pipelineVsRaw,
      pipeline4xVsRaw: ratio(results['pipeline-4x'], raw),
      rawWorkerVsMain: ratio(raw, results['ort-raw-main']),
      rawVsSeq: ratio(raw, results['ort-raw-seq']),
      pipelineVsRawSeq: ratio(results['pipeline'], results['ort-raw-seq']),
      pipelineVsNull: ratio(results['pipeline'], results['pipeline-null']),
      // Pushed JPEGs (decoded at the model's DCT scale) vs the same JPEG bytes from the file source (full decode).
      pushJpegVsFileMjpeg: ratio(results['push-jpeg'], results['file-mjpeg']),
      pushJpegVsFileMjpegNull: ratio(results['push-jpeg-null'], results['file-mjpeg-null']),
    },
    acceptance: {
      check: `pipeline fps >= ${PIPELINE_VS_RAW_TARGET} x ort-raw fps (medians, same run)`,
      target: PIPELINE_VS_RAW_TARGET,
      ratio: pipelineVsRaw?.ofMedians ?? null,
      pass: pipelineVsRaw ? pipelineVsRaw.ofMedians >= PIPELINE_VS_RAW_TARGET : null,
    },
  };
  const { path: out } = writeReport('camtrack bench', body, {
    out: args.out ?? resultsPath('e2e', start.startedAt),
    start,
  });
  if (!quiet) {
    const r = body.acceptance;
    process.stderr.write(
      `[bench] wrote ${out}\n` +
        (r.ratio === null ? '' : `[bench] pipeline/raw = ${r.ratio} (target ${r.target}): ${r.pass ? 'PASS' : 'BELOW TARGET'}\n`),
    );
  }
  return 0;
}
