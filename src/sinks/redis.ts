/**
 * The Redis Streams sink (issue 11; docs/redis.md): every camera's results to its own stream (`camera_{id}_output`
 * by default, `redis.output.key`), one entry per result whose field (`data`) holds the wire-format result message
 * (src/wire: `toWireResult`, byte for byte what `camtrack run` prints), with the frame's input entry id as
 * `message_key` when the frame was tagged with one; optionally the event streams (`redis.events`).
 *
 *   const sink = await RedisSink.create({ url: 'redis://:pass@10.0.0.9:6379' });
 *   sink.attach(cameras);                // a CameraRegistry: its 'result' and 'event' events
 *   …
 *   await sink.close();                  // writes what waits (up to closeTimeoutMs), then disconnects
 *
 * Writing. Results wait in a bounded queue per camera and go out in pipelined round trips: one pipeline of up to
 * `batchSize` XADDs (MAXLEN ~ `maxLen`) at a time, cameras taken in turn, so a camera's entries are written in its
 * frame order and no camera waits behind another's backlog. The listener only serialises and queues: it never waits
 * for Redis.
 *
 * Redis slow or away. ioredis queues nothing (src/redis/client.ts); the sink's queues are the only buffer. A camera
 * whose queue holds `maxPending` results: if its delivery is 'lossless' (files), its source is paused until the queue
 * is down to half (the stream's own delivery credit, src/delivery.ts: nothing dropped, the file simply waits); if
 * 'latest' (live cameras), its oldest waiting result is dropped and counted (`dropped.full`, and in the stream's
 * `dropped.consumer`). Events have one queue (`events.maxPending`, oldest dropped). A pipeline that fails because
 * the connection was lost or timed out is put back at the head of its queues and written again after the reconnect
 * (counted in `retried`): a write whose reply was lost may have been applied, so an entry can be written twice
 * (at-least-once; the duplicate has the same `message_key`), never silently lost. An entry Redis refuses (a reply
 * error, e.g. WRONGTYPE) is dropped and counted (`dropped.failed`), with one warning per key.
 *
 * Secrets: the URL is shown redacted (`redis://***@host:6379`) in stats and warnings; every error passes
 * src/redis/client.ts redisError().
 *
 * Threads: main thread only. Ownership: the sink owns its connection; attach() adds listeners that detach()/close()
 * remove. Warnings are 'warning' events (CamtrackError); a sink with no 'warning' listener drops them silently.
 */
import { EventEmitter } from 'node:events';

import type { ChainableCommander, Redis } from 'ioredis';

import type { CameraEvent, CameraRegistry } from '../cameras/registry.js';
import { normaliseRedisOptions, type NormalisedRedisOptions, type RedisEventKind, type RedisOptions } from '../config.js';
import { InvalidStateError, type CamtrackError } from '../errors.js';
import { connectOnce, createRedisClient, isReplyError, redisEndpoint, redisError, type RedisEndpoint } from '../redis/client.js';
import { redisKey } from '../redis/keys.js';
import { safeEmit } from '../safe-emit.js';
import type { Stream } from '../stream.js';
import type { FrameResult } from '../types.js';
import { toWireAnalyticsEventMessage, toWireErrorMessage, toWireMetricsMessage, toWireResult, toWireStateMessage } from '../wire/index.js';

/** Why waiting entries were not written. */
export interface SinkDrops {
  /** The queue was full while Redis was slow or away (oldest dropped). */
  full: number;
  /** Redis refused the write (a reply error such as WRONGTYPE). */
  failed: number;
  /** Still waiting when close() gave up (closeTimeoutMs). */
  closed: number;
  /** Refused by fencing: the camera's lease had moved to another worker (camtrack worker; its input stays pending). */
  fenced: number;
}

/** One camera's output counters. */
export interface RedisSinkCameraStats {
  /** Output entries written (a retried write counts once per success). */
  written: number;
  /** Results waiting to be written. */
  pending: number;
  dropped: SinkDrops;
  /** The camera's source is paused because its queue is full (lossless delivery). */
  paused: boolean;
}

/** The sink's counters (monotonic, except `pending` and `connected`). */
export interface RedisSinkStats {
  /** The server, redacted. */
  url: string;
  connected: boolean;
  /** Times the connection was lost, and times it came back. */
  disconnects: number;
  reconnects: number;
  /** Round trips (pipelines) sent, and entries sent again after a lost connection or a timeout. */
  pipelines: number;
  retried: number;
  /** Of the retried results of a worker, those Redis had already written (their input acknowledged): not written twice. */
  duplicatesSkipped: number;
  /** Results: totals over every camera. */
  written: number;
  pending: number;
  dropped: SinkDrops;
  cameras: Record<string, RedisSinkCameraStats>;
  /** Event messages (redis.events), all streams together. */
  events: { written: number; pending: number; dropped: SinkDrops };
  /** The latest failure, redacted. */
  lastError?: string;
}

/** Input entries a result acknowledges (key, group, entry ids), and the lease its write must still hold. */
export interface InputAck {
  key: string;
  group: string;
  ids: string[];
  /** Written (and acknowledged) only while GET key == value; else refused as 'fenced'. */
  fence?: { key: string; value: string };
}

/** What became of a queued entry. */
export type WriteOutcome = 'written' | 'fenced' | 'failed' | 'full' | 'closed';

/**
 * XADD of a result, then XACK of its input entries only if the XADD succeeded: one script, so an input entry is never
 * acknowledged without its output (a refused XADD, e.g. WRONGTYPE, raises and stops the script). With a lease key,
 * nothing happens unless the lease still holds the writer's value (fencing: src/sources/leases.ts). An input entry
 * that is no longer pending was acknowledged by an earlier run of this script whose reply was lost: nothing is
 * written again (nil reply), so a worker's outputs are exactly one per input entry even across reconnects.
 * KEYS: output stream, input stream, lease ('' = none). ARGV: maxLen (0 = no trimming), field, payload, group,
 * lease value, entry ids…
 */
const XADD_ACK = `
if KEYS[3] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[5] then
  return redis.error_reply('FENCED the lease ' .. KEYS[3] .. ' has moved')
end
if #ARGV > 5 then
  -- Already acknowledged (this script ran and its reply was lost, so it is being sent again): written once, no duplicate.
  local own = ARGV[#ARGV]
  if #redis.call('XPENDING', KEYS[2], ARGV[4], own, own, 1) == 0 then return false end
end
local id
if tonumber(ARGV[1]) > 0 then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', ARGV[2], ARGV[3])
else
  id = redis.call('XADD', KEYS[1], '*', ARGV[2], ARGV[3])
end
if #ARGV > 5 then redis.call('XACK', KEYS[2], ARGV[4], unpack(ARGV, 6)) end
return id
`;

interface XaddAckCommand {
  camtrackXaddAck(output: string, input: string, lease: string, maxLen: string, field: string, payload: string, group: string, fence: string, ...ids: string[]): unknown;
}

/** One entry waiting to be written. */
interface Entry {
  key: string;
  payload: string;
  maxLen: number;
  /** Input entries acknowledged by the same script as the XADD, only when it succeeds (the worker's XACK). */
  ack?: InputAck;
  /** Told once whether the entry was written (true) or dropped (false). */
  done?: (outcome: WriteOutcome) => void;
}

/** A FIFO with a moving head: O(1) push, shift and unshift of what was just taken. */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;
  get size(): number {
    return this.#items.length - this.#head;
  }
  push(x: T): void {
    this.#items.push(x);
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const x = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined as unknown as T;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return x;
  }
  /** Puts `xs` back at the head, in their order. */
  unshiftAll(xs: T[]): void {
    if (xs.length === 0) return;
    if (this.#head >= xs.length) {
      this.#head -= xs.length;
      for (let i = 0; i < xs.length; i++) this.#items[this.#head + i] = xs[i]!;
    } else {
      this.#items = [...xs, ...this.#items.slice(this.#head)];
      this.#head = 0;
    }
  }
}

const zeroDrops = (): SinkDrops => ({ full: 0, failed: 0, closed: 0, fenced: 0 });

/** A camera's queue and counters. */
class CameraQueue {
  readonly entries = new Fifo<Entry>();
  written = 0;
  readonly dropped = zeroDrops();
  /** Its stream, for pausing (lossless) and counting drops (latest); undefined when written without a registry. */
  stream: Stream | undefined;
  paused = false;
  constructor(readonly id: string) {}
}

/** A batch in flight: what each command of the pipeline belongs to. */
interface Sent {
  queue: CameraQueue | undefined;
  entry: Entry;
  /** Index of the entry's XADD among the pipeline's commands. */
  at: number;
}

export class RedisSink extends EventEmitter {
  readonly options: NormalisedRedisOptions;
  readonly endpoint: RedisEndpoint;
  readonly #client: Redis;
  readonly #cameras = new Map<string, CameraQueue>();
  readonly #events = new Fifo<Entry>();
  readonly #eventStats = { written: 0, dropped: zeroDrops() };
  readonly #enabled: ReadonlySet<RedisEventKind>;
  /** Keys that already got a reply-error warning (one per key). */
  readonly #warnedKeys = new Set<string>();
  #pending = 0;
  #flushing = false;
  #start = 0;
  #connected = false;
  #everConnected = false;
  #disconnects = 0;
  #reconnects = 0;
  #pipelines = 0;
  #retried = 0;
  #duplicates = 0;
  #lastError: string | undefined;
  #detach: (() => void) | undefined;
  #metricsTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  private constructor(options: NormalisedRedisOptions, endpoint: RedisEndpoint, client: Redis) {
    super();
    this.options = options;
    this.endpoint = endpoint;
    this.#client = client;
    this.#enabled = new Set(options.events.enabled);
    client.on('ready', () => {
      if (this.#everConnected) this.#reconnects++;
      this.#everConnected = true;
      this.#connected = true;
      this.#schedule();
    });
    client.on('error', (err: Error) => {
      this.#lastError = redisError(err, endpoint, 'connection').message;
    });
    // One warning per outage, when the connection that was up is lost (ioredis reconnects by itself).
    client.on('close', () => {
      if (!this.#connected) return;
      this.#connected = false;
      this.#disconnects++;
      if (!this.#closed && !this.#closing) {
        this.#warn(redisError(new Error('connection lost; reconnecting (results wait, bounded: redis.output.maxPending)'), endpoint, 'connection'));
      }
    });
  }

  /**
   * Validates `options` (ConfigError naming the field), connects, and resolves once connected. A server that cannot
   * be reached, or refuses the credentials, rejects with ERR_CAMTRACK_REDIS (password never in it) and leaves
   * nothing open. Once connected, a lost connection is retried forever.
   */
  static async create(options: RedisOptions | NormalisedRedisOptions = {}): Promise<RedisSink> {
    const opts = normaliseRedisOptions(options);
    const endpoint = redisEndpoint(opts.url);
    const client = createRedisClient(endpoint, {
      name: 'camtrack:sink',
      connectTimeoutMs: opts.connectTimeoutMs,
      commandTimeoutMs: opts.commandTimeoutMs,
    });
    client.defineCommand('camtrackXaddAck', { numberOfKeys: 3, lua: XADD_ACK });
    const sink = new RedisSink(opts, endpoint, client);
    await connectOnce(client, endpoint);
    if (sink.#enabled.has('metrics')) {
      sink.#metricsTimer = setInterval(() => sink.#writeMetrics(), opts.events.metricsIntervalMs);
      sink.#metricsTimer.unref();
    }
    return sink;
  }

  /** The registry whose cameras' metrics the 'metrics' event stream reports (set by attach()). */
  #registry: CameraRegistry | undefined;

  /**
   * Writes every result and event of `registry` (all cameras, all models) from now on, and its cameras' stats to the
   * 'metrics' stream when enabled. `accept(r)`, when given, is asked first: false leaves a result out (`camtrack run
   * --max-frames`). One registry at a time; returns a function that stops it (close() does too).
   */
  attach(registry: CameraRegistry, options: { accept?: (r: FrameResult) => boolean } = {}): () => void {
    this.#assertOpen();
    if (this.#detach) throw new InvalidStateError('the Redis sink is already attached to a camera registry');
    const { accept } = options;
    const onResult = (r: FrameResult): void => {
      if (!accept || accept(r)) this.writeResult(r, registry.get(r.streamId));
    };
    const onEvent = (e: CameraEvent): void => this.writeEvent(e);
    registry.on('result', onResult);
    registry.on('event', onEvent);
    this.#registry = registry;
    this.#detach = () => {
      registry.off('result', onResult);
      registry.off('event', onEvent);
      this.#registry = undefined;
      this.#detach = undefined;
    };
    return this.#detach;
  }

  /**
   * Queues `r` for its camera's output stream (and the 'detection'/'analytics' event streams when enabled).
   * `stream`, when given, is paused while the camera's queue is full if its delivery is 'lossless'.
   * `write.ack`: input entries to acknowledge atomically with the XADD (one Lua script: XADD, then XACK only if the
   * XADD succeeded, and only while `ack.fence` holds; the worker's acknowledgement); `write.done`: told what became
   * of the entry.
   */
  writeResult(
    r: FrameResult,
    stream?: Stream,
    write: { ack?: InputAck; done?: (outcome: WriteOutcome) => void } = {},
  ): void {
    if (this.#closed) {
      write.done?.('closed');
      return;
    }
    const payload = JSON.stringify(toWireResult(r));
    const q = this.#queue(r.streamId);
    if (stream) q.stream = stream;
    const entry: Entry = { key: redisKey(this.options.output.key, r.streamId), payload, maxLen: this.options.output.maxLen };
    if (write.ack && (write.ack.ids.length > 0 || write.ack.fence)) entry.ack = write.ack;
    if (write.done) entry.done = write.done;
    const lossless = q.stream?.delivery === 'lossless';
    if (!lossless && q.entries.size >= this.options.output.maxPending) {
      const old = q.entries.shift()!;
      this.#pending--;
      q.dropped.full++;
      q.stream?._countConsumerDrop();
      old.done?.('full');
    }
    q.entries.push(entry);
    this.#pending++;
    if (lossless && !q.paused && q.entries.size >= this.options.output.maxPending) {
      q.paused = true;
      q.stream!._queueFull(true);
    }
    if (this.#enabled.has('detection') && (r.detections.length > 0 || r.tracks.length > 0 || r.trackEvents.length > 0)) {
      this.#queueEvent(this.options.events.detectionKey, payload);
    }
    // One analytics event message per event of the frame (line-cross, zone-enter, …; docs/analytics.md): frames
    // without events write nothing there (their counts are in the camera's output).
    if (this.#enabled.has('analytics') && r.analytics && r.analytics.events.length > 0) {
      for (const e of r.analytics.events) this.#queueEvent(this.options.events.analyticsKey, JSON.stringify(toWireAnalyticsEventMessage(e, r, this.#labels(r))));
    }
    this.#schedule();
  }

  /** The class names of `r`'s camera's model (for the analytics events' `label`), when the sink knows its registry. */
  #labels(r: FrameResult): readonly string[] {
    const registry = this.#registry;
    const model = registry?.list().find((c) => c.id === r.streamId)?.model;
    return (model !== undefined ? registry!.pipeline(model)?.model.classNames : undefined) ?? [];
  }

  /** Queues a camera's state, warning or error (and a pipeline's warnings, lost workers) for the 'alert' stream. */
  writeEvent(e: CameraEvent): void {
    if (this.#closed || !this.#enabled.has('alert')) return;
    let message: object;
    if (e.type === 'state') message = toWireStateMessage(e.cameraId, e.change);
    else if (e.type === 'warning' || e.type === 'error') message = toWireErrorMessage(e.type, e.cameraId, e.error);
    else if (e.type === 'workerError') message = toWireErrorMessage('warning', null, e.error);
    else return; // 'end' is the state change to ended/failed/stopped, already written
    this.#queueEvent(this.options.events.alertKey, JSON.stringify(message));
    this.#schedule();
  }

  /** Counters (see {@link RedisSinkStats}); `cameras` holds every camera that had a result. */
  stats(): RedisSinkStats {
    const dropped = zeroDrops();
    let written = 0;
    const cameras: Record<string, RedisSinkCameraStats> = {};
    for (const q of this.#cameras.values()) {
      written += q.written;
      dropped.full += q.dropped.full;
      dropped.failed += q.dropped.failed;
      dropped.closed += q.dropped.closed;
      dropped.fenced += q.dropped.fenced;
      cameras[q.id] = { written: q.written, pending: q.entries.size, dropped: { ...q.dropped }, paused: q.paused };
    }
    const s: RedisSinkStats = {
      url: this.endpoint.shown,
      connected: this.#connected,
      disconnects: this.#disconnects,
      reconnects: this.#reconnects,
      pipelines: this.#pipelines,
      retried: this.#retried,
      duplicatesSkipped: this.#duplicates,
      written,
      pending: this.#pending - this.#events.size,
      dropped,
      cameras,
      events: { written: this.#eventStats.written, pending: this.#events.size, dropped: { ...this.#eventStats.dropped } },
    };
    if (this.#lastError !== undefined) s.lastError = this.#lastError;
    return s;
  }

  /** Resolves once nothing waits and nothing is in flight, or after `timeoutMs`; true when drained. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#pending === 0 && !this.#flushing) return true;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      new Promise<boolean>((resolve) => this.#idleWaiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return drained;
  }

  /**
   * Stops listening, writes what waits for up to `closeTimeoutMs` (the rest is dropped and counted as `closed`),
   * resumes any camera it paused, and disconnects. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #doClose(): Promise<void> {
    this.#detach?.();
    if (this.#metricsTimer) clearInterval(this.#metricsTimer);
    await this.drain(this.options.closeTimeoutMs);
    this.#closed = true;
    for (const q of this.#cameras.values()) {
      for (let e = q.entries.shift(); e; e = q.entries.shift()) {
        q.dropped.closed++;
        e.done?.('closed');
      }
      this.#resume(q);
    }
    for (let e = this.#events.shift(); e; e = this.#events.shift()) this.#eventStats.dropped.closed++;
    this.#pending = 0;
    try {
      await Promise.race([this.#client.quit(), new Promise((r) => setTimeout(r, 1000).unref())]);
    } catch {
      /* already gone */
    }
    this.#client.disconnect();
    this.#connected = false;
  }

  #queue(id: string): CameraQueue {
    let q = this.#cameras.get(id);
    if (!q) this.#cameras.set(id, (q = new CameraQueue(id)));
    return q;
  }

  #queueEvent(key: string, payload: string): void {
    if (this.#events.size >= this.options.events.maxPending) {
      this.#events.shift();
      this.#pending--;
      this.#eventStats.dropped.full++;
    }
    this.#events.push({ key, payload, maxLen: this.options.events.maxLen });
    this.#pending++;
  }

  #writeMetrics(): void {
    const registry = this.#registry;
    if (!registry || registry.closed) return;
    const now = Date.now();
    for (const s of registry.stats().cameras) {
      this.#queueEvent(this.options.events.metricsKey, JSON.stringify(toWireMetricsMessage(s, now)));
    }
    this.#schedule();
  }

  #warn(err: CamtrackError): void {
    safeEmit(this, 'warning', err);
  }

  /** Starts a flush on a later tick if there is work, a connection and none running. */
  #schedule(): void {
    if (this.#flushing || this.#pending === 0 || !this.#connected || this.#closed) return;
    this.#flushing = true;
    setImmediate(() => void this.#flush());
  }

  /** Sends pipelines until nothing waits or the connection is lost. */
  async #flush(): Promise<void> {
    try {
      while (this.#pending > 0 && this.#connected && !this.#closed) {
        const sent = this.#take();
        if (sent.length === 0) break;
        const ok = await this.#send(sent);
        if (!ok) break; // lost: 'ready' schedules the next flush
      }
    } finally {
      this.#flushing = false;
      if (this.#pending > 0 && this.#connected && !this.#closed) this.#schedule();
      else if (this.#pending === 0) for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  /** Up to batchSize entries: cameras in turn (the first one rotates each batch), each its fair share, then events. */
  #take(): Sent[] {
    const size = this.options.output.batchSize;
    const active = [...this.#cameras.values()].filter((q) => q.entries.size > 0);
    const sent: Sent[] = [];
    if (active.length > 0) {
      const share = Math.max(1, Math.ceil(size / active.length));
      this.#start = (this.#start + 1) % active.length;
      for (let i = 0; i < active.length && sent.length < size; i++) {
        const q = active[(this.#start + i) % active.length]!;
        for (let n = 0; n < share && sent.length < size; n++) {
          const entry = q.entries.shift();
          if (!entry) break;
          sent.push({ queue: q, entry, at: 0 });
        }
      }
    }
    while (sent.length < size) {
      const entry = this.#events.shift();
      if (!entry) break;
      sent.push({ queue: undefined, entry, at: 0 });
    }
    this.#pending -= sent.length;
    return sent;
  }

  /** One pipelined round trip. False when the connection failed (the entries are back in their queues). */
  async #send(sent: Sent[]): Promise<boolean> {
    const pipeline = this.#client.pipeline() as ChainableCommander & XaddAckCommand;
    sent.forEach((s, n) => {
      const { entry } = s;
      s.at = n;
      if (entry.ack) {
        const { key, group, ids, fence } = entry.ack;
        pipeline.camtrackXaddAck(entry.key, key, fence?.key ?? '', String(entry.maxLen), this.#fieldOf(s), entry.payload, group, fence?.value ?? '', ...ids);
      } else {
        const trim = entry.maxLen > 0 ? ['MAXLEN', '~', String(entry.maxLen)] : [];
        pipeline.xadd(entry.key, ...trim, '*', this.#fieldOf(s), entry.payload);
      }
    });
    this.#pipelines++;
    let replies: [Error | null, unknown][];
    try {
      replies = (await pipeline.exec()) ?? [];
    } catch (err) {
      replies = sent.map(() => [err as Error, null]);
    }
    const retry: Sent[] = [];
    for (const s of sent) {
      const [err, reply] = replies[s.at] ?? [new Error('no reply'), null];
      if (!err) {
        if (reply === null && s.entry.ack && s.entry.ack.ids.length > 0) this.#duplicates++;
        this.#written(s);
        continue;
      }
      if (isReplyError(err)) {
        this.#failed(s, err);
        continue;
      }
      this.#lastError = redisError(err, this.endpoint, 'XADD').message;
      retry.push(s);
    }
    if (retry.length === 0) return true;
    this.#retried += retry.length;
    // Back at the head of their queues, in their order: per camera, entries stay in frame order.
    const byQueue = new Map<CameraQueue | undefined, Entry[]>();
    for (const s of retry) {
      const list = byQueue.get(s.queue) ?? [];
      list.push(s.entry);
      byQueue.set(s.queue, list);
    }
    for (const [q, entries] of byQueue) (q ? q.entries : this.#events).unshiftAll(entries);
    this.#pending += retry.length;
    // A timeout on a live connection is not a lost connection: try again on the next turn.
    return this.#connected;
  }

  #fieldOf(s: Sent): string {
    return s.queue ? this.options.output.field : this.options.events.field;
  }

  #written(s: Sent): void {
    if (s.queue) {
      s.queue.written++;
      this.#maybeResume(s.queue);
    } else {
      this.#eventStats.written++;
    }
    s.entry.done?.('written');
  }

  #failed(s: Sent, err: Error): void {
    if (/^FENCED/.test(err.message)) {
      // The camera's lease moved to another worker (src/sources/leases.ts): expected after a pause, counted, no warning.
      if (s.queue) {
        s.queue.dropped.fenced++;
        this.#maybeResume(s.queue);
      }
      s.entry.done?.('fenced');
      return;
    }
    if (s.queue) {
      s.queue.dropped.failed++;
      this.#maybeResume(s.queue);
    } else {
      this.#eventStats.dropped.failed++;
    }
    const e = redisError(err, this.endpoint, `XADD ${s.entry.key}`);
    this.#lastError = e.message;
    if (!this.#warnedKeys.has(s.entry.key)) {
      this.#warnedKeys.add(s.entry.key);
      this.#warn(e);
    }
    s.entry.done?.('failed');
  }

  /** A paused camera resumes once its queue is down to half. */
  #maybeResume(q: CameraQueue): void {
    if (q.paused && q.entries.size <= Math.floor(this.options.output.maxPending / 2)) this.#resume(q);
  }

  #resume(q: CameraQueue): void {
    if (!q.paused) return;
    q.paused = false;
    q.stream?._queueFull(false);
  }

  #assertOpen(): void {
    if (this.#closed || this.#closing) throw new InvalidStateError('the Redis sink is closed');
  }
}
