/**
 * The cameras `camtrack serve` manages: those of its config file (started at boot) and those added over REST (kept
 * in a {@link CameraStore} so that they come back after a restart), all on one CameraRegistry. Every add goes through
 * the {@link ModelBoard}, so readiness sees a model loading or failing. REST-facing views never hold a secret:
 * URLs are the streams' redacted ones.
 */
import type { FastifyBaseLogger } from 'fastify';

import type { CameraRegistry } from '../cameras/registry.js';
import { mergePatch, normaliseCamera, type CameraOptions, type NormalisedRegistryConfig } from '../config.js';
import { CamtrackError, redactSecretsIn } from '../errors.js';
import type { Stream } from '../stream.js';
import { configureFromWire, streamPatchFromWire, toWireMetricsMessage, type WireMetricsMessage } from '../wire/index.js';
import type { CameraStore } from './camera-store.js';
import type { ModelBoard } from './readiness.js';

/**
 * Where a camera came from: the config file, REST, another part of the process (a plugin's own cameras), or Redis
 * (`--redis` with `redis.input`: the service works it as `camtrack worker` does; listed and measured here, changed
 * only through Redis).
 */
export type CameraSource = 'config' | 'api' | 'other' | 'redis';

/** A camera as the REST API shows it. */
export interface CameraView {
  id: string;
  model: string;
  source: CameraSource;
  input: 'url' | 'push';
  /** The URL with credentials removed (null for a pushed camera). */
  url: string | null;
  state: string;
  /** Its counters: the wire's metrics message (docs/wire.md). */
  stats: WireMetricsMessage | null;
}

export class CameraNotFoundError extends CamtrackError {
  constructor(id: string) {
    super(`no camera ${JSON.stringify(redactSecretsIn(id))}`, 'ERR_CAMTRACK_NOT_FOUND', {
      stage: 'serve',
      hint: 'GET /api/v1/cameras lists the cameras',
    });
    this.name = 'CameraNotFoundError';
  }
}

export class CameraConflictError extends CamtrackError {
  readonly path = 'stream.id';
  constructor(id: string) {
    super(`stream.id: a camera with id ${JSON.stringify(redactSecretsIn(id))} exists`, 'ERR_CAMTRACK_CONFLICT', {
      stage: 'serve',
      hint: 'choose another id, or DELETE /api/v1/cameras/{id} first',
    });
    this.name = 'CameraConflictError';
  }
}

/** PATCH or DELETE of a camera the service reads from Redis: its life is Redis's (the worker's leases), not REST's. */
export class RedisCameraError extends CamtrackError {
  constructor(id: string) {
    super(`camera ${JSON.stringify(redactSecretsIn(id))} is read from Redis (redis.input); it cannot be changed or removed over REST`, 'ERR_CAMTRACK_CONFLICT', {
      stage: 'serve',
      hint: 'its frames come from its Redis input stream (docs/redis.md): stop publishing them, or remove it from redis.input.cameras',
    });
    this.name = 'RedisCameraError';
  }
}

export class ManagedCameras {
  readonly #registry: CameraRegistry;
  /** The cameras the Redis worker of `--redis` works (its own registry), when there is one. */
  #redis: CameraRegistry | undefined;
  readonly #config: NormalisedRegistryConfig;
  readonly #board: ModelBoard;
  readonly #store: CameraStore;
  readonly #log: FastifyBaseLogger;
  /** Each managed camera's source and its options as given (PATCHes merged), by id. */
  readonly #cameras = new Map<string, { source: CameraSource; options: CameraOptions }>();

  constructor(registry: CameraRegistry, config: NormalisedRegistryConfig, board: ModelBoard, store: CameraStore, log: FastifyBaseLogger) {
    this.#registry = registry;
    this.#config = config;
    this.#board = board;
    this.#store = store;
    this.#log = log;
  }

  get store(): CameraStore {
    return this.#store;
  }

  /** Lists the Redis worker's cameras too (source 'redis', read-only here). */
  attachRedisCameras(registry: CameraRegistry | undefined): void {
    this.#redis = registry;
  }

  /** A running camera by id: the service's own, or one the Redis worker works. */
  stream(id: string): Stream | undefined {
    return this.#registry.get(id) ?? (this.#redis?.closed ? undefined : this.#redis?.get(id));
  }

  /**
   * Starts the config file's cameras, then the stored ones (a stored camera whose id a config camera has is skipped,
   * with a warning). A camera that fails to start is logged (redacted) and left out; the others go on.
   */
  async boot(): Promise<void> {
    // The config cameras start at once (readiness sees their models loading from this call on), the stored ones
    // once the store has been read.
    const configIds = new Set(this.#config.cameras.map((c) => c.stream.id));
    const starting = this.#config.cameras.map((c) => this.#bootOne({ ...c.options, model: c.model }, 'config'));
    let stored: CameraOptions[] = [];
    try {
      stored = await this.#store.load();
    } catch (err) {
      this.#log.error({ err, store: this.#store.where }, 'cannot read the stored cameras');
    }
    for (const c of stored) {
      if (configIds.has(c.id)) this.#log.warn({ camera: redactSecretsIn(String(c.id)) }, 'a stored camera has the id of a config camera; the config camera wins');
      else starting.push(this.#bootOne(c, 'api'));
    }
    await Promise.all(starting);
  }

  async #bootOne(options: CameraOptions, source: CameraSource): Promise<void> {
    try {
      await this.#start(options, source);
    } catch (err) {
      const e = err as CamtrackError;
      this.#log.warn({ camera: redactSecretsIn(String(options.id)), code: e.code, err: e }, 'camera did not start');
    }
  }

  /** Adds a camera over REST: validated (ConfigError with its path), started, then stored. */
  async add(options: CameraOptions): Promise<Stream> {
    const id = (options as { id?: unknown }).id;
    if (typeof id === 'string' && (this.#cameras.has(id) || this.stream(id))) throw new CameraConflictError(id);
    const stream = await this.#start(options, 'api');
    try {
      await this.#store.put(options);
    } catch (err) {
      await this.remove(options.id).catch(() => {});
      // A coded failure of the store (a full disk: ERR_CAMTRACK_OUTPUT) keeps its code and hint; the camera is not added.
      const coded = err instanceof CamtrackError ? err : undefined;
      throw new CamtrackError(`cannot store camera ${JSON.stringify(options.id)} in ${this.#store.where}: ${(err as Error).message}`, coded?.code ?? 'ERR_CAMTRACK_INTERNAL', {
        stage: 'serve',
        ...(coded?.hint !== undefined ? { hint: `${coded.hint}; the camera was not added` } : {}),
        cause: err,
      });
    }
    return stream;
  }

  async #start(options: CameraOptions, source: CameraSource): Promise<Stream> {
    // The same validation (and ConfigError paths) as CameraRegistry#add(), first: the model name is needed to track it.
    const { model } = normaliseCamera(options, 'stream', this.#config);
    const stream = await this.#board.track(model, () => this.#registry.add(options));
    this.#cameras.set(stream.id, { source, options });
    return stream;
  }

  /** Applies a live configuration in wire names (docs/wire.md, "Live configuration"); a REST camera's is stored. */
  async configure(id: string, config: unknown): Promise<void> {
    const stream = this.#stream(id);
    if (this.#isRedis(id)) throw new RedisCameraError(id);
    configureFromWire(stream, config, 'config');
    const entry = this.#cameras.get(id);
    if (entry?.source === 'api') {
      entry.options = mergePatch(entry.options, streamPatchFromWire(config, 'config')) as CameraOptions;
      await this.#store.put(entry.options);
    }
  }

  /** Removes a camera (a REST camera also from the store). */
  async remove(id: string): Promise<void> {
    this.#stream(id);
    if (this.#isRedis(id)) throw new RedisCameraError(id);
    const entry = this.#cameras.get(id);
    await this.#registry.remove(id);
    this.#cameras.delete(id);
    if (entry?.source === 'api') await this.#store.delete(id);
  }

  view(id: string): CameraView {
    const own = this.#registry.list().find((c) => c.id === id);
    const info = own ?? this.#redisList().find((c) => c.id === id);
    if (!info) throw new CameraNotFoundError(id);
    const s = info.stream;
    let stats: WireMetricsMessage | null = null;
    try {
      stats = toWireMetricsMessage(s.stats());
    } catch {
      stats = null; // removed under us
    }
    const push = s.options.input === 'push';
    return {
      id,
      model: info.model,
      source: own ? (this.#cameras.get(id)?.source ?? 'other') : 'redis',
      input: push ? 'push' : 'url',
      url: push ? null : s.url,
      state: s.state,
      stats,
    };
  }

  list(): CameraView[] {
    const own = this.#registry.list().map((c) => this.view(c.id));
    const ids = new Set(own.map((c) => c.id));
    return [...own, ...this.#redisList().filter((c) => !ids.has(c.id)).map((c) => this.view(c.id))];
  }

  #redisList(): ReturnType<CameraRegistry['list']> {
    return this.#redis && !this.#redis.closed ? this.#redis.list() : [];
  }

  #isRedis(id: string): boolean {
    return !this.#registry.get(id) && this.#redis?.get(id) !== undefined;
  }

  #stream(id: string): Stream {
    const stream = this.stream(id);
    if (!stream) throw new CameraNotFoundError(id);
    return stream;
  }
}

