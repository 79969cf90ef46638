/**
 * One reader connection of the Redis source (src/sources/redis.ts) and the loop that reads its cameras: polls with
 * XREADGROUP (many cameras per MULTI), claims of a just-leased camera's pending entries (XAUTOCLAIM from 0-0), own
 * pending entries at a restart, and, when a whole pass finds nothing, one XREAD BLOCK over all its streams. With
 * leases, every read and claim is a script that first checks the camera's lease (a paused worker cannot take entries
 * off a camera that moved). The source owns the cameras, their counters and what becomes of each entry (ReaderHost).
 */
import type { Redis } from 'ioredis';

import type { NormalisedRedisOptions } from '../config.js';
import { redisError, type RedisEndpoint } from '../redis/client.js';
import { xinfoField, type Camera, type Entries, type Fields } from './redis-camera.js';

/**
 * Reads are fenced too: a worker paused past its TTL must not take entries off a camera that has moved (they would
 * go pending in its name, behind the new owner's back). XREADGROUP (non-blocking) and XAUTOCLAIM, each only while
 * the lease holds the reader's value. KEYS input, lease; ARGV group, consumer, count, fence [, min-idle, cursor].
 */
const FENCED_READ = `
if redis.call('GET', KEYS[2]) ~= ARGV[4] then return redis.error_reply('FENCED the lease ' .. KEYS[2] .. ' has moved') end
return redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
`;
const FENCED_CLAIM = `
if redis.call('GET', KEYS[2]) ~= ARGV[4] then return redis.error_reply('FENCED the lease ' .. KEYS[2] .. ' has moved') end
return redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[5], ARGV[6], 'COUNT', ARGV[3])
`;

export interface FencedReadCommands {
  camtrackFencedReadBuffer(input: string, lease: string, group: string, consumer: string, count: number, fence: string): unknown;
  camtrackFencedClaimBuffer(input: string, lease: string, group: string, consumer: string, count: number, fence: string, minIdle: number, cursor: string): unknown;
}

/** Defines the fenced read and claim scripts on `client`. */
export function defineReadScripts(client: Redis): void {
  client.defineCommand('camtrackFencedRead', { numberOfKeys: 2, lua: FENCED_READ });
  client.defineCommand('camtrackFencedClaim', { numberOfKeys: 2, lua: FENCED_CLAIM });
}

/** Most entries a reader asks for in one poll, over all the cameras of that poll. */
const MAX_ENTRIES_PER_POLL = 512;

/** What a reader needs from the source. */
export interface ReaderHost {
  readonly options: NormalisedRedisOptions;
  readonly consumer: string;
  readonly endpoint: RedisEndpoint;
  /** Reading is over (stop(), close()). */
  readonly stopped: boolean;
  /** The lease key of a camera, or undefined without leases. */
  leaseKey(cameraId: string): string | undefined;
  ensureGroup(cam: Camera): Promise<void>;
  /** One entry read (or claimed): hand it over or settle it now. */
  take(cam: Camera, id: string, fields: Fields | null, claimed: boolean): void;
  readError(cam: Camera, err: Error): void;
  count(what: 'poll' | 'wait'): void;
  failed(message: string): void;
}

/** One reader connection and the cameras it reads. */
export class Reader {
  readonly cameras = new Set<Camera>();
  clientId: number | undefined;
  blocked = false;
  unblocking = false;
  /** Ends the wait of an idle reader (no camera with room) or of one waiting for its connection. */
  wake: (() => void) | undefined;
  readonly #host: ReaderHost;

  constructor(readonly index: number, readonly client: Redis, host: ReaderHost) {
    this.#host = host;
  }

  /** Cameras of `r` that may be read now, with how many entries each may take. */
  #eligible(): { cam: Camera; room: number }[] {
    const out: { cam: Camera; room: number }[] = [];
    for (const cam of this.cameras) {
      const room = this.#host.options.input.maxInFlight - cam.processing.length - cam.writing;
      if (cam.ready && room > 0) out.push({ cam, room: Math.min(room, this.#host.options.input.count) });
    }
    return out;
  }

  async run(): Promise<void> {
    let start = 0;
    while (!this.#host.stopped) {
      try {
        if (this.client.status !== 'ready') {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              this.client.off('ready', done);
              this.wake = undefined;
              resolve();
            };
            this.client.once('ready', done);
            this.wake = done;
          });
          continue;
        }
        for (const cam of this.cameras) if (!cam.ready) await this.#host.ensureGroup(cam).catch(() => undefined);
        const eligible = this.#eligible();
        if (eligible.length === 0) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(done, this.#host.options.input.blockMs);
            function done(): void {
              clearTimeout(t);
              resolve();
            }
            this.wake = () => {
              this.wake = undefined;
              done();
            };
          });
          continue;
        }
        // A camera just leased: every entry pending in its group first (a dead or fenced owner's), in id order.
        const claims = eligible.filter((e) => e.cam.claimAll);
        if (claims.length > 0) {
          await this.#claimPoll(claims);
          continue;
        }
        // Own pending entries first (a restart with the same consumer name).
        const history = eligible.filter((e) => e.cam.history !== undefined);
        if (history.length > 0) {
          await this.#poll(history, 'history');
          continue;
        }
        // A pass over every eligible camera, a poll of at most MAX_ENTRIES_PER_POLL entries at a time.
        start = (start + 1) % eligible.length;
        const order = [...eligible.slice(start), ...eligible.slice(0, start)];
        let got = 0;
        const lastIds = new Map<Camera, string>();
        for (let i = 0; i < order.length && !this.#host.stopped; ) {
          const chunk: { cam: Camera; room: number }[] = [];
          let asked = 0;
          while (i < order.length && (chunk.length === 0 || asked + order[i]!.room <= MAX_ENTRIES_PER_POLL)) {
            asked += order[i]!.room;
            chunk.push(order[i++]!);
          }
          const { entries, delivered } = await this.#poll(chunk, '>');
          got += entries;
          for (const [cam, id] of delivered) lastIds.set(cam, id);
        }
        if (got > 0 || this.#host.stopped) continue;
        await this.#wait(lastIds);
      } catch (err) {
        if (this.#host.stopped) return;
        this.#host.failed(redisError(err, this.#host.endpoint, 'XREADGROUP').message);
        // A lost connection: the status check above waits for 'ready'. Anything else: a short pause, then again.
        if (this.client.status === 'ready') await new Promise((res) => setTimeout(res, 100));
      }
    }
  }

  /**
   * One transaction: XREADGROUP for each camera of `chunk` (`from`: '>' new entries, or 'history': this consumer's
   * own pending entries after the camera's history cursor) and, for '>', XINFO GROUPS to learn where each group
   * stands (for the XREAD wait). Hands the entries over.
   */
  async #poll(chunk: { cam: Camera; room: number }[], from: '>' | 'history'): Promise<{ entries: number; delivered: Map<Camera, string> }> {
    const multi = this.client.multi() as ReturnType<Redis['multi']> & FencedReadCommands;
    const lease = (cam: Camera): string | undefined => this.#host.leaseKey(cam.id);
    for (const { cam, room } of chunk) {
      if (from === '>' && cam.fence !== undefined && lease(cam) !== undefined) {
        multi.camtrackFencedReadBuffer(cam.key, lease(cam)!, cam.group, this.#host.consumer, room, cam.fence);
      } else {
        multi.callBuffer('XREADGROUP', 'GROUP', cam.group, this.#host.consumer, 'COUNT', room, 'STREAMS', cam.key, from === '>' ? '>' : cam.history ?? '0');
      }
      if (from === '>') multi.call('XINFO', 'GROUPS', cam.key);
    }
    this.#host.count('poll');
    const replies = ((await multi.exec()) ?? []) as [Error | null, unknown][];
    let entries = 0;
    const delivered = new Map<Camera, string>();
    const step = from === '>' ? 2 : 1;
    chunk.forEach(({ cam }, k) => {
      const [err, reply] = replies[k * step] ?? [new Error('no reply'), null];
      if (err) {
        this.#host.readError(cam, err);
        return;
      }
      const streams = reply as [Buffer, Entries][] | null;
      const list = streams?.[0]?.[1] ?? [];
      if (from === 'history') {
        // Read again after the last one; an empty answer: every own pending entry has been read again.
        if (list.length === 0) cam.history = undefined;
        else cam.history = list[list.length - 1]![0].toString('latin1');
      }
      for (const [idBuf, fields] of list) {
        // Own pending entries whose data was deleted come back with no fields.
        this.#host.take(cam, idBuf.toString('latin1'), fields, false);
        entries++;
      }
      if (from === '>') {
        const [ierr, groups] = replies[k * step + 1] ?? [new Error('no reply'), null];
        if (!ierr && Array.isArray(groups)) {
          const g = (groups as unknown[][]).find((x) => String(xinfoField(x, 'name')) === cam.group);
          if (g) delivered.set(cam, String(xinfoField(g, 'last-delivered-id')));
        }
      }
    });
    return { entries, delivered };
  }

  /** One transaction of XAUTOCLAIM … 0 <cursor> COUNT <room> for cameras just leased; a cursor back at 0-0 ends it. */
  async #claimPoll(chunk: { cam: Camera; room: number }[]): Promise<void> {
    const multi = this.client.multi() as ReturnType<Redis['multi']> & FencedReadCommands;
    const lease = (cam: Camera): string | undefined => this.#host.leaseKey(cam.id);
    for (const { cam, room } of chunk) {
      if (cam.fence !== undefined && lease(cam) !== undefined) {
        multi.camtrackFencedClaimBuffer(cam.key, lease(cam)!, cam.group, this.#host.consumer, room, cam.fence, 0, cam.claimCursor);
      } else {
        multi.callBuffer('XAUTOCLAIM', cam.key, cam.group, this.#host.consumer, 0, cam.claimCursor, 'COUNT', room);
      }
    }
    this.#host.count('poll');
    const replies = ((await multi.exec()) ?? []) as [Error | null, unknown][];
    chunk.forEach(({ cam }, k) => {
      const [err, reply] = replies[k] ?? [new Error('no reply'), null];
      if (err) {
        if (/NOGROUP/.test(err.message)) cam.ready = false;
        else this.#host.readError(cam, err);
        return;
      }
      const [cursor, entries, deleted] = reply as [Buffer, [Buffer, Fields | null][], Buffer[]?];
      cam.claimCursor = cursor.toString('latin1');
      if (cam.claimCursor === '0-0') cam.claimAll = false;
      for (const [idBuf, fields] of entries) {
        const id = idBuf.toString('latin1');
        if (cam.processing.some((e) => e.id === id)) continue;
        this.#host.take(cam, id, fields, true);
      }
      const n = deleted?.length ?? 0;
      cam.dropped.deleted += n;
      cam.read += n;
      cam.claimed += n;
    });
  }

  /** Blocks on every stream of `lastIds` for entries after those ids (XREAD BLOCK); CLIENT UNBLOCK ends it early. */
  async #wait(lastIds: Map<Camera, string>): Promise<void> {
    if (lastIds.size === 0) {
      await new Promise((res) => setTimeout(res, Math.min(100, this.#host.options.input.blockMs)));
      return;
    }
    const keys = [...lastIds.keys()].map((c) => c.key);
    const ids = [...lastIds.values()];
    this.blocked = true;
    this.#host.count('wait');
    try {
      // COUNT 1: only a wake-up; the entries are read through the groups next.
      await this.client.callBuffer('XREAD', 'COUNT', 1, 'BLOCK', this.#host.options.input.blockMs, 'STREAMS', ...keys, ...ids);
    } finally {
      this.blocked = false;
      this.unblocking = false;
    }
  }
}
