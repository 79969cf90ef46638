/**
 * Pipeline: owns the native pipeline, its inference backend, its streams and their result delivery.
 *
 *   const pipeline = await Pipeline.create({ model: 'yolox_nano.onnx' });
 *   const cam = pipeline.addStream({ id: 'door', url: 'rtsp://…' });
 *   for await (const r of cam.results()) console.log(r.tracks);
 *   await pipeline.close();
 *
 * Events: 'result' (FrameResult), 'state' (Stream, state, StateChange), 'warning' (CamtrackError, Stream; no Stream
 * for the pipeline's own: the execution providers that did not start, once, right after create()),
 * 'error' (CamtrackError, Stream) — only emitted when someone listens, so a failing camera never throws —,
 * 'breaker' (BreakerEvent: the backend's circuit breaker moved, docs/scheduling.md),
 * 'streamEnd' (Stream, finalState), 'workerError' (CamtrackError: an inference worker thread died; its batches
 * were dropped and the others carry on, see docs/architecture.md "Faults"). A listener that throws never stops
 * delivery: its error is rethrown on its own.
 * A stream that ends gives, in order: its final 'state' (stream, then pipeline), 'end' (stream), 'streamEnd'.
 * 'streamRemoved' (Stream): the stream has left the pipeline (removeStream(), stream.remove()), after its end events
 * if it was still running (CameraRegistry keeps its cameras by it).
 *
 * Threads: every pixel stays in native threads; results reach this thread once per batch (see native/binding).
 * Close order: native stop (sources → batcher → in-flight batches → threads) → last results delivered →
 * inference workers detached and terminated → streams ended.
 */
import { EventEmitter } from 'node:events';

import { OnnxRuntimeBackend } from './backends/onnxruntime.js';
import { selectBackend } from './capabilities.js';
import {
  applyStreamPatch,
  normaliseConfig,
  normaliseStream,
  toNativeDetection,
  type NormalisedConfig,
  type NormalisedStream,
  type PipelineConfig,
  type StreamOptions,
  type StreamOptionsPatch,
} from './config.js';
import { CamtrackError, ConfigError, InvalidStateError } from './errors.js';
import { offExit, onExit } from './exit-hooks.js';
import { BUILD_FROM_SOURCE, prebuiltCannotOpen } from './native-prebuilt.js';
import { resolveModel, type ResolvedModel } from './models/resolve.js';
import {
  LiveMode,
  loadNative,
  nativeLoadInfo,
  type NativeEvent,
  type NativeFrameResult,
  type NativeLiveConfig,
  type NativeModelConfig,
  type NativePipelineConfig,
  type NativePipeline,
  type NativeStreamConfig,
  type NativeStreamStats,
} from './native.js';
import { DeliveryScheduler, StreamDelivery } from './delivery.js';
import { ResultQueue } from './result-queue.js';
import { safeEmit } from './safe-emit.js';
import { Stream, streamUrl } from './stream.js';
import { toNativeAnalytics } from './config/analytics.js';
import { nativeTrackerOf, type TrackEvent } from './tracker.js';
import type { BreakerEvent, BreakerReason, BreakerState, Detection, FrameResult, PipelineStats, PushedFrameError, StreamState, StreamStats, Track } from './types.js';

export class Pipeline extends EventEmitter {
  readonly #native: NativePipeline;
  readonly #backend: OnnxRuntimeBackend;
  readonly #config: NormalisedConfig;
  readonly #model: ResolvedModel;
  readonly #batchSize: number;
  readonly #streams = new Map<string, Stream>();
  readonly #byHandle = new Map<number, Stream>();
  readonly #queues = new Set<ResultQueue<FrameResult>>();
  /** Each current stream's delivery queue, by native handle (src/delivery.ts). */
  readonly #deliveries = new Map<number, StreamDelivery>();
  readonly #scheduler = new DeliveryScheduler();
  /** Pushed frames' sequence numbers (their tags' keys), from the native result to the stream's _deliver(). */
  readonly #pushSeqs = new WeakMap<FrameResult, number>();
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(
    native: NativePipeline,
    backend: OnnxRuntimeBackend,
    config: NormalisedConfig,
    model: ResolvedModel,
    batchSize: number,
  ) {
    super();
    this.#native = native;
    this.#backend = backend;
    this.#config = config;
    this.#model = model;
    this.#batchSize = batchSize;
    // Exiting with the pipeline open stops its native threads before the process goes, after the backend's exit
    // hook (added before this one) has made sure no inference worker is inside onnxruntime (src/exit-hooks.ts).
    onExit(this, () => this.#native.close());
  }

  /** Validates the config, reads the model, starts the inference backend and the native pipeline. */
  static async create(config: PipelineConfig): Promise<Pipeline> {
    const cfg = normaliseConfig(config);
    const model = await resolveModel(cfg.model);
    const native = loadNative();
    const caps = native.capabilities();
    const backendName = selectBackend(cfg.inference.backend, caps);
    // A GPU that is not there is a mistake in the config, not a reason to decode on the CPU silently. Without CUDA
    // (no driver, CPU-only build) there is nothing to check: every stream decodes on the CPU anyway.
    if (caps.cuda.available && cfg.gpu.device >= caps.cuda.devices.length) {
      throw new ConfigError(
        'gpu.device',
        `Expected integer between 0 and ${caps.cuda.devices.length - 1} (the CUDA devices visible here) but received ${cfg.gpu.device}`,
      );
    }
    if (cfg.inference.faults && process.env.NODE_ENV !== 'test') {
      throw new ConfigError(
        'inference.faults',
        'fault injection is for tests only',
        'remove inference.faults (it is honoured only when NODE_ENV=test)',
      );
    }
    // A fixed batch dimension decides the batch size; a dynamic one takes maxBatchSize.
    const batchSize = model.fixedBatch ?? cfg.batching.maxBatchSize;
    let pipeline: Pipeline | undefined;
    const deliver = (results: NativeFrameResult[], events: NativeEvent[]): void => pipeline?.deliver(results, events);
    const nativePipeline = new native.NativePipeline(toNativePipelineConfig(model, cfg, batchSize), deliver);
    let backend: OnnxRuntimeBackend;
    try {
      if (backendName !== 'onnxruntime') throw new CamtrackError(`backend ${backendName} is not available`, 'ERR_CAMTRACK_UNSUPPORTED');
      backend = await OnnxRuntimeBackend.create({
        pipelineId: nativePipeline.id,
        model,
        batchSize,
        workers: cfg.inference.workers,
        ...(cfg.inference.intraOpThreads !== undefined ? { intraOpThreads: cfg.inference.intraOpThreads } : {}),
        executionProviders: cfg.inference.executionProviders,
        ...(cfg.inference.faults ? { faults: cfg.inference.faults } : {}),
        fallback: cfg.inference.breaker.fallback === 'cpu',
        onWorkerLost: (err) => {
          if (pipeline) safeEmit(pipeline, 'workerError', err);
        },
      });
    } catch (err) {
      nativePipeline.close();
      throw err;
    }
    pipeline = new Pipeline(nativePipeline, backend, cfg, model, batchSize);
    for (const s of cfg.streams) pipeline.addStream(s);
    // After the caller's `await`, so the listeners it adds right away hear it.
    const warning = backend.providerWarning;
    if (warning) setImmediate(() => safeEmit(pipeline, 'warning', warning));
    return pipeline;
  }

  /** The resolved model: input size, layout, class names, batch policy. */
  get model(): Readonly<ResolvedModel> {
    return this.#model;
  }
  get batchSize(): number {
    return this.#batchSize;
  }
  /** The onnxruntime execution provider inference runs on: the first of inference.executionProviders that started. */
  get executionProvider(): string {
    return this.#backend.executionProvider;
  }
  /**
   * With inference.breaker.fallback 'cpu': how long the breaker's CPU fallback worker took to start (session created
   * and attached, alongside the primary workers during create()), ms; undefined without a fallback.
   */
  get fallbackStartMs(): number | undefined {
    return this.#backend.fallbackStartMs;
  }
  get closed(): boolean {
    return this.#closed;
  }
  get streams(): Stream[] {
    return [...this.#streams.values()];
  }
  getStream(id: string): Stream | undefined {
    return this.#streams.get(id);
  }

  /**
   * Starts a stream. Throws ConfigError for bad options, a duplicate id, or a TLS URL (https://, rtsps://) where the
   * prebuilt FFmpeg (no TLS) is loaded; connection errors arrive as events.
   */
  addStream(options: StreamOptions): Stream {
    this.#assertOpen();
    const s = normaliseStream(options, 'stream', this.#config.tracker);
    if (this.#streams.has(s.id)) throw new ConfigError('stream.id', `Duplicate stream id ${JSON.stringify(s.id)}`);
    const noTls = s.url !== undefined && nativeLoadInfo()?.source === 'prebuilt' ? prebuiltCannotOpen(s.url) : undefined;
    if (noTls) {
      throw new ConfigError('stream.url', noTls, `build the addon from source (system FFmpeg): ${BUILD_FROM_SOURCE}`);
    }
    const handle = this.#native.addStream(toNativeStream(s, this.#model.classNames, 'stream'));
    // 'auto' follows the native decision file/live (option `live`, else the URL).
    const delivery = s.delivery === 'auto' ? (this.#native.streamStats(handle)?.live ? 'latest' : 'lossless') : s.delivery;
    const stream = new Stream(
      {
        removeStream: (id) => this.removeStream(id),
        streamStats: (st) => this.#streamStats(st),
        setPaused: (st, paused) => {
          if (!this.#closed && this.#byHandle.get(st.handle) === st) this.#native.setStreamPaused(st.handle, paused);
        },
        configureStream: (st, patch) => this.#configureStream(st, patch),
        changeAnalyticsCounts: (st, counts) => {
          this.#assertOpen();
          if (this.#byHandle.get(st.handle) !== st) throw new InvalidStateError(`stream ${JSON.stringify(st.id)} was removed`);
          this.#native.changeAnalyticsCounts(st.handle, counts);
        },
        pushFrame: (st, seq, bytes, ptsMs, high) => {
          this.#assertOpen();
          if (this.#byHandle.get(st.handle) !== st) throw new InvalidStateError(`stream ${JSON.stringify(st.id)} was removed`);
          return this.#native.pushFrame(st.handle, seq, bytes, ptsMs, high);
        },
        endPush: (st) => {
          if (!this.#closed && this.#byHandle.get(st.handle) === st) this.#native.endPush(st.handle);
        },
        snapshotNative: (st) => ({
          request: (boxes, quality) => {
            this.#assertOpen();
            if (this.#byHandle.get(st.handle) !== st) throw new InvalidStateError(`stream ${JSON.stringify(st.id)} was removed`);
            return this.#native.requestSnapshot(st.handle, boxes, quality);
          },
          cancel: () => !this.#closed && this.#byHandle.get(st.handle) === st && this.#native.cancelSnapshot(st.handle),
          take: () => (this.#closed ? undefined : this.#native.takeSnapshot(st.handle)),
        }),
      },
      handle,
      s,
      delivery,
    );
    const d = new StreamDelivery(
      this.#scheduler,
      { capacity: s.resultQueueSize, lossless: delivery === 'lossless' },
      (r) => {
        stream._deliver(r, this.#pushSeqs.get(r));
        for (const q of this.#queues) q.push(r);
        safeEmit(this, 'result', r);
      },
      () => stream._countConsumerDrop(),
      (full) => stream._queueFull(full),
    );
    this.#streams.set(s.id, stream);
    this.#byHandle.set(handle, stream);
    this.#deliveries.set(handle, d);
    return stream;
  }

  /**
   * Stops a stream (its in-flight frames are discarded) and ends it with state 'stopped', reason 'removed': 'state'
   * on the stream and the pipeline, 'end', 'streamEnd', whenEnded() → 'stopped', its iterators finish. A stream
   * that had already ended is only removed (no events).
   */
  async removeStream(id: string): Promise<void> {
    const stream = this.#streams.get(id);
    if (!stream || this.#closed) return;
    this.#native.removeStream(stream.handle);
    // The native stop event ('stopped', 'removed') arrives in a later delivery and no 'end' follows it for a
    // removed stream, so the stream is ended here; forgetting the handle first drops that event and any results of
    // the stream still on their way.
    this.#streams.delete(id);
    this.#byHandle.delete(stream.handle);
    this.#deliveries.get(stream.handle)?.clear();
    this.#deliveries.delete(stream.handle);
    this.#endStream(stream, 'stopped', { reason: 'removed' });
    safeEmit(this, 'streamRemoved', stream);
  }

  /**
   * Results of all streams, interleaved in delivery order; bounded (drops oldest) like Stream#results(). A result
   * this queue drops is counted in its own stream's stats().dropped.consumer.
   */
  results(options: { queueSize?: number } = {}): AsyncIterableIterator<FrameResult> {
    const q: ResultQueue<FrameResult> = new ResultQueue(
      options.queueSize ?? 256,
      () => this.#queues.delete(q),
      (r) => this.#streams.get(r.streamId)?._countConsumerDrop(),
    );
    if (this.#closed) q.end();
    else this.#queues.add(q);
    return q;
  }

  /**
   * Pipeline counters and every current stream's stats() (`dropped.consumer` of a stream: its results dropped by
   * a full iterator queue, its own results() iterators and the pipeline's results() ones, each drop counted once;
   * one frame dropped by two slow iterators counts twice).
   */
  stats(): PipelineStats {
    this.#assertOpen();
    const n = this.#native.stats();
    return { backend: this.#backend.name, ...n, streams: n.streams.map((s) => this.#withConsumerDrops(s)) };
  }

  /** Stream#configure(): the stream's new options, applied natively from its next frame (src/config/live.ts). */
  #configureStream(stream: Stream, patch: StreamOptionsPatch): NormalisedStream {
    this.#assertOpen();
    if (this.#streams.get(stream.id) !== stream) throw new InvalidStateError(`stream ${JSON.stringify(stream.id)} was removed`);
    const next = applyStreamPatch(stream.options, patch, this.#config.tracker, 'stream');
    this.#native.configureStream(stream.handle, toNativeLiveConfig(next, this.#model.classNames, 'stream'));
    this.#deliveries.get(stream.handle)?.setCapacity(next.resultQueueSize);
    return next;
  }

  #streamStats(stream: Stream): StreamStats | undefined {
    if (this.#closed) return undefined;
    const s = this.#native.streamStats(stream.handle);
    return s && this.#withConsumerDrops(s);
  }

  /** The one stat the addon cannot know: results JS queues dropped. */
  #withConsumerDrops(s: NativeStreamStats): StreamStats {
    return { ...s, dropped: { ...s.dropped, consumer: this.#streams.get(s.id)?._consumerDrops ?? 0 } };
  }

  /** Resolves when every current stream has ended (files at their end; live streams only when they fail/stop). */
  async whenAllEnded(): Promise<void> {
    await Promise.all(this.streams.map((s) => s.whenEnded()));
  }

  /** Stops everything and releases native resources and workers. Idempotent; later calls return the same promise. */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #doClose(): Promise<void> {
    if (this.#closed) return;
    // Native stop joins source threads and waits (bounded) for batches in flight on the workers, which run on
    // their own threads, so blocking this thread briefly cannot deadlock.
    this.#native.close();
    offExit(this);
    this.#native.flush((r, e) => this.deliver(r, e));
    this.#closed = true;
    // What the consumers have not been given yet, in order, before the streams end.
    this.#scheduler.drainAll();
    await this.#backend.close();
    // Streams the native stop did not end (their end waited for results that were discarded) end as a removal.
    for (const s of this.#streams.values()) this.#endStream(s, 'stopped', { reason: 'removed' });
    for (const q of this.#queues) q.end();
    this.#queues.clear();
    this.#streams.clear();
    this.#byHandle.clear();
    this.#deliveries.clear();
  }

  #assertOpen(): void {
    if (this.#closed || this.#closing) throw new InvalidStateError('pipeline is closed');
  }

  /**
   * @internal called from the native delivery callback (once per batch). Never throws, and runs no user code: the
   * results and events are queued per stream and handed to the consumers by the scheduler (src/delivery.ts).
   */
  private deliver(results: NativeFrameResult[], events: NativeEvent[]): void {
    const names = this.#model.classNames;
    const label = (classId: number): string => names[classId] ?? String(classId);
    for (const n of results) {
      const stream = this.#byHandle.get(n.stream);
      if (!stream) continue;
      // The native objects are fresh per delivery and owned by us: label them in place instead of copying.
      for (const d of n.detections) (d as Detection).label = label(d.classId);
      for (const t of n.tracks) (t as Track).label = label(t.classId);
      const detections = n.detections as Detection[];
      const tracks = n.tracks as Track[];
      const r: FrameResult = {
        streamId: stream.id,
        frameIndex: n.frameIndex,
        ptsMs: n.ptsMs,
        timestampMs: n.wallMs,
        latencyMs: n.latencyMs,
        width: n.width,
        height: n.height,
        inferred: n.inferred,
        inferredBy: n.inferred ? (n.fallback ? 'fallback' : 'primary') : null,
        detections,
        tracks,
        trackEvents: (n.trackEvents ?? []) as TrackEvent[],
      };
      for (const e of r.trackEvents) e.label = label(e.classId);
      // Named natively with the ids of the section it was made with (a configure() since does not rename it).
      if (n.analytics) r.analytics = n.analytics;
      if (n.seq !== undefined) this.#pushSeqs.set(r, n.seq);
      this.#deliveries.get(n.stream)!.pushResult(r);
    }
    for (const e of events) {
      if (e.kind === 'breaker') {
        const ev: BreakerEvent = {
          from: e.from as BreakerState,
          to: e.to as BreakerState,
          reason: e.reason as BreakerReason,
          message: e.message ?? '',
        };
        safeEmit(this, 'breaker', ev);
        continue;
      }
      const stream = this.#byHandle.get(e.stream);
      if (!stream) continue;
      if (e.kind === 'snapshot') {
        // Not queued behind results: the bytes are copied out now and the stream's slot is free again.
        stream._snapshotReady();
        continue;
      }
      if (e.seq !== undefined && e.error) {
        // A pushed frame that could not be decoded: the error says why and which frame, with its tag, taken now,
        // before the results queued above (frames pushed after it) are delivered and release it as dropped.
        const err = e.error as PushedFrameError;
        err.reason = e.reason ?? '';
        err.frame = { seq: e.seq, ...stream._peekTag(e.seq) };
      }
      this.#deliveries.get(e.stream)!.pushEvent(() => this.#onEvent(stream, e));
    }
  }

  /** One native event of a stream, in order with its results (from the scheduler). */
  #onEvent(stream: Stream, e: NativeEvent): void {
    if (e.kind === 'state' && e.state) {
      const info: { reason?: string; attempt?: number; error?: CamtrackError } = {};
      if (e.reason !== undefined) info.reason = e.reason;
      if (e.attempt !== undefined) info.attempt = e.attempt;
      if (e.error !== undefined) info.error = e.error;
      const change = stream._setState(e.state as StreamState, info);
      if (change) safeEmit(this, 'state', stream, e.state, change);
    } else if ((e.kind === 'error' || e.kind === 'warning') && e.error) {
      stream._error(e.error, e.kind === 'error');
      safeEmit(this, e.kind, e.error, stream);
    } else if (e.kind === 'end') {
      this.#endStream(stream, (e.state as StreamState) ?? 'ended');
    } else if (e.kind === 'drain') {
      stream._drain();
    }
  }

  /** Ends a stream once, with the events every end gives: final 'state' (stream, pipeline), 'end', 'streamEnd'. */
  #endStream(stream: Stream, state: StreamState, info: { reason?: string } = {}): void {
    if (stream.ended) return;
    const change = stream._setState(state, info);
    if (change) safeEmit(this, 'state', stream, state, change);
    stream._end(state);
    safeEmit(this, 'streamEnd', stream, state);
  }
}

/** The config of a native pipeline (NativeModule.NativePipeline), complete. */
export function toNativePipelineConfig(model: ResolvedModel, cfg: NormalisedConfig, batchSize: number): NativePipelineConfig {
  return {
    model: toNativeModelConfig(model, cfg, batchSize),
    batching: {
      maxWaitMs: cfg.batching.maxWaitMs,
      resultCapacity: cfg.resultCapacity,
      breaker: cfg.inference.breaker,
      ...(cfg.batching.targetLatencyMs !== undefined ? { targetLatencyMs: cfg.batching.targetLatencyMs } : {}),
    },
    ingest: cfg.ingest,
    gpu: cfg.gpu,
  };
}

/** The native model config: resolved model + detection options + the batch size decided by the model. */
export function toNativeModelConfig(model: ResolvedModel, cfg: NormalisedConfig, batchSize: number): NativeModelConfig {
  return {
    inputWidth: model.inputWidth,
    inputHeight: model.inputHeight,
    channelOrder: model.channelOrder,
    letterbox: model.letterbox,
    padValue: model.padValue,
    scale: model.scale,
    mean: model.mean,
    std: model.std,
    layout: model.layout,
    numClasses: model.numClasses,
    numAnchors: model.numAnchors,
    outputElemsPerImage: model.outputElemsPerImage,
    batchSize,
    fixedBatch: model.fixedBatch !== null,
    scoreThreshold: cfg.detection.scoreThreshold,
    nmsIou: cfg.detection.nmsIou,
    classAgnosticNms: cfg.detection.classAgnostic,
    nmsForEndToEnd: cfg.detection.nmsForEndToEnd,
    maxDetections: cfg.detection.maxDetections,
  };
}

/**
 * The native stream config of a validated stream: the stream itself, four fields in their native form.
 * `classNames`: the model's labels, to resolve the labels of the detection options (none given: class ids only);
 * `path` names the stream in a ConfigError (an unknown label).
 */
export function toNativeStream(s: NormalisedStream, classNames: readonly string[] = [], path = 'stream'): NativeStreamConfig {
  return {
    ...s,
    url: streamUrl(s),
    live: s.live === 'auto' ? LiveMode.auto : s.live ? LiveMode.live : LiveMode.file,
    inputFormats: s.inputFormats.join(','),
    ...toNativeLiveConfig(s, classNames, path),
  };
}

/** The live-changeable fields of a validated stream in their native form (NativePipeline.configureStream()). */
export function toNativeLiveConfig(s: NormalisedStream, classNames: readonly string[] = [], path = 'stream'): NativeLiveConfig {
  return {
    fpsLimit: s.fpsLimit,
    tracker: nativeTrackerOf(s.tracker),
    detection: toNativeDetection(s.detection, classNames, `${path}.detection`),
    analytics: s.analytics ? toNativeAnalytics(s.analytics) : null,
    inference: s.inference,
    motion: { ...s.motion, masks: s.motion.masks.map((p) => p.flat()) },
  };
}
