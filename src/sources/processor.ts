/**
 * Where frames read from Redis go: a `FrameProcessor` takes one camera's JPEG bytes with their tag and gives back the
 * frame's result (carrying the tag's `messageKey`, the input entry id), or says that the frame gives none.
 *
 * Two of them:
 * - `PipelineProcessor`: the real one, cameras as pushed streams of a CameraRegistry (issue 10's documented API:
 *   `addStream({ id, input: 'push', codec: 'jpeg' })`, `stream.push(bytes, { frameId, ptsMs, meta, messageKey })`).
 *   **That API is not built in this version**: create() says so (ERR_CAMTRACK_UNSUPPORTED) until it exists.
 * - `NullProcessor`: no decode, no model: each frame's result has no detections and the picture size from its JPEG
 *   header; bytes that are not a JPEG are a `decode` drop. It exercises everything around the model (Redis in,
 *   acknowledgement, Redis out, many workers) and is the "null inference" of the Redis bench.
 */
import { CameraRegistry, type CameraEvent } from '../cameras/registry.js';
import type { CameraRegistryConfig } from '../config.js';
import { CamtrackError } from '../errors.js';
import { Stream } from '../stream.js';
import type { FrameResult } from '../types.js';
import { jpegSize } from './jpeg.js';

/** What a processor tells its owner (the worker). */
export interface ProcessorHandlers {
  /** A frame's result, in frame order per camera, with the frame's tags (`messageKey`). */
  result(r: FrameResult): void;
  /** A frame known now to give no result (`decode`: not a JPEG, corrupt). */
  drop(cameraId: string, messageKey: string, cause: 'decode', error: CamtrackError): void;
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
  /** Hands one frame to camera `id` (added before). */
  push(id: string, bytes: Buffer, tag: PushTag): void;
  /** Closes every camera; results still in flight are delivered first. */
  close(): Promise<void>;
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

/** A Stream with issue 10's push(), once it exists. */
interface PushStream extends Stream {
  push(bytes: Buffer, tag: { frameId?: number; ptsMs?: number; meta?: Record<string, unknown>; messageKey?: string }): unknown;
}

/** True when this build's Stream has push() (issue 10). */
export function pushedFramesAvailable(): boolean {
  return typeof (Stream.prototype as unknown as { push?: unknown }).push === 'function';
}

/**
 * Cameras as pushed streams of a CameraRegistry (one pipeline per model; `streams` entries of the config give
 * per-camera options by id: model, detection, tracker). Needs issue 10's pushed frames.
 */
export class PipelineProcessor implements FrameProcessor {
  readonly #registry: CameraRegistry;
  readonly #options: Map<string, Record<string, unknown>>;

  private constructor(registry: CameraRegistry, options: Map<string, Record<string, unknown>>) {
    this.#registry = registry;
    this.#options = options;
  }

  /** @throws CamtrackError ERR_CAMTRACK_UNSUPPORTED while pushed frames (issue 10) are not built. */
  static async create(config: CameraRegistryConfig, handlers: ProcessorHandlers): Promise<PipelineProcessor> {
    if (!pushedFramesAvailable()) {
      throw new CamtrackError(
        'camtrack worker needs pushed frames (stream.push(), issue 10) to run a model on frames read from Redis; this build does not have them yet',
        'ERR_CAMTRACK_UNSUPPORTED',
        { stage: 'redis', hint: 'camtrack worker --no-inference runs the Redis path (read, acknowledge, write) without a model; see docs/redis.md' },
      );
    }
    const { streams = [], ...rest } = config;
    const options = new Map<string, Record<string, unknown>>();
    for (const s of streams) options.set(s.id, { ...(s as unknown as Record<string, unknown>) });
    const registry = await CameraRegistry.create({ ...rest, streams: [] });
    registry.on('result', (r: FrameResult) => handlers.result(r));
    registry.on('event', (e: CameraEvent) => handlers.event(e));
    return new PipelineProcessor(registry, options);
  }

  async addCamera(id: string): Promise<void> {
    if (this.#registry.get(id)) return;
    const { url: _url, ...own } = this.#options.get(id) ?? {};
    await this.#registry.add({ ...own, id, input: 'push', codec: 'jpeg' } as never);
  }

  push(id: string, bytes: Buffer, tag: PushTag): void {
    const stream = this.#registry.get(id) as PushStream | undefined;
    if (!stream) return;
    const t: { frameId?: number; ptsMs?: number; meta?: Record<string, unknown>; messageKey: string } = { messageKey: tag.messageKey };
    if (tag.frameId !== undefined) t.frameId = tag.frameId;
    if (tag.ptsMs !== undefined) t.ptsMs = tag.ptsMs;
    if (tag.metadata !== undefined) t.meta = tag.metadata;
    stream.push(bytes, t);
  }

  async close(): Promise<void> {
    await this.#registry.close();
  }
}
