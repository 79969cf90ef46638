/**
 * onnxruntime-node backend: N worker threads, each with one session and its own lent batch buffers
 * (see ort-worker.ts). Creation waits until every worker has attached to the native pipeline, so the first frame
 * always finds a worker; a model that onnxruntime rejects fails create() with ERR_CAMTRACK_MODEL. Each worker's session
 * runs on the first of `executionProviders` that starts (providers.ts); none: ERR_CAMTRACK_UNSUPPORTED.
 *
 * With `fallback` (inference.breaker.fallback 'cpu') one more worker, `onnxruntime-fallback`, runs the same model on
 * the CPU execution provider whatever `executionProviders` says, and attaches to the pipeline's fallback pool: it
 * infers only the frames the circuit breaker refuses (docs/scheduling.md "Circuit breaker"). It is started with the
 * others, not on the breaker's first open, so the first refused frame already finds it (starting it takes a session
 * create: see fallbackStartMs).
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';

import type { InferenceSession } from 'onnxruntime-node';

import { CamtrackError } from '../errors.js';
import { offExit, onExit } from '../exit-hooks.js';
import { closeWorkers } from './close-workers.js';
import type { ResolvedModel } from '../models/resolve.js';
import type { OrtWorkerData } from './ort-worker.js';
import { howToGetProvider } from './providers.js';

export interface OnnxRuntimeBackendOptions {
  pipelineId: number;
  model: ResolvedModel;
  batchSize: number;
  workers: number;
  intraOpThreads?: number;
  executionProviders: string[];
  /** Batch slots per worker: 2 lets the pipeline fill one while the other is inferred. */
  slotsPerWorker?: number;
  /**
   * A worker thread died after creation (an uncaught error in it, or it was terminated) — not during close(). The
   * addon has already retired it (its batches fail, its slots are not used again); this carries the reason.
   */
  onWorkerLost?: (err: CamtrackError) => void;
  /** One more worker on the CPU execution provider for the breaker's fallback pool (inference.breaker.fallback 'cpu'). */
  fallback?: boolean;
  /**
   * TEST ONLY (inference.faults; the pipeline refuses it unless NODE_ENV=test). The top-level fields target the
   * primary workers; `fallback` the fallback worker (each has its own counter).
   */
  faults?: {
    failNextBatches?: number;
    killWorkerAfterBatches?: number;
    fallback?: { failNextBatches?: number; killWorkerAfterBatches?: number };
  };
}

/**
 * The exit gate between a backend and its workers: an Int32Array over one SharedArrayBuffer. A worker counts itself
 * in `GATE_BUSY` for the whole of each lasting native call (loading onnxruntime-node and the addon, session create,
 * run, release) and starts none once `GATE_CLOSED` is set. When the thread exits with the backend open, the backend
 * closes the gate and waits (at most {@link EXIT_WAIT_MS}) until no worker is busy: Node terminates the workers right
 * after, and one terminated inside an onnxruntime call aborts the process (src/exit-hooks.ts). Adding to `busy` before reading `closed` (and the
 * backend the other way round) makes the two sides see each other: seq-cst Atomics.
 */
export const GATE_CLOSED = 0;
export const GATE_BUSY = 1;
const EXIT_WAIT_MS = 3000;

/** Default intra-op threads: the cores shared out between workers (at least 1). */
export function defaultIntraOpThreads(workers: number): number {
  return Math.max(1, Math.floor(os.availableParallelism() / workers));
}

/** onnxruntime's log levels, most verbose first: its severity numbers are the indexes. */
const ORT_LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;
/** CAMTRACK_ORT_LOG's words (CAMTRACK_FFMPEG_LOG's) → onnxruntime's level; 'quiet' keeps only fatal errors. */
const ORT_LOG_WORDS: Record<string, (typeof ORT_LEVELS)[number]> = {
  quiet: 'fatal',
  error: 'error',
  warning: 'warning',
  info: 'info',
  verbose: 'verbose',
  debug: 'verbose',
};

/**
 * onnxruntime's own log level. It prints to stderr by itself (a failing model: two lines per failed run), while
 * camtrack reports failures as events and stats; so, like FFmpeg's log, it is quiet unless CAMTRACK_ORT_LOG=<quiet|
 * error|warning|info|verbose|debug> asks for it (an unknown word means error, as for CAMTRACK_FFMPEG_LOG).
 */
export function ortLogLevel(word = process.env.CAMTRACK_ORT_LOG): (typeof ORT_LEVELS)[number] {
  return word ? (ORT_LOG_WORDS[word] ?? 'error') : 'fatal';
}

/**
 * Options of every onnxruntime session: the pipeline's inference workers (ort-worker.ts) and the bench's raw
 * baseline (bench/ort-raw.ts), which is only a fair baseline while it runs the very same session. The session's
 * log follows ortLogLevel(); onnxruntime's process-wide log (ort.env.logLevel) is set by the worker.
 */
export function ortSessionOptions(
  intraOpThreads: number,
  executionProviders: string[],
): InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders,
    logSeverityLevel: ORT_LEVELS.indexOf(ortLogLevel()) as 0 | 1 | 2 | 3 | 4,
  };
}

/** What an inference worker (ort-worker.ts) says once it started, or why it could not. */
type WorkerMessage =
  | { type: 'ready'; provider: string; skipped: { name: string; reason: string }[] }
  | { type: 'error'; message: string; code?: string; hint?: string };

/** The one warning of a pipeline whose first execution providers did not start (none when the first one did). */
function providerWarning(provider: string, skipped: { name: string; reason: string }[]): CamtrackError | undefined {
  if (skipped.length === 0) return undefined;
  const hints = [...new Set(skipped.map((s) => howToGetProvider(s.name)).filter((h) => h !== undefined))];
  return new CamtrackError(
    `execution provider ${skipped.map((s) => `${s.name} did not start (${s.reason})`).join(', ')}; running on ${provider}`,
    'ERR_CAMTRACK_UNSUPPORTED',
    { stage: 'inference', hint: hints.length ? hints.join('; ') : 'remove it from inference.executionProviders' },
  );
}

export class OnnxRuntimeBackend {
  readonly name = 'onnxruntime';
  readonly #workers: Worker[] = [];
  readonly #exited = new Set<Worker>();
  readonly #gate = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  #closed = false;
  #provider = '';
  #providerWarning: CamtrackError | undefined;
  #fallbackStartMs: number | undefined;

  private constructor() {}

  static async create(opts: OnnxRuntimeBackendOptions): Promise<OnnxRuntimeBackend> {
    const backend = new OnnxRuntimeBackend();
    const intra = opts.intraOpThreads ?? defaultIntraOpThreads(opts.workers);
    const m = opts.model;
    onExit(backend, () => backend.#closeGate());
    // Fault injection (test only): batches still to fail, shared by every primary worker; the fallback has its own.
    const faults = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    new Int32Array(faults)[0] = opts.faults?.failNextBatches ?? 0;
    const fallbackFaults = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    new Int32Array(fallbackFaults)[0] = opts.faults?.fallback?.failNextBatches ?? 0;
    const fallbackIndex = opts.fallback ? opts.workers : -1;
    try {
      await Promise.all(
        Array.from({ length: opts.workers + (opts.fallback ? 1 : 0) }, (_, i) => {
          const isFallback = i === fallbackIndex;
          const startedAt = performance.now();
          const killAfter = isFallback ? opts.faults?.fallback?.killWorkerAfterBatches : i === 0 ? opts.faults?.killWorkerAfterBatches : undefined;
          const workerData: OrtWorkerData = {
            pipelineId: opts.pipelineId,
            modelPath: m.path,
            inputName: m.inputName,
            outputName: m.outputName,
            inputDims: [opts.batchSize, 3, m.inputHeight, m.inputWidth],
            outputElemsPerImage: m.outputElemsPerImage,
            dynamicBatch: m.fixedBatch === null,
            slots: opts.slotsPerWorker ?? 2,
            intraOpThreads: intra,
            // The fallback is the CPU backend whatever the primary runs on (CUDA/TensorRT on a GPU machine).
            executionProviders: isFallback ? ['cpu'] : opts.executionProviders,
            name: isFallback ? 'onnxruntime-fallback' : `onnxruntime-${i}`,
            pool: isFallback ? 'fallback' : 'primary',
            gate: backend.#gate.buffer as SharedArrayBuffer,
            faults: isFallback ? fallbackFaults : faults,
            ...(killAfter !== undefined ? { killAfterBatches: killAfter } : {}),
          };
          const worker = new Worker(new URL('./ort-worker.js', import.meta.url), {
            workerData,
            name: isFallback ? 'camtrack-ort-fallback' : `camtrack-ort-${i}`,
          });
          backend.#workers.push(worker);
          backend.#watch(worker, workerData.name, opts.onWorkerLost);
          return new Promise<void>((resolve, reject) => {
            const onMessage = (msg: WorkerMessage): void => {
              if (msg.type === 'ready') {
                worker.off('message', onMessage);
                if (isFallback) {
                  backend.#fallbackStartMs = performance.now() - startedAt;
                } else {
                  backend.#provider = msg.provider;
                  backend.#providerWarning ??= providerWarning(msg.provider, msg.skipped);
                }
                resolve();
              } else if (msg.type === 'error') {
                reject(
                  msg.code === 'ERR_CAMTRACK_UNSUPPORTED'
                    ? new CamtrackError(msg.message, msg.code, { stage: 'inference', ...(msg.hint ? { hint: msg.hint } : {}) })
                    : new CamtrackError(`onnxruntime could not load ${m.path}: ${msg.message}`, msg.code === 'ERR_CAMTRACK_NATIVE_LOAD' ? 'ERR_CAMTRACK_NATIVE_LOAD' : 'ERR_CAMTRACK_MODEL', {
                        stage: 'inference',
                        hint: 'check that the file is a valid ONNX model and that the execution providers exist on this machine',
                      }),
                );
              }
            };
            worker.on('message', onMessage);
            worker.once('error', (err) =>
              reject(new CamtrackError(`inference worker failed: ${err.message}`, 'ERR_CAMTRACK_BACKEND', { stage: 'inference', cause: err })),
            );
          });
        }),
      );
    } catch (err) {
      await backend.close();
      throw err;
    }
    return backend;
  }

  /** Records the worker's exit (close() must not wait for an exit that already happened) and reports a death. */
  #watch(worker: Worker, name: string, onLost: OnnxRuntimeBackendOptions['onWorkerLost']): void {
    let cause: Error | undefined;
    worker.on('error', (err: Error) => (cause = err));
    worker.once('exit', (code: number) => {
      this.#exited.add(worker);
      if (this.#closed || !onLost) return;
      onLost(
        new CamtrackError(
          `inference worker ${name} exited (code ${code})${cause ? `: ${cause.message}` : ''}`,
          'ERR_CAMTRACK_BACKEND',
          {
            stage: 'inference',
            hint: 'its batches were dropped (dropped.inference) and the other workers carry on; when none is left the streams fail',
            ...(cause ? { cause } : {}),
          },
        ),
      );
    });
  }

  /** The execution provider the sessions run on: the first of `executionProviders` that started. */
  get executionProvider(): string {
    return this.#provider;
  }

  /** Why the providers before executionProvider did not start, when there were any: the pipeline warns with it once. */
  get providerWarning(): CamtrackError | undefined {
    return this.#providerWarning;
  }

  /** Primary and fallback workers. */
  get workerCount(): number {
    return this.#workers.length;
  }

  /**
   * How long the breaker's fallback worker took from its creation to being attached with its CPU session, ms
   * (started alongside the primary workers, so on a small machine they share the cores); undefined without one.
   */
  get fallbackStartMs(): number | undefined {
    return this.#fallbackStartMs;
  }

  /** Detaches and stops every worker. Call after the native pipeline stopped (no batch in flight). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeWorkers(this.#workers, 5000, this.#exited);
    offExit(this);
  }

  /** On exit: no lasting native call starts in a worker any more; waits (bounded) for those under way. See GATE_CLOSED. */
  #closeGate(): void {
    Atomics.store(this.#gate, GATE_CLOSED, 1);
    const deadline = performance.now() + EXIT_WAIT_MS;
    for (let busy = Atomics.load(this.#gate, GATE_BUSY); busy > 0; busy = Atomics.load(this.#gate, GATE_BUSY)) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      Atomics.wait(this.#gate, GATE_BUSY, busy, left);
    }
  }
}
