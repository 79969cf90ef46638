/**
 * Cumulative line counts kept in Redis (docs/analytics.md, "Counts kept in Redis"): one hash per camera
 * (`redis.counts.key`, default `camera_{id}_analytics`), one field per line id holding `{ in, out, per_class }` in
 * the wire format's names (the line entry of the analytics_counts message). When a camera with an analytics section
 * starts, its hash is read and added to its stage's counts (Stream#addAnalyticsCounts()), so a restart or the camera
 * moving to another worker continues them; while it runs, its hash is written at most every `intervalMs` after a
 * crossing (or a reset), and once more when it stops and at close().
 *
 *   const latest = new LatestAnalytics(cameras);
 *   const store = await AnalyticsCountStore.create(redisOptions, latest);
 *   store.attach(cameras);     // seeds cameras added from now on (and those already there), writes their counts
 *   …
 *   await store.close();       // the last writes, then disconnects
 *
 * A camera's hash is never written before it was read (seeded): a write before would replace the stored counts. A
 * read that fails (Redis away) is tried again every intervalMs; meanwhile the camera counts from zero and nothing is
 * written for it. The seed is added natively at the stream's next frame, so a result already on its way may not have
 * it yet: the first write waits until every line's counts are at least the seeded ones (later ones write what the
 * results show, also lower counts after a reset or a changed analytics section, which counts from zero).
 *
 * Last writer wins: a camera that moves to another worker loses the crossings counted since its last write on the
 * old one (at most `intervalMs` of them when the old worker died; none when it let the camera go and wrote at stop).
 * Secrets: errors pass src/redis/client.ts redisError() (URL redacted). Main thread only; no per-frame Redis command.
 */
import { EventEmitter } from 'node:events';

import type { Redis } from 'ioredis';

import type { CameraEvent, CameraRegistry } from '../cameras/registry.js';
import type { NormalisedRedisOptions } from '../config.js';
import type { CamtrackError } from '../errors.js';
import { connectOnce, createRedisClient, redisEndpoint, redisError, type RedisEndpoint } from '../redis/client.js';
import { redisKey } from '../redis/keys.js';
import { safeEmit } from '../safe-emit.js';
import type { Stream } from '../stream.js';
import type { FrameResult } from '../types.js';
import type { LatestAnalytics } from './analytics-latest.js';

type LineCounts = { in: number; out: number; perClass: { classId: number; in: number; out: number }[] };

interface CameraState {
  stream: Stream;
  seeded: boolean;
  seeding: boolean;
  dirty: boolean;
  /** The seeded counts per line: a write waits until the results show at least these. */
  floor: Map<string, { in: number; out: number }>;
}

export interface AnalyticsCountStoreStats {
  /** Cameras whose hash was read and added to their counts. */
  seeded: number;
  /** Hash writes. */
  written: number;
  /** Reads or writes that failed (Redis away, a bad stored value), each also a 'warning'. */
  failed: number;
}

const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A stored line field → counts, or undefined when it is not `{ in, out, per_class: [{ class_id, in, out }] }`. */
export function parseStoredLine(text: string): LineCounts | undefined {
  let v: { in?: unknown; out?: unknown; per_class?: unknown };
  try {
    v = JSON.parse(text) as typeof v;
  } catch {
    return undefined;
  }
  if (!v || !count(v.in) || !count(v.out) || !Array.isArray(v.per_class)) return undefined;
  const perClass: LineCounts['perClass'] = [];
  for (const c of v.per_class as { class_id?: unknown; in?: unknown; out?: unknown }[]) {
    if (!c || !count(c.class_id) || !count(c.in) || !count(c.out)) return undefined;
    perClass.push({ classId: c.class_id, in: c.in, out: c.out });
  }
  return { in: v.in, out: v.out, perClass };
}

export class AnalyticsCountStore extends EventEmitter {
  readonly options: NormalisedRedisOptions['counts'];
  readonly #redis: Redis;
  readonly #endpoint: RedisEndpoint;
  readonly #latest: LatestAnalytics;
  readonly #cameras = new Map<string, CameraState>();
  readonly #stats: AnalyticsCountStoreStats = { seeded: 0, written: 0, failed: 0 };
  #timer: NodeJS.Timeout | undefined;
  #detach: (() => void) | undefined;
  #closed = false;

  private constructor(redis: Redis, endpoint: RedisEndpoint, options: NormalisedRedisOptions['counts'], latest: LatestAnalytics) {
    super();
    this.#redis = redis;
    this.#endpoint = endpoint;
    this.options = options;
    this.#latest = latest;
  }

  /** Connects (ERR_CAMTRACK_REDIS when it cannot). */
  static async create(options: NormalisedRedisOptions, latest: LatestAnalytics): Promise<AnalyticsCountStore> {
    const endpoint = redisEndpoint(options.url);
    const redis = createRedisClient(endpoint, { name: 'camtrack:counts', connectTimeoutMs: options.connectTimeoutMs, commandTimeoutMs: options.commandTimeoutMs });
    await connectOnce(redis, endpoint);
    return new AnalyticsCountStore(redis, endpoint, options.counts, latest);
  }

  /** Seeds `registry`'s cameras (those there and those added later) and writes their counts; returns detach(). */
  attach(registry: CameraRegistry): () => void {
    const onAdded = (stream: Stream): void => this.#add(stream);
    const onResult = (r: FrameResult): void => {
      const st = this.#cameras.get(r.streamId);
      if (st && r.analytics && (r.analytics.events.length > 0 || !st.seeded)) {
        for (const e of r.analytics.events) if (e.type === 'line-cross') st.dirty = true;
      }
    };
    const onEvent = (e: CameraEvent): void => {
      if (e.type !== 'end') return;
      const st = this.#cameras.get(e.cameraId);
      if (st) void this.#write(e.cameraId, st);
    };
    const onReset = (id: string): void => {
      const st = this.#cameras.get(id);
      if (!st) return;
      st.floor.clear();
      st.dirty = true;
    };
    registry.on('added', onAdded);
    registry.on('result', onResult);
    registry.on('event', onEvent);
    this.#latest.on('reset', onReset);
    for (const c of registry.list()) this.#add(c.stream);
    this.#timer = setInterval(() => this.#tick(), this.options.intervalMs);
    this.#timer.unref();
    this.#detach = () => {
      registry.off('added', onAdded);
      registry.off('result', onResult);
      registry.off('event', onEvent);
      this.#latest.off('reset', onReset);
      this.#detach = undefined;
    };
    return this.#detach;
  }

  stats(): AnalyticsCountStoreStats {
    return { ...this.#stats };
  }

  /** Writes every seeded camera's counts once more, then disconnects. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#detach?.();
    await Promise.all([...this.#cameras].map(([id, st]) => this.#write(id, st)));
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #key(id: string): string {
    return redisKey(this.options.key, id);
  }

  #add(stream: Stream): void {
    if (!this.options.enabled || this.#closed || !stream.options.analytics) return;
    const st: CameraState = { stream, seeded: false, seeding: false, dirty: false, floor: new Map() };
    this.#cameras.set(stream.id, st);
    void this.#seed(stream.id, st);
  }

  async #seed(id: string, st: CameraState): Promise<void> {
    if (st.seeding || st.seeded) return;
    st.seeding = true;
    try {
      const stored = await this.#redis.hgetall(this.#key(id));
      if (this.#cameras.get(id) !== st || st.stream.ended) return;
      const lines: Record<string, LineCounts> = {};
      for (const [line, text] of Object.entries(stored)) {
        const c = parseStoredLine(text);
        if (!c) {
          this.#warn(redisError(new Error(`field ${JSON.stringify(line)} of ${this.#key(id)} is not { in, out, per_class }: left out`), this.#endpoint, 'reading analytics counts'));
          continue;
        }
        lines[line] = c;
        st.floor.set(line, { in: c.in, out: c.out });
      }
      if (Object.keys(lines).length > 0) st.stream.addAnalyticsCounts(lines);
      st.seeded = true;
      this.#stats.seeded++;
    } catch (err) {
      this.#warn(redisError(err, this.#endpoint, `reading analytics counts of camera ${JSON.stringify(id)}`));
    } finally {
      st.seeding = false;
    }
  }

  #tick(): void {
    for (const [id, st] of this.#cameras) {
      if (!st.seeded) void this.#seed(id, st);
      else if (st.dirty) void this.#write(id, st);
    }
  }

  async #write(id: string, st: CameraState): Promise<void> {
    if (!st.seeded) return;
    let counts;
    try {
      counts = this.#latest.counts(id);
    } catch {
      if (this.#cameras.get(id) === st) this.#cameras.delete(id); // removed: its final counts were written at its 'end'
      return;
    }
    if (counts.frame_id === null) return; // no result yet: nothing counted here, the stored counts stay
    for (const [line, f] of st.floor) {
      const l = counts.lines[line];
      if (l && (l.in < f.in || l.out < f.out)) return; // the seed is not in the results yet
    }
    st.floor.clear(); // seen once: lower counts from now on are a reset or a changed section, written as they are
    const fields: Record<string, string> = {};
    for (const [line, l] of Object.entries(counts.lines)) fields[line] = JSON.stringify(l);
    if (Object.keys(fields).length === 0) return;
    st.dirty = false;
    try {
      await this.#redis.hset(this.#key(id), fields);
      this.#stats.written++;
    } catch (err) {
      st.dirty = true;
      this.#warn(redisError(err, this.#endpoint, `writing analytics counts of camera ${JSON.stringify(id)}`));
    }
  }

  #warn(err: CamtrackError): void {
    this.#stats.failed++;
    safeEmit(this, 'warning', err);
  }
}
