/**
 * Where frames read from Redis go: a `FrameProcessor` takes one camera's JPEG bytes with their tag and gives back the
 * frame's result (carrying the tag's `messageKey`, the input entry id), or says that the frame gives none.
 *
 * Two of them:
 * - `PipelineProcessor`: the real one, cameras as pushed streams of a CameraRegistry (issue 10, docs/push.md:
 *   `input: 'push'`, `stream.push(bytes, { frameId, ptsMs, meta, messageKey })`), a model per camera.
 * - `NullProcessor`: no decode, no model: each frame's result has no detections and the picture size from its JPEG
 *   header; bytes that are not a JPEG are a `decode` drop. It exercises everything around the model (Redis in,
 *   acknowledgement, Redis out, many workers) and is the "null inference" of the Redis bench.
 */
import { CameraRegistry, type CameraEvent } from '../cameras/registry.js';
import type { CameraRegistryConfig } from '../config.js';
import { CamtrackError } from '../errors.js';
import type { PushFrameOptions } from '../stream.js';
import type { FrameResult, PushedFrameError } from '../types.js';
import { jpegSize } from './jpeg.js';

/** What a processor tells its owner (the worker). */
export interface ProcessorHandlers {
  /** A frame's result, in frame order per camera, with the frame's tags (`messageKey`). */
  result(r: FrameResult): void;
  /** A frame known now to give no result (`decode`: not a JPEG, corrupt; `pipeline`: the camera refused it). */
  drop(cameraId: string, messageKey: string, cause: 'decode' | 'pipeline', error: CamtrackError): void;
  /** A camera's state, warning, error or end (as a CameraRegistry gives them). */
  event(e: CameraEvent): void;
}

/** The tag a frame is pushed with (docs/push.md, issue 10). */
export interface PushTag {
  frameId?: number;
  ptsMs?: number;
  metadata?: Record<string, unknown>;
  messageKey: string;
}

export interface FrameProcessor {
  /** Starts camera `id` (idempotent). */
  addCamera(id: string): Promise<void>;
  /** Stops camera `id` (its lease moved): what it still holds gives no result. */
  removeCamera(id: string): Promise<void>;
  /** Hands one frame to camera `id` (added before). */
  push(id: string, bytes: Buffer, tag: PushTag): void;
  /** Closes every camera; results still in flight are delivered first. */
  close(): Promise<void>;
  /** The cameras, when a real pipeline processes them (the analytics count store attaches here). */
  readonly registry?: CameraRegistry;
}

/** Results with no detections, the size from the JPEG header, delivered in batches from setImmediate. */
export class NullProcessor implements FrameProcessor {
  readonly #handlers: ProcessorHandlers;
  readonly #frames = new Map<string, number>();
  #queue: { r: FrameResult; at: number }[] = [];
  #scheduled = false;
  #closed = false;
  readonly #delayMs: number;
  readonly #timers = new Set<NodeJS.Timeout>();

  /** `delayMs`: each result comes this long after its frame (a stand-in for a model's latency; 0 = next turn). */
  constructor(handlers: ProcessorHandlers, delayMs = 0) {
    this.#handlers = handlers;
    this.#delayMs = delayMs;
  }

  async removeCamera(_id: string): Promise<void> {
    // Nothing held: every result is delivered on the next turn (or after delayMs).
  }

  async addCamera(id: string): Promise<void> {
    if (this.#frames.has(id)) return;
    this.#frames.set(id, 0);
    this.#handlers.event({ type: 'state', cameraId: id, model: 'null', change: { state: 'live', previous: 'connecting', reason: 'connected' } });
  }

  push(id: string, bytes: Buffer, tag: PushTag): void {
    if (this.#closed) return;
    const index = this.#frames.get(id) ?? 0;
    this.#frames.set(id, index + 1);
    const size = jpegSize(bytes);
    if (!size) {
      const error = new CamtrackError(`camera ${JSON.stringify(id)}: entry ${tag.messageKey} is not a JPEG (${bytes.length} bytes)`, 'ERR_CAMTRACK_DECODE', {
        stage: 'decode',
        hint: 'input frames must be JPEG bytes as they are (no base64); such entries are acknowledged and counted as dropped.decode',
      });
      this.#handlers.drop(id, tag.messageKey, 'decode', error);
      return;
    }
    const now = Date.now();
    const r: FrameResult = {
      streamId: id,
      frameIndex: index,
      ptsMs: tag.ptsMs ?? 0,
      timestampMs: now,
      latencyMs: 0,
      width: size.width,
      height: size.height,
      inferred: true,
      inferredBy: 'primary',
      detections: [],
      tracks: [],
      trackEvents: [],
      messageKey: tag.messageKey,
    };
    if (tag.frameId !== undefined) r.frameId = tag.frameId;
    if (tag.metadata !== undefined) r.metadata = tag.metadata;
    this.#queue.push({ r, at: performance.now() });
    if (this.#delayMs > 0) {
      const item = this.#queue.pop()!;
      const t = setTimeout(() => {
        this.#timers.delete(t);
        item.r.latencyMs = performance.now() - item.at;
        this.#handlers.result(item.r);
      }, this.#delayMs);
      this.#timers.add(t);
      return;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#deliver());
    }
  }

  #deliver(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    const now = performance.now();
    for (const { r, at } of batch) {
      r.latencyMs = now - at;
      this.#handlers.result(r);
    }
  }

  async close(): Promise<void> {
    this.#deliver();
    // Delayed results still to come are given their time (the worker bounds its stop).
    while (this.#timers.size > 0) await new Promise((r) => setTimeout(r, 10));
    this.#closed = true;
    for (const id of this.#frames.keys()) {
      this.#handlers.event({ type: 'end', cameraId: id, model: 'null', state: 'stopped' });
    }
  }
}

/**
 * Cameras as pushed streams of a CameraRegistry (issue 10: `input: 'push'`, `stream.push()`), one pipeline per model.
 * A camera's options come from the config's `streams` entry with its id and `input: 'push'` (codec, model,
 * detection, tracker, …); a camera without one is `{ input: 'push', codec: 'jpeg' }`. Unless the entry says
 * otherwise a camera is lossless (`live: false`: every frame read is decoded and inferred; the reader's in-flight
 * bound, not the push queue, limits what waits) with a push queue as deep as that bound, so a push never meets a
 * full queue. A frame the pipeline cannot decode comes back as its warning (it names the frame's messageKey): a
 * `decode` drop, acknowledged at once; one it drops otherwise (inference failed) is released when a later frame's
 * result comes (the source's in-order rule).
 */
export class PipelineProcessor implements FrameProcessor {
  readonly #registry: CameraRegistry;
  readonly #options: Map<string, Record<string, unknown>>;
  readonly #handlers: ProcessorHandlers;
  readonly #queue: number;

  private constructor(registry: CameraRegistry, options: Map<string, Record<string, unknown>>, handlers: ProcessorHandlers, queue: number) {
    this.#registry = registry;
    this.#options = options;
    this.#handlers = handlers;
    this.#queue = queue;
  }

  /**
   * Starts the registry of `config` (models, pipeline options; `streams` entries with `input: 'push'` are per-camera
   * options, others are ignored here). `maxInFlight`: the reader's bound (the push queue's depth).
   */
  static async create(config: CameraRegistryConfig, handlers: ProcessorHandlers, maxInFlight: number): Promise<PipelineProcessor> {
    const { streams = [], redis: _redis, ...rest } = config as CameraRegistryConfig & { redis?: unknown };
    const options = new Map<string, Record<string, unknown>>();
    for (const s of streams) if ((s as { input?: string }).input === 'push') options.set(s.id, { ...(s as unknown as Record<string, unknown>) });
    const registry = await CameraRegistry.create({ ...rest, streams: [] });
    const processor = new PipelineProcessor(registry, options, handlers, Math.max(1, Math.min(1024, maxInFlight)));
    registry.on('result', (r: FrameResult) => handlers.result(r));
    registry.on('event', (e: CameraEvent) => processor.#event(e));
    return processor;
  }

  get registry(): CameraRegistry {
    return this.#registry;
  }

  async addCamera(id: string): Promise<void> {
    if (this.#registry.get(id)) return;
    const own = this.#options.get(id) ?? {};
    await this.#registry.add({ live: false, pushQueueSize: this.#queue, codec: 'jpeg', ...own, id, input: 'push' } as never);
  }

  async removeCamera(id: string): Promise<void> {
    await this.#registry.remove(id);
  }

  push(id: string, bytes: Buffer, tag: PushTag): void {
    const t: PushFrameOptions = { messageKey: tag.messageKey };
    if (tag.frameId !== undefined) t.frameId = tag.frameId;
    if (tag.ptsMs !== undefined) t.ptsMs = tag.ptsMs;
    if (tag.metadata !== undefined) t.meta = tag.metadata;
    try {
      this.#registry.push(id, bytes, t);
    } catch (err) {
      // Not running (removed, ended) or, lossless, a full queue: this frame gives no result.
      this.#handlers.drop(id, tag.messageKey, 'pipeline', err as CamtrackError);
    }
  }

  async close(): Promise<void> {
    await this.#registry.close();
  }

  #event(e: CameraEvent): void {
    if (e.type === 'warning' && e.cameraId !== null) {
      const key = (e.error as Partial<PushedFrameError>).frame?.messageKey;
      if (key !== undefined) this.#handlers.drop(e.cameraId, key, 'decode', e.error);
    }
    this.#handlers.event(e);
  }
}
