/**
 * CameraRegistry: the cameras of a process over N native pipelines, one per model (later one per model and GPU), each
 * camera bound to one of them by its config (issue 9, seam e). `camtrack run` uses it; `serve` and `worker` will.
 *
 *   const cameras = await CameraRegistry.create({
 *     models: { people: 'yolo11n_int8_320.onnx', cars: 'yolox_nano.onnx' },
 *     streams: [{ id: 'door', url: 'rtsp://…', model: 'people' }],
 *   });
 *   cameras.on('result', (r, model) => …);                 // every camera's results; r.streamId is the camera id
 *   cameras.on('event', (e) => …);                         // state / warning / error / end / workerError / breaker
 *   const gate = await cameras.add({ id: 'gate', url: 'gate.mp4', model: 'cars' });
 *   const dock = await cameras.add({ id: 'dock', input: 'push', codec: 'jpeg', model: 'cars' });
 *   cameras.push('dock', jpegBytes, { frameId: 7 });        // = dock.push(…); cameras.end('dock') = dock.end()
 *   await cameras.remove('door');
 *   await cameras.close();
 *
 * Config: the pipeline's options (src/config/schema.ts, CameraRegistryConfigSchema), shared by every pipeline, with
 * the top-level `model` and/or named `models`; a camera's `model` names its model (default: the top-level `model`,
 * else the only one of `models`). Unknown names are a ConfigError at `<path>.model` listing the known ones.
 *
 * Pipelines: a model's pipeline starts with the first camera that needs it (adds for it wait for the one start) and
 * is closed when its last camera is removed, so a model that no camera uses holds no inference workers or memory; a
 * camera added for it later starts a new one (after the old one has closed). A camera whose stream ended by itself
 * (a file at its end, a failed camera) stays registered, with its final stats, until it is removed. close() closes
 * every pipeline, also those still starting.
 *
 * Camera ids are unique across all pipelines: a duplicate (also of a camera still being added) is a ConfigError at
 * `stream.id`, code ERR_CAMTRACK_INVALID_CONFIG, as Pipeline#addStream() says it.
 *
 * Events (a listener that throws never stops delivery: src/safe-emit.ts):
 * - 'result' (result: FrameResult, model: string): every camera's results, in frame order per camera;
 * - 'added' (stream: Stream, model: string): a camera added by add() (those of create()'s config are in list() when it
 *   resolves), before its first result; the Redis count store seeds its analytics here;
 * - 'event' (event: CameraEvent): the cameras' state changes, warnings, errors and ends, and the pipelines' own
 *   warnings (cameraId null) and lost inference workers, each with its camera id and model. Errors come only here:
 *   the registry has no 'error' event, so a failing camera never throws.
 * Sinks (Redis, WebSocket/SSE, gRPC) take these two events and write them through src/wire.
 */
import { EventEmitter } from 'node:events';

import {
  normaliseCamera,
  normaliseRegistryConfig,
  type CameraOptions,
  type CameraRegistryConfig,
  type ModelOptions,
  type NormalisedCamera,
  type NormalisedRegistryConfig,
} from '../config.js';
import { ConfigError, InvalidStateError, redactSecretsIn, type CamtrackError } from '../errors.js';
import { Pipeline } from '../pipeline.js';
import { safeEmit } from '../safe-emit.js';
import type { PushFrameOptions, Stream } from '../stream.js';
import type { BreakerEvent, FrameResult, PipelineStats, StateChange, StreamState, StreamStats } from '../types.js';

/** What the registry's 'event' listeners get: one of the cameras' (or pipelines') events, with camera id and model. */
export type CameraEvent =
  | { type: 'state'; cameraId: string; model: string; change: StateChange }
  /** A camera's warning or error (its stream's), or a pipeline's own warning (cameraId null). */
  | { type: 'warning' | 'error'; cameraId: string | null; model: string; error: CamtrackError }
  /** The camera's stream ended (file end, failure, removal): its last event. */
  | { type: 'end'; cameraId: string; model: string; state: StreamState }
  /** An inference worker thread of the model's pipeline died; the pipeline carries on with the others. */
  | { type: 'workerError'; cameraId: null; model: string; error: CamtrackError }
  /** The model pipeline's inference circuit breaker moved (docs/scheduling.md "Circuit breaker"). */
  | { type: 'breaker'; cameraId: null; model: string; breaker: BreakerEvent };

/** One registered camera. */
export interface CameraInfo {
  id: string;
  /** The name of its model (a key of `models`, or 'default' for the top-level `model`). */
  model: string;
  stream: Stream;
}

/** Stats of every open pipeline and of every camera, as the pipelines give them (no field renamed). */
export interface CameraRegistryStats {
  /** Each open pipeline's stats() by model name (its `streams`: that pipeline's cameras). */
  pipelines: Record<string, PipelineStats>;
  /** Every registered camera's stats, in the order the cameras were added (the same objects as in `pipelines`). */
  cameras: StreamStats[];
}

/** A model and its pipeline, if one runs. */
interface ModelSlot {
  readonly name: string;
  readonly model: ModelOptions;
  pipeline: Pipeline | undefined;
  /** The pipeline being created: every add for this model waits for this one start. */
  starting: Promise<Pipeline> | undefined;
  /** The model's previous pipeline closing after it went idle; a new start waits for it. */
  closing: Promise<void> | undefined;
  /** Cameras on the pipeline plus adds waiting for it. At 0 the pipeline is closed. */
  users: number;
}

interface Camera {
  readonly stream: Stream;
  readonly slot: ModelSlot;
}

export class CameraRegistry extends EventEmitter {
  readonly #config: NormalisedRegistryConfig;
  readonly #slots = new Map<string, ModelSlot>();
  /** Registered cameras, in the order they were added. */
  readonly #cameras = new Map<string, Camera>();
  /** Ids of cameras being added (waiting for their pipeline): taken, so a second add of one fails at once. */
  readonly #adding = new Set<string>();
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(config: NormalisedRegistryConfig) {
    super();
    this.#config = config;
    for (const [name, model] of Object.entries(config.models)) {
      this.#slots.set(name, { name, model, pipeline: undefined, starting: undefined, closing: undefined, users: 0 });
    }
  }

  /**
   * Validates the config (ConfigError with the path of the first bad field, before anything starts), starts the
   * pipelines of the models the cameras of `streams` use, side by side, then adds those cameras, in their order, in
   * one step: as with Pipeline.create(), listeners added right after the `await` hear every camera from its start.
   * A pipeline that fails to start (a missing model file: ERR_CAMTRACK_MODEL) closes everything started and rejects.
   */
  static async create(config: CameraRegistryConfig): Promise<CameraRegistry> {
    const cfg = normaliseRegistryConfig(config);
    const registry = new CameraRegistry(cfg);
    const slots = [...new Set(cfg.cameras.map((c) => registry.#slots.get(c.model)!))];
    // Each slot is held (a user) while it starts, so that nothing closes it before its cameras are in.
    for (const slot of slots) slot.users++;
    try {
      await Promise.all(slots.map((slot) => (slot.starting ??= registry.#start(slot))));
      for (const camera of cfg.cameras) {
        const slot = registry.#slots.get(camera.model)!;
        slot.users++;
        registry.#attach(camera, slot, slot.pipeline!);
      }
      for (const slot of slots) slot.users--;
    } catch (err) {
      await registry.close();
      throw err;
    }
    return registry;
  }

  /** The model names the config knows, in its order ('default' first when there is a top-level `model`). */
  get models(): string[] {
    return [...this.#slots.keys()];
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** The pipeline running `model`, when one does (it starts with the model's first camera). */
  pipeline(model: string): Pipeline | undefined {
    return this.#slots.get(model)?.pipeline;
  }

  /**
   * Adds a camera: validates its options (ConfigError naming the field; an unknown model lists the known ones; a
   * duplicate id), starts its model's pipeline if none runs, and starts the camera's stream there. Connection
   * errors arrive as events, as from Pipeline#addStream().
   */
  async add(options: CameraOptions): Promise<Stream> {
    this.#assertOpen();
    const camera = normaliseCamera(options, 'stream', this.#config);
    const id = camera.stream.id;
    if (this.#cameras.has(id) || this.#adding.has(id)) {
      throw new ConfigError('stream.id', `Duplicate stream id ${JSON.stringify(redactSecretsIn(id))}`);
    }
    const slot = this.#slots.get(camera.model)!;
    this.#adding.add(id);
    slot.users++;
    try {
      const pipeline = slot.pipeline ?? (await (slot.starting ??= this.#start(slot)));
      this.#assertOpen();
      return this.#attach(camera, slot, pipeline);
    } catch (err) {
      slot.users--;
      this.#closeIfIdle(slot);
      throw err;
    } finally {
      this.#adding.delete(id);
    }
  }

  /**
   * Stops and removes a camera (as Pipeline#removeStream(): its stream ends 'stopped', reason 'removed'); the last
   * camera of a model closes that model's pipeline. Resolves false when no camera has this id.
   * Stream#remove() does the same.
   */
  async remove(id: string): Promise<boolean> {
    const camera = this.#cameras.get(id);
    if (!camera) return false;
    await camera.stream.remove();
    this.#forget(camera.stream);
    return true;
  }

  /** The camera's stream, or undefined. */
  get(id: string): Stream | undefined {
    return this.#cameras.get(id)?.stream;
  }

  /**
   * Pushes one compressed frame into camera `id` (a camera with input 'push'): Stream#push() of its stream, with the
   * same return value (false: a lossless camera's queue is full, wait for its stream's 'drain') and errors.
   * @throws ERR_CAMTRACK_INVALID_STATE when no camera has this id (or it is not pushed, or has ended).
   */
  push(id: string, bytes: Uint8Array | ArrayBuffer, options?: PushFrameOptions): boolean {
    return this.#pushed(id).push(bytes, options);
  }

  /** No more frames for pushed camera `id` (Stream#end()): it ends once the frames already pushed are delivered. */
  end(id: string): void {
    this.#pushed(id).end();
  }

  #pushed(id: string): Stream {
    this.#assertOpen();
    const stream = this.#cameras.get(id)?.stream;
    if (!stream) throw new InvalidStateError(`no camera ${JSON.stringify(redactSecretsIn(id))}`);
    return stream;
  }

  /** Every registered camera with its model, in the order they were added. */
  list(): CameraInfo[] {
    return [...this.#cameras.values()].map(({ stream, slot }) => ({ id: stream.id, model: slot.name, stream }));
  }

  /** Every open pipeline's stats by model, and every camera's (see {@link CameraRegistryStats}). */
  stats(): CameraRegistryStats {
    this.#assertOpen();
    const pipelines: Record<string, PipelineStats> = {};
    for (const slot of this.#slots.values()) if (slot.pipeline) pipelines[slot.name] = slot.pipeline.stats();
    const cameras: StreamStats[] = [];
    for (const { stream, slot } of this.#cameras.values()) {
      const s = pipelines[slot.name]?.streams.find((x) => x.id === stream.id);
      if (s) cameras.push(s);
    }
    return { pipelines, cameras };
  }

  /** Resolves when every current camera has ended (files at their end; live cameras only when they fail or stop). */
  async whenAllEnded(): Promise<void> {
    await Promise.all([...this.#cameras.values()].map((c) => c.stream.whenEnded()));
  }

  /** Closes every pipeline (also those still starting). Idempotent; later calls return the same promise. */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #doClose(): Promise<void> {
    this.#closed = true;
    // A start in progress sees #closed when it is done and closes its pipeline itself.
    await Promise.allSettled([...this.#slots.values()].map((s) => s.starting));
    await Promise.all([...this.#slots.values()].flatMap((s) => [s.pipeline?.close(), s.closing]));
    for (const s of this.#slots.values()) s.pipeline = undefined;
    this.#cameras.clear();
  }

  /** Starts a validated camera on its model's running pipeline and registers it (its user is already counted). */
  #attach(camera: NormalisedCamera, slot: ModelSlot, pipeline: Pipeline): Stream {
    const stream = pipeline.addStream(camera.options);
    this.#cameras.set(stream.id, { stream, slot });
    safeEmit(this, 'added', stream, slot.name);
    return stream;
  }

  /** Starts the pipeline of `slot`'s model (after its previous one, if closing, has closed). */
  async #start(slot: ModelSlot): Promise<Pipeline> {
    try {
      if (slot.closing) await slot.closing;
      const pipeline = await Pipeline.create({ ...this.#config.pipeline, model: slot.model });
      if (this.#closed) {
        await pipeline.close();
        throw new InvalidStateError('camera registry is closed');
      }
      this.#listen(pipeline, slot.name);
      slot.pipeline = pipeline;
      return pipeline;
    } finally {
      slot.starting = undefined;
    }
  }

  /** Forwards a pipeline's events as the registry's (before any camera is added to it). */
  #listen(pipeline: Pipeline, model: string): void {
    const event = (e: CameraEvent): void => safeEmit(this, 'event', e);
    pipeline.on('result', (r: FrameResult) => safeEmit(this, 'result', r, model));
    pipeline.on('state', (s: Stream, _state: StreamState, change: StateChange) => event({ type: 'state', cameraId: s.id, model, change }));
    pipeline.on('warning', (error: CamtrackError, s?: Stream) => event({ type: 'warning', cameraId: s?.id ?? null, model, error }));
    pipeline.on('error', (error: CamtrackError, s?: Stream) => event({ type: 'error', cameraId: s?.id ?? null, model, error }));
    pipeline.on('workerError', (error: CamtrackError) => event({ type: 'workerError', cameraId: null, model, error }));
    pipeline.on('breaker', (breaker: BreakerEvent) => event({ type: 'breaker', cameraId: null, model, breaker }));
    pipeline.on('streamEnd', (s: Stream, state: StreamState) => event({ type: 'end', cameraId: s.id, model, state }));
    // Whoever removed it (remove() here, or Stream#remove()), also after it had ended by itself.
    pipeline.on('streamRemoved', (s: Stream) => this.#forget(s));
  }

  /** A camera's stream was removed from its pipeline: unregisters it (once) and closes the pipeline if it is idle. */
  #forget(stream: Stream): void {
    const camera = this.#cameras.get(stream.id);
    if (camera?.stream !== stream) return;
    this.#cameras.delete(stream.id);
    camera.slot.users--;
    this.#closeIfIdle(camera.slot);
  }

  /**
   * Closes the pipeline of a model with no camera left (and no add waiting for it). It leaves the slot at once, so a
   * new camera of the model starts a new pipeline, after this one has closed. The close itself runs in a microtask:
   * never inside the pipeline's own event emission (a removal's 'streamRemoved').
   */
  #closeIfIdle(slot: ModelSlot): void {
    if (slot.users > 0 || !slot.pipeline || this.#closed) return;
    const pipeline = slot.pipeline;
    slot.pipeline = undefined;
    const closing: Promise<void> = Promise.resolve()
      .then(() => pipeline.close())
      .catch((err: unknown) => {
        const error = err as CamtrackError;
        safeEmit(this, 'event', { type: 'warning', cameraId: null, model: slot.name, error } satisfies CameraEvent);
      })
      .finally(() => {
        if (slot.closing === closing) slot.closing = undefined;
      });
    slot.closing = closing;
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('camera registry is closed');
  }
}
