/**
 * Camera leases across several `camtrack worker` processes (issue 11, "Several machines"; docs/redis.md "Several
 * workers"), on the Redis they already share, in the way BullMQ keeps its job locks: a lock with a token and a TTL,
 * renewed while working, every state change one Lua script.
 *
 * - Membership: each worker heartbeats into a sorted set (`<prefix>workers`, member = its consumer name, score = the
 *   server time at which it expires: now + ttlMs); a worker whose score passed is dead. One script heartbeats, drops
 *   the dead and returns the live ones, on Redis's clock (TIME), so workers' clocks do not matter.
 * - Placement: a camera belongs to the live worker with the highest rendezvous score (a hash of worker + camera), so
 *   every worker computes the same owner from the same live set, and a worker joining or leaving moves only the
 *   cameras it wins or held.
 * - Lease: `<prefix>lease:<camera>` = "<worker> <token> <nonce>" with a TTL of ttlMs, taken only when free (SET after
 *   GET in one script); the token is INCR of `<prefix>fence:<camera>`, so each holding gets a new value. The holder
 *   renews it every heartbeat (PEXPIRE only if the value is still its own). Every write and acknowledgement of the
 *   camera checks that value in the same script (src/sinks/redis.ts XADD_ACK, the source's fenced XACK): a worker
 *   paused past its TTL (SIGSTOP, a long GC pause) finds its writes refused ('FENCED') once the lease has moved.
 * - Moves: a worker that should no longer own a camera (a new worker won it) stops reading it, lets its frames in
 *   flight finish (up to a bound), then releases the lease; the winner takes it on its next heartbeat and first
 *   claims every entry still pending in the camera's group (XAUTOCLAIM from 0, min-idle 0), so a dead owner's frames
 *   are processed, not lost. A renewal that fails (the lease expired and was taken) stops the camera at once.
 *
 * Threads: main thread only; one tick at a time.
 */
import type { Redis } from 'ioredis';

import type { Static } from '@sinclair/typebox';

import type { RedisLeaseOptionsSchema } from '../config/schema.js';

export type LeaseOptions = Static<typeof RedisLeaseOptionsSchema>;

/** What the lease manager asks of the source. */
export interface LeaseHooks {
  /** The lease of `camera` is ours (`value` fences its writes): read it, its pending entries first. */
  acquired(camera: string, value: string): Promise<void>;
  /** The lease was lost (a renewal found another value or none): stop reading `camera` now. */
  lost(camera: string): void;
  /** `camera` should move to another worker: stop reading it and resolve once its frames in flight are done. */
  handOver(camera: string): Promise<void>;
}

export interface LeaseStats {
  /** Live workers (by the last heartbeat), this one included. */
  live: string[];
  /** Cameras this worker holds. */
  held: string[];
  acquired: number;
  lost: number;
  released: number;
  heartbeats: number;
  /** Ticks that failed (Redis away). */
  failedTicks: number;
}

/** Heartbeat: KEYS workers; ARGV name, ttlMs. Returns the live workers. */
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[1] ~= '' then redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1]) end
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;
/** Acquire: KEYS lease, fence; ARGV worker, ttlMs, nonce. Returns the new value, or false when held by anyone. */
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
local value = ARGV[1] .. ' ' .. token .. ' ' .. ARGV[3]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value
`;
/** Renew: KEYS lease; ARGV value, ttlMs. 1 when still ours. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
/** Release: KEYS lease; ARGV value. 1 when it was ours. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface LeaseCommands {
  camtrackHeartbeat(workers: string, name: string, ttlMs: number): Promise<string[]>;
  camtrackAcquire(lease: string, fence: string, worker: string, ttlMs: number, nonce: string): Promise<string | null>;
  camtrackRenew(lease: string, value: string, ttlMs: number): Promise<number>;
  camtrackRelease(lease: string, value: string): Promise<number>;
}

/** A 32-bit hash of `text` (FNV-1a, then murmur3's finaliser to spread nearby names). */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The live worker that owns `camera` (rendezvous / highest-random-weight hashing); ties go to the smaller name. */
export function rendezvousOwner(workers: readonly string[], camera: string): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const w of workers) {
    const score = hash32(`${w}\u0000${camera}`);
    if (score > bestScore || (score === bestScore && best !== undefined && w < best)) {
      best = w;
      bestScore = score;
    }
  }
  return best;
}

export class LeaseManager {
  readonly #client: Redis & LeaseCommands;
  readonly #options: LeaseOptions;
  readonly #name: string;
  readonly #cameras: () => Iterable<string>;
  readonly #hooks: LeaseHooks;
  /** Held leases: camera → value. */
  readonly #held = new Map<string, string>();
  /** Cameras being handed over (still held until released). */
  readonly #moving = new Set<string>();
  #live: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = false;
  #frozen = false;
  #acquired = 0;
  #lost = 0;
  #released = 0;
  #heartbeats = 0;
  #failedTicks = 0;

  /** `client`: a connection of the caller's (commands, not blocking reads); `cameras`: every camera that may be read. */
  constructor(client: Redis, options: LeaseOptions, name: string, cameras: () => Iterable<string>, hooks: LeaseHooks) {
    client.defineCommand('camtrackHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT });
    client.defineCommand('camtrackAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    client.defineCommand('camtrackRenew', { numberOfKeys: 1, lua: RENEW });
    client.defineCommand('camtrackRelease', { numberOfKeys: 1, lua: RELEASE });
    this.#client = client as Redis & LeaseCommands;
    this.#options = options;
    this.#name = name;
    this.#cameras = cameras;
    this.#hooks = hooks;
  }

  /** The lease key of a camera (its writes are fenced against it). */
  leaseKey(camera: string): string {
    return `${this.#options.prefix}lease:${camera}`;
  }

  /** Our lease value for `camera`, when we hold it. */
  held(camera: string): string | undefined {
    return this.#held.get(camera);
  }

  /** Starts heartbeating (the first tick now; resolves after it). */
  async start(): Promise<void> {
    await this.tick();
    this.#timer = setInterval(() => void this.tick(), this.#options.heartbeatMs);
    this.#timer.unref();
  }

  /**
   * One heartbeat: membership, renewals (a refused one: lost), hand-overs of cameras another live worker should own,
   * acquisitions of free cameras we should own. Never rejects; a failure (Redis away) waits for the next tick.
   */
  tick(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#ticking ??= this.#tick().finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    try {
      this.#live = await this.#client.camtrackHeartbeat(`${this.#options.prefix}workers`, this.#name, this.#options.ttlMs);
      this.#heartbeats++;
      if (!this.#live.includes(this.#name)) this.#live.push(this.#name);
      // Renewals, all in one round trip.
      const held = [...this.#held];
      if (held.length > 0) {
        const p = this.#client.pipeline() as unknown as { camtrackRenew: LeaseCommands['camtrackRenew']; exec(): Promise<[Error | null, unknown][] | null> };
        for (const [camera, value] of held) p.camtrackRenew(this.leaseKey(camera), value, this.#options.ttlMs);
        const replies = (await p.exec()) ?? [];
        held.forEach(([camera], i) => {
          const [err, ok] = replies[i] ?? [new Error('no reply'), 0];
          if (!err && Number(ok) !== 1 && this.#held.has(camera)) {
            this.#held.delete(camera);
            this.#moving.delete(camera);
            this.#lost++;
            this.#hooks.lost(camera);
          }
        });
      }
      for (const camera of this.#frozen ? [] : this.#cameras()) {
        if (this.#stopped) return;
        const owner = rendezvousOwner(this.#live, camera);
        const value = this.#held.get(camera);
        if (value !== undefined) {
          if (owner !== this.#name && !this.#moving.has(camera)) void this.#handOver(camera, value);
        } else if (owner === this.#name) {
          const nonce = Math.random().toString(36).slice(2, 8);
          const got = await this.#client.camtrackAcquire(this.leaseKey(camera), `${this.#options.prefix}fence:${camera}`, this.#name, this.#options.ttlMs, nonce);
          if (got) {
            this.#held.set(camera, got);
            this.#acquired++;
            await this.#hooks.acquired(camera, got);
          }
        }
      }
    } catch {
      this.#failedTicks++;
    }
  }

  /** Stops reading `camera`, waits for its work in flight (the hook bounds it), releases the lease. */
  async #handOver(camera: string, value: string): Promise<void> {
    this.#moving.add(camera);
    try {
      await this.#hooks.handOver(camera);
      if (this.#held.get(camera) !== value) return; // lost meanwhile
      await this.#client.camtrackRelease(this.leaseKey(camera), value);
      this.#held.delete(camera);
      this.#released++;
    } catch {
      // Redis away: the lease expires by itself.
    } finally {
      this.#moving.delete(camera);
    }
  }

  /** A fenced read found the lease gone before a renewal did: forget it now (counted as lost, the hook told). */
  lostNow(camera: string): void {
    if (!this.#held.delete(camera)) return;
    this.#moving.delete(camera);
    this.#lost++;
    this.#hooks.lost(camera);
  }

  /** Keeps renewing what is held, but takes and hands over nothing more (a worker stopping). */
  freeze(): void {
    this.#frozen = true;
  }

  /**
   * Stops heartbeating; releases every lease still held (the caller has finished their work) and leaves the live
   * set, so other workers take the cameras at their next heartbeat instead of after ttlMs.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#ticking;
    try {
      const p = this.#client.pipeline() as unknown as {
        camtrackRelease: LeaseCommands['camtrackRelease'];
        zrem(key: string, member: string): unknown;
        exec(): Promise<unknown>;
      };
      for (const [camera, value] of this.#held) p.camtrackRelease(this.leaseKey(camera), value);
      p.zrem(`${this.#options.prefix}workers`, this.#name);
      await p.exec();
      this.#released += this.#held.size;
      this.#held.clear();
    } catch {
      /* Redis away: the leases expire */
    }
  }

  stats(): LeaseStats {
    return {
      live: [...this.#live],
      held: [...this.#held.keys()],
      acquired: this.#acquired,
      lost: this.#lost,
      released: this.#released,
      heartbeats: this.#heartbeats,
      failedTicks: this.#failedTicks,
    };
  }
}
