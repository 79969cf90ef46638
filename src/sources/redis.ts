/**
 * The Redis source (issue 11; docs/redis.md "Input"): frames of many cameras read from their input streams
 * (`camera_{id}_input`) through consumer groups (`inference_consumer_{id}`), by a few sharded readers, and
 * acknowledged only once their result is written (or once they are known to give none, counted by cause).
 *
 *   const source = await RedisSource.create(options, { frame: (cameraId, f) => processor.push(cameraId, f) });
 *   await source.addCamera('door');
 *   …                                  // per result: const ack = source.settle('door', r.messageKey)
 *   source.written('door', ack.ids, true);  // after the sink wrote the result and acknowledged ack.ids
 *   await source.stop(5000); await source.close();
 *
 * Readers. `readers` connections (default 2), each reading the cameras a hash of their id gives it; never one
 * connection or task per camera. A reader polls its cameras with `XREADGROUP GROUP g c COUNT n STREAMS key >`,
 * many cameras per round trip (MULTI/EXEC, up to `MAX_ENTRIES_PER_POLL` entries asked at once). XREADGROUP can only
 * block on streams of one group, and each camera has its own group by default, so when a whole pass finds nothing
 * the reader blocks on all its streams at once with `XREAD BLOCK blockMs STREAMS …` from the ids its groups had
 * delivered (read in the same transaction as the poll, so no entry can slip in between), then polls again. A camera
 * whose in-flight bound (`maxInFlight`: entries read and not yet acknowledged) is reached is left out of reads: its
 * backlog stays in Redis. When a camera gets room back while its reader is blocked, CLIENT UNBLOCK wakes it.
 *
 * Acknowledgement. Entries of a camera are handed to `frame()` in id order and stay in flight until settled:
 * `settle(camera, id)` (its result is ready) returns what to acknowledge: it and every earlier in-flight entry of
 * the camera (a camera's results come in frame order, so those frames gave none: dropped in the pipeline); the
 * caller acknowledges them atomically with the result's XADD (src/sinks/redis.ts) and reports with `written()`. `drop()` acknowledges an entry the
 * processor knows will give no result (not a JPEG). Entries too old when read (`maxFrameAgeMs`) and entries that are
 * not frames (no frame field) are acknowledged at once. Every entry ends acknowledged with a result written or in
 * exactly one drop cause, or stays pending for another worker to claim (when its result could not be written).
 *
 * Recovery. At a camera's start its own pending entries (a restarted worker with the same consumer name) are read
 * again first; every claimIdleMs / 2, entries idle longer than `claimIdleMs` in other consumers (a dead worker) are
 * claimed with XAUTOCLAIM. A lost connection is retried forever; a group that vanished (Redis restarted empty) is
 * created again. Every trimIntervalMs each input stream is trimmed (XTRIM MINID) up to the oldest entry some group
 * has not acknowledged, so a stream whose consumers all keep up never grows.
 *
 * Threads: main thread only. Warnings: 'warning' events (CamtrackError), one per cause per camera.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';

import type { Redis } from 'ioredis';

import { normaliseRedisOptions, type NormalisedRedisOptions, type RedisOptions } from '../config.js';
import { CamtrackError, InvalidStateError } from '../errors.js';
import { connectOnce, createRedisClient, isReplyError, redisEndpoint, redisError, type RedisEndpoint } from '../redis/client.js';
import { parseInputEntry, type InputFrame } from '../redis/frames.js';
import { redisKey, streamIds } from '../redis/keys.js';
import { trimAcknowledged } from '../redis/trim.js';
import { safeEmit } from '../safe-emit.js';
import type { WriteOutcome } from '../sinks/redis.js';
import { LeaseManager, type LeaseStats } from './leases.js';
import { hash, zeroDrops, type Camera, type Fields, type SourceDrops } from './redis-camera.js';
import { defineReadScripts, Reader, type FencedReadCommands, type ReaderHost } from './redis-reader.js';

export type { SourceDrops } from './redis-camera.js';

/** What a result acknowledges, and the lease that fences it. */
export interface SettledAck {
  key: string;
  group: string;
  ids: string[];
  fence?: { key: string; value: string };
}

export type SourceDropCause = 'decode' | 'pipeline';

export interface RedisSourceCameraStats {
  /** Entries read (by this consumer, own pending ones included). */
  read: number;
  /** Of them, claimed from other consumers (XAUTOCLAIM). */
  claimed: number;
  /** Handed to the processor. */
  processed: number;
  /** Acknowledged with their result written. */
  acked: number;
  inFlight: number;
  /** Read now (leases: held by this worker). */
  active: boolean;
  /** Times this worker acquired its lease. */
  leased: number;
  dropped: SourceDrops;
}

export interface RedisSourceStats {
  url: string;
  consumer: string;
  connected: boolean;
  reconnects: number;
  /** Read round trips (polls), XREAD waits, CLIENT UNBLOCK wake-ups, XTRIM calls and entries trimmed. */
  polls: number;
  waits: number;
  wakeups: number;
  trims: number;
  trimmed: number;
  cameras: Record<string, RedisSourceCameraStats>;
  /** Leases (redis.leases.enabled). */
  leases?: LeaseStats;
  lastError?: string;
}

/** What the source does with frames. */
export interface SourceHandlers {
  /** A frame to process, in its camera's entry order (claimed entries may come later than newer ones). */
  frame(cameraId: string, frame: InputFrame): void;
  /** A camera is about to be read (added, or its lease taken): get ready for its frames. A rejection leaves it unread. */
  camera?(cameraId: string): Promise<void>;
  /** A camera is no longer read here (its lease moved or was lost); its entries still in flight give no result. */
  released?(cameraId: string): Promise<void>;
}

/** XACK only while the lease is ours: KEYS input, lease; ARGV group, lease value, ids… */
const FENCED_ACK = `
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return redis.error_reply('FENCED the lease ' .. KEYS[2] .. ' has moved') end
return redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 3))
`;

interface FencedAckCommand {
  camtrackFencedAck(input: string, lease: string, group: string, fence: string, ...ids: string[]): unknown;
}

/** The fence of an entry abandoned when its camera's lease was lost: no lease value is ever this. */
const ABANDONED = '(abandoned)';

export class RedisSource extends EventEmitter {
  readonly options: NormalisedRedisOptions;
  readonly endpoint: RedisEndpoint;
  readonly consumer: string;
  readonly #handlers: SourceHandlers;
  /** Commands: groups, acks, claims, trims, discovery, CLIENT UNBLOCK. */
  readonly #cmd: Redis;
  readonly #readers: Reader[];
  readonly #cameras = new Map<string, Camera>();
  /** Acknowledgements to send on #cmd (drops), by camera and the lease value that fences them ('' = none). */
  readonly #acks = new Map<Camera, Map<string, string[]>>();
  readonly #leases: LeaseManager | undefined;
  #ackScheduled = false;
  #connected = false;
  #reconnects = 0;
  #polls = 0;
  #waits = 0;
  #wakeups = 0;
  #trims = 0;
  #trimmed = 0;
  #lastError: string | undefined;
  #running = false;
  #stopping = false;
  #closed = false;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #loops: Promise<void>[] = [];
  readonly #idleWaiters: (() => void)[] = [];

  private constructor(options: NormalisedRedisOptions, endpoint: RedisEndpoint, consumer: string, handlers: SourceHandlers, cmd: Redis, readerClients: Redis[]) {
    super();
    this.options = options;
    this.endpoint = endpoint;
    this.consumer = consumer;
    this.#handlers = handlers;
    this.#cmd = cmd;
    cmd.defineCommand('camtrackFencedAck', { numberOfKeys: 2, lua: FENCED_ACK });
    defineReadScripts(cmd);
    // The readers' view of the source: its options, and what to do with what they read.
    const host: ReaderHost = {
      options,
      consumer,
      endpoint,
      stopped: false,
      leaseKey: (id) => this.#leases?.leaseKey(id),
      ensureGroup: (cam) => this.#ensureGroup(cam),
      take: (cam, id, fields, claimed) => this.#take(cam, id, fields, claimed),
      readError: (cam, err) => this.#readError(cam, err),
      count: (what) => void (what === 'poll' ? this.#polls++ : this.#waits++),
      failed: (message) => void (this.#lastError = message),
    };
    Object.defineProperty(host, 'stopped', { get: () => this.#stopping || this.#closed });
    this.#readers = readerClients.map((client, i) => {
      defineReadScripts(client);
      return new Reader(i, client, host);
    });
    const readers = this.#readers;
    if (options.leases.enabled) {
      this.#leases = new LeaseManager(cmd, options.leases, consumer, () => [...this.#cameras.values()].filter((c) => !c.removed).map((c) => c.id), {
        acquired: async (id, value) => {
          const cam = this.#cameras.get(id);
          if (cam) await this.#activate(cam, value);
        },
        lost: (id) => {
          const cam = this.#cameras.get(id);
          if (cam) void this.#deactivate(cam, 0);
        },
        handOver: async (id) => {
          const cam = this.#cameras.get(id);
          if (cam) await this.#deactivate(cam, Math.min(options.closeTimeoutMs, options.leases.ttlMs));
        },
      });
    }
    let everReady = false;
    cmd.on('ready', () => {
      if (everReady) this.#reconnects++;
      everReady = true;
      this.#connected = true;
      this.#flushAcks();
    });
    cmd.on('close', () => {
      if (this.#connected && !this.#closed) this.#warnOnce(undefined, 'connection', redisError(new Error('connection lost; reconnecting'), endpoint, 'connection'));
      this.#connected = false;
    });
    cmd.on('error', (err: Error) => (this.#lastError = redisError(err, endpoint, 'connection').message));
    for (const r of readers) {
      r.client.on('error', (err: Error) => (this.#lastError = redisError(err, endpoint, 'read').message));
      r.client.on('ready', () => {
        r.clientId = undefined;
        void r.client.client('ID').then((id) => (r.clientId = Number(id)), () => undefined);
      });
    }
  }

  /**
   * Validates `options` (the `redis` section; `input` is what this reads), connects its command and reader
   * connections, and resolves once connected (ERR_CAMTRACK_REDIS otherwise, nothing left open). Reading starts
   * with start(); cameras come with addCamera() (and `input.cameras`, `input.discover` at start()).
   * `consumer`: this worker's name in the groups (default `<hostname>-<pid>`).
   */
  static async create(options: RedisOptions | NormalisedRedisOptions, handlers: SourceHandlers, consumer?: string): Promise<RedisSource> {
    const opts = normaliseRedisOptions(options);
    const endpoint = redisEndpoint(opts.url);
    const name = consumer ?? `${os.hostname()}-${process.pid}`;
    const cmd = createRedisClient(endpoint, { name: 'camtrack:source', connectTimeoutMs: opts.connectTimeoutMs, commandTimeoutMs: opts.commandTimeoutMs });
    const readers = Array.from({ length: opts.input.readers }, (_, i) =>
      createRedisClient(endpoint, { name: `camtrack:reader-${i}`, connectTimeoutMs: opts.connectTimeoutMs }),
    );
    const source = new RedisSource(opts, endpoint, name, handlers, cmd, readers);
    try {
      await connectOnce(cmd, endpoint);
      await Promise.all(readers.map((r) => connectOnce(r, endpoint)));
    } catch (err) {
      cmd.disconnect();
      for (const r of readers) r.disconnect();
      throw err;
    }
    return source;
  }

  /** The cameras read, by id. */
  get cameraIds(): string[] {
    return [...this.#cameras.keys()];
  }

  /**
   * Reads camera `id` from now on: creates its group when missing (from the start of the stream, MKSTREAM), reads its
   * own pending entries again first. Idempotent.
   */
  async addCamera(id: string): Promise<void> {
    this.#assertOpen();
    if (this.#cameras.has(id)) return;
    const reader = this.#readers[hash(id) % this.#readers.length]!;
    const cam: Camera = {
      id,
      key: redisKey(this.options.input.key, id),
      group: redisKey(this.options.input.group, id),
      reader,
      processing: [],
      writing: 0,
      ready: false,
      history: '0',
      claimCursor: '0-0',
      claimAll: false,
      active: false,
      fence: undefined,
      leased: 0,
      read: 0,
      claimed: 0,
      processed: 0,
      acked: 0,
      dropped: zeroDrops(),
      warned: new Set(),
      removed: false,
    };
    this.#cameras.set(id, cam);
    if (this.#leases) {
      // Read once leased (the next heartbeat, or at start()).
      if (this.#running) void this.#leases.tick();
      return;
    }
    await this.#activate(cam, undefined);
  }

  /** Starts reading `cam` (its group created if missing): own pending entries first, or, leased, every pending one. */
  async #activate(cam: Camera, fence: string | undefined): Promise<void> {
    try {
      await this.#handlers.camera?.(cam.id);
    } catch (err) {
      this.#warnOnce(cam, 'camera', err instanceof CamtrackError ? err : new CamtrackError(String(err), 'ERR_CAMTRACK_INTERNAL'));
      return;
    }
    cam.fence = fence;
    cam.active = true;
    if (fence !== undefined) {
      cam.leased++;
      cam.history = undefined;
      cam.claimAll = true;
      cam.claimCursor = '0-0';
    }
    cam.reader.cameras.add(cam);
    await this.#ensureGroup(cam).catch(() => undefined);
    this.#wakeReader(cam.reader);
  }

  /** Stops reading `cam`. `wait`: until its entries in flight are settled and written (at most `wait` ms). */
  async #deactivate(cam: Camera, wait: number): Promise<void> {
    cam.active = false;
    cam.reader.cameras.delete(cam);
    if (wait > 0 && cam.processing.length + cam.writing > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, wait);
        const check = setInterval(() => cam.processing.length + cam.writing === 0 && done(), 20);
        function done(): void {
          clearTimeout(t);
          clearInterval(check);
          resolve();
        }
      });
    }
    // What is still in flight stays pending in Redis: the camera's next owner claims it; our results for it are fenced.
    if (!cam.active) {
      cam.processing = [];
      await this.#handlers.released?.(cam.id).catch(() => undefined);
    }
  }

  /** Stops reading camera `id` (its in-flight entries are still settled). */
  removeCamera(id: string): void {
    const cam = this.#cameras.get(id);
    if (!cam) return;
    cam.removed = true;
    cam.active = false;
    cam.reader.cameras.delete(cam);
  }

  /** Starts the readers and the claim, trim and discovery timers; adds `input.cameras`. */
  async start(): Promise<void> {
    this.#assertOpen();
    if (this.#running) return;
    this.#running = true;
    for (const id of this.options.input.cameras) await this.addCamera(id);
    const { claimIdleMs, trimIntervalMs, discover, discoverIntervalMs } = this.options.input;
    if (discover) {
      await this.#discover();
      this.#every(discoverIntervalMs, () => this.#discover());
    }
    if (claimIdleMs > 0) this.#every(Math.max(50, Math.floor(claimIdleMs / 2)), () => this.#claimAll());
    if (trimIntervalMs > 0) this.#every(trimIntervalMs, () => this.trimInputs());
    for (const r of this.#readers) this.#loops.push(r.run());
    await this.#leases?.start();
  }

  /**
   * The result of entry `messageKey` of camera `cameraId` is ready: what to acknowledge with its XADD (the input key,
   * group, and this entry with every earlier one of the camera still in flight, which gave no result: counted as
   * dropped.pipeline once written); report the write with written(cameraId, ids, ok).
   */
  settle(cameraId: string, messageKey: string): SettledAck {
    const cam = this.#cameras.get(cameraId);
    if (!cam) return { key: '', group: '', ids: [] };
    const at = cam.processing.findIndex((e) => e.id === messageKey);
    const taken = at >= 0 ? cam.processing.splice(0, at + 1) : [];
    const ids = at >= 0 ? taken.map((e) => e.id) : [messageKey];
    // The lease the frame was read under; an entry no longer in flight here (abandoned when the lease was lost) gets a
    // value no lease ever has, so fencing refuses it whoever holds the camera now.
    const fence = at >= 0 ? taken[at]!.fence : this.#leases ? ABANDONED : undefined;
    cam.writing += ids.length;
    const ack: SettledAck = { key: cam.key, group: cam.group, ids };
    if (fence !== undefined && this.#leases) ack.fence = { key: this.#leases.leaseKey(cam.id), value: fence };
    return ack;
  }

  /**
   * The write of a settled result finished: 'written' — with its XACK (counted: 1 acked, the rest dropped.pipeline);
   * 'fenced' — refused because the camera's lease moved (dropped.fenced: left pending for its new owner); anything
   * else — left pending (dropped.unwritten; claimed again later, by this worker or another).
   */
  written(cameraId: string, ids: readonly string[], outcome: WriteOutcome): void {
    const cam = this.#cameras.get(cameraId);
    if (!cam) return;
    cam.writing -= ids.length;
    if (outcome === 'written') {
      cam.acked++;
      cam.dropped.pipeline += ids.length - 1;
    } else if (outcome === 'fenced') {
      cam.dropped.fenced += ids.length;
    } else {
      cam.dropped.unwritten += ids.length;
    }
    this.#roomChanged(cam);
  }

  /** Entry `messageKey` of `cameraId` will give no result (`cause`): acknowledged now, counted. */
  drop(cameraId: string, messageKey: string, cause: SourceDropCause, error?: CamtrackError): void {
    const cam = this.#cameras.get(cameraId);
    if (!cam) return;
    const at = cam.processing.findIndex((e) => e.id === messageKey);
    const fence = at >= 0 ? cam.processing[at]!.fence : this.#leases ? ABANDONED : undefined;
    if (at >= 0) cam.processing.splice(at, 1);
    cam.dropped[cause]++;
    if (error) this.#warnOnce(cam, cause, error);
    this.#ack(cam, messageKey, fence);
    this.#roomChanged(cam);
  }

  /** Counters per camera and of the connections. */
  stats(): RedisSourceStats {
    const cameras: Record<string, RedisSourceCameraStats> = {};
    for (const c of this.#cameras.values()) {
      cameras[c.id] = {
        read: c.read,
        claimed: c.claimed,
        processed: c.processed,
        acked: c.acked,
        inFlight: c.processing.length + c.writing,
        active: c.active,
        leased: c.leased,
        dropped: { ...c.dropped },
      };
    }
    const s: RedisSourceStats = {
      url: this.endpoint.shown,
      consumer: this.consumer,
      connected: this.#connected,
      reconnects: this.#reconnects,
      polls: this.#polls,
      waits: this.#waits,
      wakeups: this.#wakeups,
      trims: this.#trims,
      trimmed: this.#trimmed,
      cameras,
    };
    if (this.#leases) s.leases = this.#leases.stats();
    if (this.#lastError !== undefined) s.lastError = this.#lastError;
    return s;
  }

  /** Entries in flight over every camera. */
  get inFlight(): number {
    let n = 0;
    for (const c of this.#cameras.values()) n += c.processing.length + c.writing;
    return n;
  }

  /**
   * Stops reading (SIGTERM): no new entry is read or claimed; resolves once every entry in flight is settled and
   * written, or after `timeoutMs` (what is left stays pending in Redis for another worker). True when nothing was left.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.#stopping = true;
    this.#leases?.freeze();
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
    for (const r of this.#readers) this.#wakeReader(r, true);
    if (this.inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = await Promise.race([
      new Promise<boolean>((resolve) => this.#idleWaiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return idle;
  }

  /** Stops (at once), sends the acknowledgements still queued, and disconnects. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.stop(0);
    await this.#flushAcks();
    // Last, after the caller's results were written: other workers take the cameras at their next heartbeat.
    await this.#leases?.stop();
    this.#closed = true;
    for (const r of this.#readers) r.client.disconnect();
    await Promise.allSettled(this.#loops);
    try {
      await Promise.race([this.#cmd.quit(), new Promise((r) => setTimeout(r, 1000).unref())]);
    } catch {
      /* gone */
    }
    this.#cmd.disconnect();
  }

  /**
   * Trims every input stream up to what all its groups acknowledged: MINID = the oldest entry pending in some group,
   * or, for a group with nothing pending, the entry after the last one it read. Returns the entries removed.
   */
  async trimInputs(): Promise<number> {
    let removed = 0;
    for (const cam of this.#cameras.values()) {
      if (!this.#connected) break;
      if (!cam.active) continue;
      try {
        const n = await trimAcknowledged(this.#cmd, cam.key);
        if (n === undefined) continue;
        this.#trims++;
        removed += n;
      } catch (err) {
        if (!isReplyError(err)) this.#lastError = redisError(err, this.endpoint, 'XTRIM').message;
        // ERR no such key: nothing to trim.
      }
    }
    this.#trimmed += removed;
    return removed;
  }

  /** Hands one entry over, or acknowledges it now (stale, malformed). */
  #take(cam: Camera, id: string, fields: Fields | null, claimed: boolean): void {
    cam.read++;
    if (claimed) cam.claimed++;
    if (!fields || fields.length === 0) {
      cam.dropped.deleted++;
      this.#ack(cam, id);
      return;
    }
    const parsed = parseInputEntry(id, fields, this.options.input.fields);
    if (!parsed.ok) {
      cam.dropped.malformed++;
      this.#warnOnce(
        cam,
        'malformed',
        new CamtrackError(`camera ${JSON.stringify(cam.id)}: entry ${id} of ${cam.key} is not a frame: ${parsed.detail}`, 'ERR_CAMTRACK_INVALID_ARGUMENT', {
          stage: 'redis',
          hint: 'input entries need the JPEG bytes in the frame field (redis.input.fields; docs/redis.md, "Input"); such entries are acknowledged and counted as dropped.malformed',
        }),
      );
      this.#ack(cam, id);
      return;
    }
    const maxAge = this.options.input.maxFrameAgeMs;
    if (maxAge > 0 && Date.now() - parsed.frame.timestampMs > maxAge) {
      cam.dropped.stale++;
      this.#ack(cam, id);
      return;
    }
    cam.processing.push({ id, fence: cam.fence });
    cam.processed++;
    this.#handlers.frame(cam.id, parsed.frame);
  }

  #readError(cam: Camera, err: Error): void {
    if (/^FENCED/.test(err.message)) {
      // The lease moved while we were away (paused, cut off): stop now, as a failed renewal would.
      this.#leases?.lostNow(cam.id);
      return;
    }
    if (/NOGROUP/.test(err.message)) {
      // The stream or its group is gone (Redis restarted empty, the key deleted): created again before the next read.
      cam.ready = false;
      return;
    }
    this.#lastError = redisError(err, this.endpoint, `XREADGROUP ${cam.key}`).message;
    if (isReplyError(err)) this.#warnOnce(cam, 'read', redisError(err, this.endpoint, `XREADGROUP ${cam.key}`));
  }

  async #ensureGroup(cam: Camera): Promise<void> {
    try {
      await this.#cmd.call('XGROUP', 'CREATE', cam.key, cam.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!(isReplyError(err) && /BUSYGROUP/.test((err as Error).message))) {
        if (isReplyError(err)) this.#warnOnce(cam, 'group', redisError(err, this.endpoint, `XGROUP CREATE ${cam.key} ${cam.group}`));
        throw err;
      }
    }
    cam.ready = true;
  }

  /** XAUTOCLAIM of every camera with room: entries idle longer than claimIdleMs in other consumers. */
  async #claimAll(): Promise<void> {
    const minIdle = this.options.input.claimIdleMs;
    for (const cam of this.#cameras.values()) {
      if (this.#stopping || !this.#connected || !cam.active || !cam.ready || cam.claimAll) continue;
      const room = this.options.input.maxInFlight - cam.processing.length - cam.writing;
      if (room <= 0) continue;
      try {
        const cmd = this.#cmd as Redis & FencedReadCommands;
        const reply = (
          cam.fence !== undefined && this.#leases
            ? await cmd.camtrackFencedClaimBuffer(cam.key, this.#leases.leaseKey(cam.id), cam.group, this.consumer, room, cam.fence, minIdle, cam.claimCursor)
            : await this.#cmd.callBuffer('XAUTOCLAIM', cam.key, cam.group, this.consumer, minIdle, cam.claimCursor, 'COUNT', room)
        ) as [
          Buffer,
          [Buffer, Fields | null][],
          Buffer[]?,
        ];
        cam.claimCursor = reply[0].toString('latin1');
        for (const [idBuf, fields] of reply[1]) {
          const id = idBuf.toString('latin1');
          if (cam.processing.some((e) => e.id === id)) continue; // our own, still in flight
          this.#take(cam, id, fields, true);
        }
        // Redis 7: entries deleted from the stream, removed from the PEL by XAUTOCLAIM itself.
        const deleted = reply[2]?.length ?? 0;
        cam.dropped.deleted += deleted;
        cam.read += deleted;
        cam.claimed += deleted;
      } catch (err) {
        if (isReplyError(err) && /NOGROUP/.test((err as Error).message)) cam.ready = false;
        else if (/^FENCED/.test((err as Error).message)) this.#leases?.lostNow(cam.id);
        else this.#lastError = redisError(err, this.endpoint, `XAUTOCLAIM ${cam.key}`).message;
      }
    }
  }

  /** SCAN for streams matching the key pattern; new ones become cameras. */
  async #discover(): Promise<void> {
    if (!this.#connected || this.#stopping) return;
    try {
      for await (const id of streamIds(this.#cmd, this.options.input.key)) {
        if (this.#stopping) break;
        if (!this.#cameras.has(id)) await this.addCamera(id);
      }
    } catch (err) {
      this.#lastError = redisError(err, this.endpoint, 'SCAN').message;
    }
  }

  // ---- acknowledgements and room ----

  #ack(cam: Camera, id: string, fence: string | undefined = cam.fence): void {
    const byFence = this.#acks.get(cam) ?? new Map<string, string[]>();
    const list = byFence.get(fence ?? '') ?? [];
    list.push(id);
    byFence.set(fence ?? '', list);
    this.#acks.set(cam, byFence);
    if (!this.#ackScheduled) {
      this.#ackScheduled = true;
      setImmediate(() => void this.#flushAcks());
    }
  }

  /**
   * Sends the queued acknowledgements (leased cameras: through the fenced script, so a camera whose lease moved keeps
   * them pending for its new owner); on a lost connection they wait for the next 'ready'.
   */
  async #flushAcks(): Promise<void> {
    this.#ackScheduled = false;
    if (this.#acks.size === 0 || !this.#connected) return;
    const batch: [Camera, string, string[]][] = [];
    for (const [cam, byFence] of this.#acks) for (const [fence, ids] of byFence) batch.push([cam, fence, ids]);
    this.#acks.clear();
    const p = this.#cmd.pipeline() as unknown as ReturnType<Redis['pipeline']> & FencedAckCommand;
    for (const [cam, fence, ids] of batch) {
      if (fence !== '' && this.#leases) p.camtrackFencedAck(cam.key, this.#leases.leaseKey(cam.id), cam.group, fence, ...ids);
      else p.call('XACK', cam.key, cam.group, ...ids);
    }
    const replies = (await p.exec().catch((e: Error) => batch.map(() => [e, null]))) ?? [];
    batch.forEach(([cam, fence, ids], i) => {
      const [err] = (replies[i] ?? [null]) as [Error | null, unknown];
      if (!err) return;
      if (/FENCED/.test(err.message)) {
        cam.dropped.fenced += ids.length;
        return;
      }
      if (!isReplyError(err)) for (const id of ids) this.#ack(cam, id, fence === '' ? undefined : fence);
    });
  }

  /** A camera's room changed: wake its reader if it is waiting; settle stop(). */
  #roomChanged(cam: Camera): void {
    if (this.#stopping) {
      if (this.inFlight === 0) for (const w of this.#idleWaiters.splice(0)) w();
      return;
    }
    if (cam.processing.length + cam.writing < this.options.input.maxInFlight) this.#wakeReader(cam.reader);
  }

  /** Ends a reader's idle wait or its XREAD BLOCK (CLIENT UNBLOCK on the command connection). */
  #wakeReader(r: Reader, force = false): void {
    r.wake?.();
    if (r.blocked && !r.unblocking && r.clientId !== undefined && (force || this.#connected)) {
      r.unblocking = true;
      this.#wakeups++;
      void this.#cmd.call('CLIENT', 'UNBLOCK', r.clientId).catch(() => (r.unblocking = false));
    }
  }

  #every(ms: number, fn: () => Promise<unknown>): void {
    let busy = false;
    const t = setInterval(() => {
      if (busy) return;
      busy = true;
      void fn().finally(() => (busy = false));
    }, ms);
    t.unref();
    this.#timers.push(t);
  }

  #warnOnce(cam: Camera | undefined, cause: string, err: CamtrackError): void {
    if (cam) {
      if (cam.warned.has(cause)) return;
      cam.warned.add(cause);
    }
    safeEmit(this, 'warning', err);
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('the Redis source is closed');
  }
}
