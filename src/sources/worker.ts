/**
 * `camtrack worker`'s engine: the Redis source (frames in), a frame processor (the pipeline's pushed streams, or the
 * null processor) and the Redis sink (results out), joined so that an input entry is acknowledged only after its
 * result is written: each result's XADD and the XACK of its input entry (and of the camera's earlier entries that
 * gave no result) are one Lua script, the XACK running only if the XADD succeeded. docs/redis.md, "camtrack worker".
 *
 * Memory is bounded by `redis.input.maxInFlight` per camera: a camera with that many entries read and not yet
 * acknowledged is not read, so a slow model or a slow Redis leaves the backlog in Redis (where `maxFrameAgeMs` skips
 * what went stale) and the sink's queue of a camera never holds more than that (its maxPending is raised to it).
 *
 * Stopping (stop()): reading stops, the frames in flight finish (results written and acknowledged) within
 * `timeoutMs`, the processor closes, the sink writes what waits, and the connections close. What did not finish
 * stays pending in Redis, for this consumer's next start or for another worker's XAUTOCLAIM.
 */
import { EventEmitter } from 'node:events';

import type { CameraEvent, CameraRegistry } from '../cameras/registry.js';
import { normaliseOutputs, normaliseRedisOptions, type CameraRegistryConfig, type NormalisedRedisOptions, type RedisOptions } from '../config.js';
import type { CamtrackError } from '../errors.js';
import { safeEmit } from '../safe-emit.js';
import { LatestAnalytics } from '../sinks/analytics-latest.js';
import { AnalyticsCountStore } from '../sinks/analytics-store.js';
import { AnalyticsOutputs } from '../sinks/outputs.js';
import { RedisSink, type RedisSinkStats } from '../sinks/redis.js';
import type { FrameResult } from '../types.js';
import { NullProcessor, PipelineProcessor, type FrameProcessor, type ProcessorHandlers } from './processor.js';
import { RedisSource, type RedisSourceStats, type SourceDrops } from './redis.js';

export interface RedisWorkerOptions {
  /** The `redis` section (input: cameras, discovery, group, freshness; output; events). */
  redis: RedisOptions | NormalisedRedisOptions;
  /**
   * 'null': no model (NullProcessor); else the cameras' config: models, pipeline options, and `streams` entries with
   * `input: 'push'` as per-camera options by id (PipelineProcessor).
   */
  processor: 'null' | CameraRegistryConfig;
  /** Name in the consumer groups (default `<hostname>-<pid>`). */
  consumer?: string;
  /** The null processor's delay per frame, ms (a stand-in for a model's latency). */
  nullDelayMs?: number;
}

/** One camera's summary: what `camtrack worker` prints at the end. */
export interface WorkerCameraSummary {
  read: number;
  claimed: number;
  /** Results written (output entries), with their input acknowledged. */
  written: number;
  inFlight: number;
  /** Times this worker took the camera's lease (leases on). */
  leased: number;
  /** Input entries acknowledged without a result, or left pending (unwritten, fenced), by cause. */
  dropped: SourceDrops;
}

export interface RedisWorkerStats {
  consumer: string;
  url: string;
  cameras: Record<string, WorkerCameraSummary>;
  source: RedisSourceStats;
  sink: RedisSinkStats;
}

export class RedisWorker extends EventEmitter {
  readonly source: RedisSource;
  readonly sink: RedisSink;
  readonly #processor: FrameProcessor;
  #counts: AnalyticsCountStore | undefined;
  #outputs: AnalyticsOutputs | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(source: RedisSource, sink: RedisSink, processor: FrameProcessor) {
    super();
    this.source = source;
    this.sink = sink;
    this.#processor = processor;
  }

  /** Connects (ERR_CAMTRACK_REDIS when it cannot), starts the processor; reading starts with start(). */
  static async create(options: RedisWorkerOptions): Promise<RedisWorker> {
    const redis = normaliseRedisOptions(options.redis);
    // The sink never drops a worker's result for room: a camera has at most maxInFlight results on their way.
    const sinkOptions: NormalisedRedisOptions = {
      ...redis,
      output: { ...redis.output, maxPending: Math.max(redis.output.maxPending, redis.input.maxInFlight) },
    };
    const sink = await RedisSink.create(sinkOptions);
    let worker: RedisWorker | undefined;
    const firstTimestamp = new Map<string, number>();
    const handlers: ProcessorHandlers = {
      result: (r) => worker!.#result(r),
      drop: (cameraId, key, cause, error) => worker!.source.drop(cameraId, key, cause, error),
      event: (e) => worker!.#event(e),
    };
    let processor: FrameProcessor;
    try {
      processor =
        options.processor === 'null'
          ? new NullProcessor(handlers, options.nullDelayMs ?? 0)
          : await PipelineProcessor.create(options.processor, handlers, redis.input.maxInFlight);
    } catch (err) {
      await sink.close();
      throw err;
    }
    let source: RedisSource;
    try {
      source = await RedisSource.create(
        redis,
        {
          camera: (id) => processor.addCamera(id),
          released: (id) => processor.removeCamera(id),
          frame: (cameraId, f) => {
            // pts: time since this camera's first frame here, from the capture timestamps.
            const t0 = firstTimestamp.get(cameraId) ?? f.timestampMs;
            if (!firstTimestamp.has(cameraId)) firstTimestamp.set(cameraId, t0);
            const tag: Parameters<FrameProcessor['push']>[2] = { messageKey: f.id, ptsMs: Math.max(0, f.timestampMs - t0) };
            if (f.frameId !== undefined) tag.frameId = f.frameId;
            if (f.metadata !== undefined) tag.metadata = f.metadata;
            processor.push(cameraId, f.frame, tag);
          },
        },
        options.consumer,
      );
    } catch (err) {
      await processor.close();
      await sink.close();
      throw err;
    }
    // Cumulative analytics counts kept in Redis (redis.counts): seeded when a camera starts here, written while it runs.
    let counts: AnalyticsCountStore | undefined;
    if (redis.counts.enabled && processor.registry) {
      try {
        counts = await AnalyticsCountStore.create(redis, new LatestAnalytics(processor.registry));
        counts.attach(processor.registry);
      } catch (err) {
        await source.close();
        await processor.close();
        await sink.close();
        throw err;
      }
    }
    // Analytics events to webhooks / MQTT (the config's outputs section; none by default).
    const outputs = typeof options.processor === 'object' ? new AnalyticsOutputs(normaliseOutputs(options.processor.outputs), (e) => worker && safeEmit(worker, 'warning', e)) : undefined;
    if (outputs && processor.registry) outputs.attach(processor.registry);
    worker = new RedisWorker(source, sink, processor);
    worker.#counts = counts;
    worker.#outputs = outputs;
    counts?.on('warning', (e: CamtrackError) => safeEmit(worker!, 'warning', e));
    const warn = (e: CamtrackError): void => safeEmit(worker!, 'warning', e);
    source.on('warning', warn);
    sink.on('warning', warn);
    return worker;
  }

  /** The cameras being worked, when a real pipeline processes them (serve lists and measures them). */
  get registry(): CameraRegistry | undefined {
    return this.#processor.registry;
  }

  /** Starts reading (the configured cameras, discovery). */
  async start(): Promise<void> {
    await this.source.start();
  }

  /** Reads camera `id` too. */
  addCamera(id: string): Promise<void> {
    return this.source.addCamera(id);
  }

  stats(): RedisWorkerStats {
    const source = this.source.stats();
    const sink = this.sink.stats();
    const cameras: Record<string, WorkerCameraSummary> = {};
    for (const [id, c] of Object.entries(source.cameras)) {
      cameras[id] = { read: c.read, claimed: c.claimed, written: c.acked, inFlight: c.inFlight, leased: c.leased, dropped: c.dropped };
    }
    return { consumer: this.source.consumer, url: this.source.endpoint.shown, cameras, source, sink };
  }

  /** Stops gracefully (see the file header): in-flight frames get `timeoutMs` to be written and acknowledged. */
  stop(timeoutMs: number): Promise<void> {
    this.#stopping ??= this.#doStop(timeoutMs);
    return this.#stopping;
  }

  async #doStop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.source.stop(timeoutMs);
    await this.#processor.close();
    await this.#counts?.close();
    await this.#outputs?.close(Math.max(0, deadline - Date.now()));
    await this.sink.drain(Math.max(0, deadline - Date.now()));
    await this.sink.close();
    await this.source.close();
  }

  #result(r: FrameResult): void {
    if (r.messageKey === undefined) {
      this.sink.writeResult(r);
      return;
    }
    const ack = this.source.settle(r.streamId, r.messageKey);
    this.sink.writeResult(r, undefined, { ack, done: (outcome) => this.source.written(r.streamId, ack.ids, outcome) });
    safeEmit(this, 'result', r);
  }

  #event(e: CameraEvent): void {
    this.sink.writeEvent(e);
    safeEmit(this, 'event', e);
  }
}
