/**
 * Cameras a worker pulls itself (RTSP, files: the `streams` of `camtrack worker --config`), shared by several workers
 * through the same leases as cameras read from Redis (src/sources/leases.ts): each camera runs on the one worker that
 * holds its lease (the rendezvous owner among the live workers), in that worker's CameraRegistry, and every result it
 * writes to `camera_{id}_output` is fenced by that lease (the sink's XADD script checks it). A dead worker's cameras
 * start on another worker once its leases expire; a worker that should no longer own a camera (a new worker won it)
 * removes it from its registry, its results in flight written, and releases the lease.
 *
 *   const pulled = await PulledCameras.create(config, sink, 'worker-1');   // config: models, pipeline options, streams
 *   await pulled.start();  …  await pulled.stop();
 *
 * Tracker state lives with the camera's stream, so a camera that moves starts its track ids again on its new worker
 * (checkpointing tracker state to Redis is not built).
 */
import os from 'node:os';

import type { Redis } from 'ioredis';

import { CameraRegistry, type CameraEvent } from '../cameras/registry.js';
import { normaliseRegistryConfig, type CameraOptions, type CameraRegistryConfig, type NormalisedRedisOptions } from '../config.js';
import { connectOnce, createRedisClient, redisEndpoint } from '../redis/client.js';
import type { RedisSink } from '../sinks/redis.js';
import type { FrameResult } from '../types.js';
import { LeaseManager, type LeaseStats } from './leases.js';

/** Per camera: what this worker did with it. */
export interface PulledCameraStats {
  /** Times this worker took its lease (and started it). */
  leased: number;
  /** Results handed to the sink while held. */
  results: number;
  /** Running here now. */
  active: boolean;
}

export class PulledCameras {
  readonly #registry: CameraRegistry;
  readonly #sink: RedisSink;
  readonly #client: Redis;
  readonly #leases: LeaseManager;
  readonly #options = new Map<string, CameraOptions>();
  readonly #stats = new Map<string, PulledCameraStats>();

  private constructor(registry: CameraRegistry, sink: RedisSink, client: Redis, redis: NormalisedRedisOptions, name: string, cameras: CameraOptions[]) {
    this.#registry = registry;
    this.#sink = sink;
    this.#client = client;
    for (const c of cameras) {
      this.#options.set(c.id, c);
      this.#stats.set(c.id, { leased: 0, results: 0, active: false });
    }
    this.#leases = new LeaseManager(client, redis.leases, name, () => this.#options.keys(), {
      acquired: async (id) => {
        const s = this.#stats.get(id)!;
        s.leased++;
        s.active = true;
        await this.#registry.add(this.#options.get(id)!);
      },
      lost: (id) => {
        this.#stats.get(id)!.active = false;
        void this.#registry.remove(id);
      },
      handOver: async (id) => {
        this.#stats.get(id)!.active = false;
        await this.#registry.remove(id);
        await this.#sink.drain(redis.closeTimeoutMs);
      },
    });
    registry.on('result', (r: FrameResult) => this.#result(r));
    registry.on('event', (e: CameraEvent) => sink.writeEvent(e));
  }

  /**
   * Validates `config` (a camera registry's: `model`/`models`, pipeline options, `streams` with their urls), connects
   * the lease connection; cameras start with start(). `name`: this worker's name (default `<hostname>-<pid>`).
   */
  static async create(config: CameraRegistryConfig, sink: RedisSink, name = `${os.hostname()}-${process.pid}`): Promise<PulledCameras> {
    normaliseRegistryConfig(config); // a bad field: ConfigError naming it, before anything connects
    const { streams = [], redis: _redis, ...rest } = config;
    const endpoint = redisEndpoint(sink.options.url);
    const client = createRedisClient(endpoint, { name: 'camtrack:pulled', connectTimeoutMs: sink.options.connectTimeoutMs, commandTimeoutMs: sink.options.commandTimeoutMs });
    client.on('error', () => {});
    await connectOnce(client, endpoint);
    let registry: CameraRegistry;
    try {
      registry = await CameraRegistry.create({ ...rest, streams: [] });
    } catch (err) {
      client.disconnect();
      throw err;
    }
    return new PulledCameras(registry, sink, client, sink.options, name, streams);
  }

  /** Starts heartbeating: cameras this worker wins start here. */
  async start(): Promise<void> {
    await this.#leases.start();
  }

  /** The registry the cameras run in (their streams, stats). */
  get registry(): CameraRegistry {
    return this.#registry;
  }

  stats(): { cameras: Record<string, PulledCameraStats>; leases: LeaseStats } {
    return { cameras: Object.fromEntries([...this.#stats].map(([id, s]) => [id, { ...s }])), leases: this.#leases.stats() };
  }

  /**
   * Stops: takes nothing more, closes the cameras (results in flight delivered and handed to the sink), lets the sink
   * write them (the caller closes the sink), then releases the leases and leaves the live set.
   */
  async stop(): Promise<void> {
    this.#leases.freeze();
    await this.#registry.close();
    await this.#sink.drain(this.#sink.options.closeTimeoutMs);
    await this.#leases.stop();
    this.#client.disconnect();
    for (const s of this.#stats.values()) s.active = false;
  }

  #result(r: FrameResult): void {
    const value = this.#leases.held(r.streamId);
    // Not held (lost, or moving): nothing to fence with; a value no lease has makes the sink refuse it.
    const fence = { key: this.#leases.leaseKey(r.streamId), value: value ?? '(not held)' };
    const s = this.#stats.get(r.streamId);
    if (s) s.results++;
    this.#sink.writeResult(r, this.#registry.get(r.streamId), { ack: { key: '', group: '', ids: [], fence } });
  }
}
