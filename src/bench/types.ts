/**
 * Types shared by the end-to-end benchmark (`camtrack bench`): the declarative trial list, the spec one child
 * process receives, and the JSON each trial reports. Every trial runs in a FRESH child process (better-sqlite3
 * style), so no trial inherits another's warmed-up allocator, thread pools or JIT.
 */

/** Names of the trials `camtrack bench --trials` accepts. */
export type TrialName =
  | 'ort-raw'
  | 'ort-raw-seq'
  | 'ort-raw-main'
  | 'pipeline'
  | 'pipeline-4x'
  | 'pipeline-null'
  | 'push-jpeg'
  | 'file-mjpeg'
  | 'push-jpeg-null'
  | 'file-mjpeg-null';

/** What one child process is asked to run. Plain JSON (it crosses the IPC channel). */
export interface TrialSpec {
  trial: TrialName;
  /** Absolute path of the ONNX model. */
  model: string;
  /** Video file (or URL) the pipeline trials read, looped. */
  source: string;
  /** Measured frames (pipeline trials: results delivered over all streams; ort-raw: images inferred). */
  frames: number;
  /** Warm-up frames excluded from the measurement (pipeline trials: results delivered; ort-raw: inferences). */
  warmup: number;
  /** Streams opened by the pipeline-4x trial (pipeline and pipeline-null always open 1). */
  streams: number;
  /** inference.workers (pipeline) and number of concurrent sessions (ort-raw). */
  workers: number;
  /** inference.intraOpThreads; undefined = the pipeline's default (cores / workers). */
  intraOpThreads: number | undefined;
  /** batching.maxWaitMs; undefined = the pipeline's default. */
  maxWaitMs: number | undefined;
  /** batching.maxBatchSize (dynamic-batch models only); undefined = the pipeline's default. */
  maxBatchSize: number | undefined;
  /** Per-stream decoderThreads; undefined = the pipeline's default. */
  decoderThreads: number | undefined;
  /** ort-raw / ort-raw-main: session.run() calls in flight per session (the pipeline's slots per worker: 2). */
  rawInflight: number;
  /** Give up on the trial after this long (the parent kills the child a little later). */
  timeoutMs: number;
}

/** Percentiles of a latency sample, ms. */
export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  samples: number;
}

/** Result of one run of one trial (one child process). */
export interface TrialRun {
  trial: TrialName;
  /** Frames (images) per second over the measured window, all streams/sessions together. */
  fps: number;
  /** Measured frames and window length. */
  frames: number;
  wallMs: number;
  /** Per-inference latency (ort-raw*) or decode → result latency (pipeline*). */
  latency: LatencySummary;
  /** process.cpuUsage() (user + system, every thread of the process) over the window; 100 = one core busy. */
  cpuPercent: number;
  /** The images per inference call. */
  batchSize: number;
  /** Session options actually used (same rule as the pipeline's ort-worker). */
  intraOpThreads: number;
  workers: number;
  /** Anything specific to the trial (input kind, event-loop delay, drops, per-stream fps, pipeline stats …). */
  details: Record<string, unknown>;
}

/** Messages the child sends to the parent. */
export type ChildMessage = { type: 'result'; run: TrialRun } | { type: 'error'; message: string; code?: string; stack?: string };
