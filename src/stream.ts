/**
 * Stream: the handle of one camera/file/URL inside a Pipeline. Results arrive as a bounded async iterator
 * (`for await (const r of stream.results())`), as 'result' events, or through onResult(); track lifecycle as
 * 'track' events (TrackEvent: new / lost / refound / removed) and in each result's trackEvents. Stream events:
 * 'state' (state, previous), 'warning' (CamtrackError), 'error' (CamtrackError), 'end' (final state).
 * 'state' listeners get (state, previous, change: StateChange) — change.reason says why and change.error carries
 * the failure behind a 'stalled'/'reconnecting'/'failed'. Live streams reconnect by themselves (docs/ingest.md):
 * each failed attempt is a 'warning'; 'error' only when the stream gives up ('failed').
 * Created by Pipeline#addStream(); removed with Pipeline#removeStream() or stream.remove().
 * A pushed stream (input 'push') takes its frames from push(bytes, { frameId, ptsMs, meta, messageKey }) and ends with
 * end(); a lossless one (live: false) reports back-pressure as a Node writable does: push() returns false when the
 * queue is full, and 'drain' says when to push again (docs/push.md).
 * A listener that throws never stops delivery or the end of a stream: its error is rethrown on its own
 * (an uncaught exception, as from any EventEmitter listener) once the delivery is done.
 */
import { EventEmitter } from 'node:events';

import type { NormalisedStream, StreamOptionsPatch } from './config.js';
import { CamtrackError, describeValue, InvalidStateError, redactSecretsIn, redactUrl } from './errors.js';
import { checkFrameTag, FrameTagTable, VIDEO_REORDER_WINDOW, type FrameTag, type FrameTagCounts } from './frame-tags.js';
import { ResultQueue } from './result-queue.js';
import { SnapshotRequests, type Snapshot, type SnapshotNative, type SnapshotOptions } from './snapshot.js';
import { safeEmit } from './safe-emit.js';
import type { FrameResult, StateChange, StreamState, StreamStats } from './types.js';
import type { NativeAnalyticsCounts } from './native.js';

/** @internal what Stream needs from its pipeline. */
export interface StreamOwner {
  removeStream(id: string): Promise<void>;
  /** The stream's stats, computed for it alone (undefined once it is removed). */
  streamStats(stream: Stream): StreamStats | undefined;
  /** Pauses or resumes the stream's source (lossless delivery, src/delivery.ts). */
  setPaused(stream: Stream, paused: boolean): void;
  /** Validates `patch` against the stream's options and applies it natively; returns the new options. */
  configureStream(stream: Stream, patch: StreamOptionsPatch): NormalisedStream;
  /** NativePipeline.changeAnalyticsCounts() for this stream. */
  changeAnalyticsCounts(stream: Stream, counts: NativeAnalyticsCounts): void;
  /** Pushed streams: queues frame `seq` natively (NativePipeline.pushFrame); returns the frames queued after it. */
  pushFrame(stream: Stream, seq: number, bytes: Uint8Array, ptsMs: number, high: boolean): number;
  /** Pushed streams: no more frames (NativePipeline.endPush). */
  endPush(stream: Stream): void;
  /** The stream's native snapshot slot (src/snapshot.ts). */
  snapshotNative(stream: Stream): SnapshotNative;
}

/** The options of one pushed frame (Stream#push()). Every field is optional. */
export interface PushFrameOptions {
  /** The client's id of the frame (a non-negative integer), on its result as `frameId` (the wire's `frame_id`). */
  frameId?: number;
  /**
   * Presentation time in ms, on the result as `ptsMs` (and what `fpsLimit` counts by). Default: the time since the
   * stream's first push. A time that goes back is held at the last one (the stream's time line never goes back).
   */
  ptsMs?: number;
  /** Anything to get back on the frame's result, as `metadata` (kept in JS, never copied into native code). */
  meta?: Record<string, unknown>;
  /** The key of the message that carried the frame (a Redis entry id, …), on its result as `messageKey`. */
  messageKey?: string;
  /**
   * This frame's own priority (default 'normal': the stream's `priority` decides). 'high': the frame's batch position
   * goes ahead of normal frames of every stream, as a frame of a `priority: 'high'` stream does (on a live stream it
   * also waits for a position up to the starvation bound instead of being dropped at once): docs/scheduling.md. The
   * stream's own frames still come out in frame order, so a high frame never overtakes its stream's earlier frames.
   */
  priority?: 'normal' | 'high';
}

const PUSH_OPTION_KEYS = ['frameId', 'ptsMs', 'meta', 'messageKey', 'priority'];

export class Stream extends EventEmitter {
  readonly id: string;
  /** The URL with credentials removed. */
  readonly url: string;
  /** @internal native handle */
  readonly handle: number;
  /**
   * How results reach a consumer slower than the stream (option `delivery` resolved): 'lossless' pauses the source,
   * 'latest' drops the oldest waiting result (docs/delivery.md).
   */
  readonly delivery: 'lossless' | 'latest';
  /** Queues of this stream that are full (lossless): the source is paused while any is. */
  #fullQueues = 0;
  #options: Readonly<NormalisedStream>;
  #state: StreamState = 'connecting';
  #lastError: CamtrackError | undefined;
  readonly #queues = new Set<ResultQueue<FrameResult>>();
  readonly #owner: StreamOwner;
  #ended = false;
  #consumerDrops = 0;
  readonly #tags = new FrameTagTable();
  /** Pushed streams: frames accepted so far (the next push's sequence number), end() called, a 'drain' owed. */
  #pushSeq = 0;
  #pushEnded = false;
  #needDrain = false;
  #snapshots: SnapshotRequests | undefined;
  readonly #endPromise: Promise<StreamState>;
  #resolveEnd!: (s: StreamState) => void;

  /** @internal use Pipeline#addStream() */
  constructor(owner: StreamOwner, handle: number, options: NormalisedStream, delivery: 'lossless' | 'latest') {
    super();
    this.delivery = delivery;
    this.#owner = owner;
    this.handle = handle;
    this.id = options.id;
    this.url = redactUrl(streamUrl(options));
    this.#options = options;
    this.#endPromise = new Promise((resolve) => (this.#resolveEnd = resolve));
  }

  /** The stream's options in effect, complete (every default filled); configure() replaces them. */
  get options(): Readonly<NormalisedStream> {
    return this.#options;
  }

  /**
   * Changes the options of this running stream, from its next frame, without reopening its source:
   *
   *   stream.configure({ detection: { scoreThreshold: 0.5 }, fpsLimit: 5 });
   *
   * `patch` has the shape of the stream options and is merged into the current ones (a JSON Merge Patch: objects
   * merge, anything else replaces, `null` removes a field so that its default applies again, a tracker field the
   * pipeline's), then validated with the same schema as addStream(). Only the live-changeable options may change
   * (LIVE_STREAM_FIELDS: fpsLimit, detection, analytics, inference, motion, tracker, resultQueueSize); a field given with its current value is
   * not a change. Synchronous: when it returns, the new options are in effect — frames decoded from now on pass the
   * new fpsLimit, frames postprocessed from now on get the new detection options and tracker (results already on
   * their way to JS keep the old ones), and the results() queues of this stream have the new resultQueueSize (a
   * smaller one drops the oldest queued results, counted as dropped.consumer). A tracker of the same type changes
   * its parameters in place (tracks and ids continue); another type replaces it (ids start again at 1).
   * Returns the new options (also `stream.options`).
   * @throws ConfigError naming the path of a bad value, of an unknown option or of an option that cannot change on
   *   a running stream (then nothing changes); InvalidStateError when the stream was removed or the pipeline closed.
   */
  configure(patch: StreamOptionsPatch): Readonly<NormalisedStream> {
    this.#options = this.#owner.configureStream(this, patch);
    for (const q of this.#queues) q.setCapacity(this.#options.resultQueueSize);
    return this.#options;
  }

  /**
   * Zeroes the cumulative line counts of this stream's analytics (`in`, `out`, `perClass` of every line), from its
   * next frame; tracks, their line histories and zone presence are kept. Results already on their way to JS carry
   * the counts from before.
   * @throws InvalidStateError when the stream has no `analytics` section, was removed, or the pipeline closed.
   */
  resetAnalytics(): void {
    this.#changeCounts({ reset: true, lines: [] });
  }

  /**
   * Adds cumulative line counts, by line id, to this stream's (from its next frame): counts kept elsewhere (the
   * Redis hash of src/sinks/analytics-counts.ts) brought back after a restart. Ids the section has not are ignored.
   * @throws as {@link resetAnalytics}; ERR_CAMTRACK_INVALID_ARGUMENT for a count that is not an integer ≥ 0.
   */
  addAnalyticsCounts(lines: Record<string, { in: number; out: number; perClass?: { classId: number; in: number; out: number }[] }>): void {
    this.#changeCounts({
      reset: false,
      lines: Object.entries(lines).map(([id, l]) => ({ id, in: l.in, out: l.out, perClass: l.perClass ?? [] })),
    });
  }

  #changeCounts(counts: NativeAnalyticsCounts): void {
    if (!this.#options.analytics) {
      throw new CamtrackError(`stream ${JSON.stringify(redactSecretsIn(this.id))} has no analytics section`, 'ERR_CAMTRACK_INVALID_STATE', {
        stage: 'analytics',
        hint: 'give it one first: stream.configure({ analytics: { lines, zones } }) (docs/analytics.md)',
      });
    }
    this.#owner.changeAnalyticsCounts(this, counts);
  }

  get state(): StreamState {
    return this.#state;
  }
  get lastError(): CamtrackError | undefined {
    return this.#lastError;
  }
  get ended(): boolean {
    return this.#ended;
  }
  /** Resolves with the final state ('ended', 'failed' or 'stopped') once the stream's last result was delivered. */
  whenEnded(): Promise<StreamState> {
    return this.#endPromise;
  }

  /**
   * Results of this stream in frame order, as a bounded async iterator (capacity `resultQueueSize`, default 64;
   * when full: 'latest' delivery drops the oldest and counts it in stats().dropped.consumer, 'lossless' pauses the
   * source until the iterator has taken half of them). Ends when the stream ends. An iterator nobody reads holds a
   * lossless stream: break out of it (or call return()) when done.
   */
  results(): AsyncIterableIterator<FrameResult> {
    const q: ResultQueue<FrameResult> = new ResultQueue(
      this.options.resultQueueSize,
      () => this.#queues.delete(q),
      () => this._countConsumerDrop(),
      this.delivery === 'lossless' ? (full) => this._queueFull(full) : undefined,
    );
    if (this.#ended) q.end();
    else this.#queues.add(q);
    return q;
  }

  /** Calls `fn` for every result (same as on('result', fn)); returns a function that unsubscribes. */
  onResult(fn: (r: FrameResult) => void): () => void {
    this.on('result', fn);
    return () => this.off('result', fn);
  }

  /** This stream's counters (the same object pipeline.stats().streams holds for it). */
  stats(): StreamStats {
    const s = this.#owner.streamStats(this);
    if (!s) throw new InvalidStateError(`stream ${JSON.stringify(this.id)} was removed`);
    return s;
  }

  /**
   * The stream's next frame that goes on to postprocess as a JPEG, encoded by native code on demand (nothing is done
   * per frame while nobody asks), with its tracks and ids drawn when `boxes` is set; `frameIndex` matches the
   * results'. Concurrent calls with the same options share one native request.
   * @throws (rejects) ERR_CAMTRACK_SNAPSHOT_TIMEOUT when no frame comes within `timeoutMs` (the camera is connecting
   *   or reconnecting), ERR_CAMTRACK_UNSUPPORTED for frames not decoded on the CPU (NVDEC), ERR_CAMTRACK_INVALID_STATE
   *   once the stream has ended; TypeError/RangeError for bad options.
   */
  snapshot(options: SnapshotOptions = {}): Promise<Snapshot> {
    if (this.#ended) return Promise.reject(new InvalidStateError(`stream ${JSON.stringify(this.id)} has ended`));
    this.#snapshots ??= new SnapshotRequests(this.id, this.#owner.snapshotNative(this));
    return this.#snapshots.request(options);
  }

  /** @internal the native 'snapshot' event */
  _snapshotReady(): void {
    this.#snapshots?.ready();
  }

  /** Stops and removes this stream from its pipeline. */
  remove(): Promise<void> {
    return this.#owner.removeStream(this.id);
  }

  /**
   * Pushed streams (input 'push'): hands over one compressed frame — a JPEG or PNG image, or H.264/HEVC access units
   * (Annex-B), as `codec` says — to be decoded on the pipeline's threads at the size the model needs. `frameId`,
   * `meta` and `messageKey` come back on the frame's result (`frameId`, `metadata`, `messageKey`).
   *
   * The bytes are not copied: the pipeline reads them in place until the frame is decoded (or dropped), so do not
   * modify or transfer the buffer after pushing it (as with a Node writable's write()).
   *
   * Returns whether to go on pushing. A live stream (live: true or 'auto') always says true: when its queue
   * (pushQueueSize) is full the oldest waiting frame is dropped (H.264/HEVC: the waiting access units, then decoding
   * resumes at the next keyframe), counted in stats().push.dropped. A lossless stream (live: false) drops nothing:
   * false means the queue is full now — wait for the 'drain' event (emitted once the queue is down to half, or when
   * the stream ends) before pushing again:
   *
   *   if (!stream.push(jpeg, { frameId })) await once(stream, 'drain');
   *
   * A frame that cannot be decoded (corrupt, truncated, another codec, 0 bytes, over maxPixels, H.264 before its first
   * keyframe) is lost, the stream goes on: a 'warning' (CamtrackError, `reason` the fault, `frame` { seq, frameId,
   * metadata, messageKey } of the frame; at most 5 at once, then one per second) and stats().push.rejected count it.
   * @throws TypeError for bytes that are not a Uint8Array (Buffer) or ArrayBuffer, TypeError/RangeError for bad
   *   options; ERR_CAMTRACK_INVALID_STATE when the stream is not pushed, has ended or was ended with end(), or, lossless,
   *   when push() is called while its queue is full (after false, before 'drain').
   */
  push(bytes: Uint8Array | ArrayBuffer, options: PushFrameOptions = {}): boolean {
    if (this.#options.input !== 'push') {
      throw new CamtrackError(`stream ${JSON.stringify(this.id)} reads its url: it takes no pushed frames`, 'ERR_CAMTRACK_INVALID_STATE', {
        hint: "add the stream with input: 'push' and a codec to push frames into it",
      });
    }
    if (this.#ended) throw new InvalidStateError(`stream ${JSON.stringify(this.id)} has ended`);
    if (this.#pushEnded) {
      throw new CamtrackError(`stream ${JSON.stringify(this.id)}: end() was called, no frame can be pushed after it`, 'ERR_CAMTRACK_INVALID_STATE');
    }
    const view = bytes instanceof Uint8Array ? bytes : bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : undefined;
    if (!view) throw new TypeError(`Expected Uint8Array, Buffer or ArrayBuffer for bytes but received ${describeValue(bytes)}`);
    const tag = checkPushOptions(options);
    const ptsMs = options.ptsMs === undefined ? -1 : Math.floor(options.ptsMs);
    const seq = this.#pushSeq;
    const queued = this.#owner.pushFrame(this, seq, view, ptsMs, options.priority === 'high');
    this.#pushSeq++;
    // Registered through the tag seam under the push's number, which the native side gives the frame too.
    if (tag) this.tagFrame(seq, tag);
    if (this.#options.live === false && queued >= this.#options.pushQueueSize) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  /**
   * Pushed streams: no more frames. The frames already pushed are decoded and delivered, then the stream ends (state
   * 'ended', reason 'eof'; whenEnded() resolves). Idempotent; push() throws after it.
   */
  end(): void {
    if (this.#options.input !== 'push') {
      throw new CamtrackError(`stream ${JSON.stringify(this.id)} reads its url: end() is for pushed streams`, 'ERR_CAMTRACK_INVALID_STATE', {
        hint: 'stream.remove() stops any stream',
      });
    }
    if (this.#pushEnded || this.#ended) return;
    this.#pushEnded = true;
    this.#owner.endPush(this);
  }

  /** @internal pushed streams: how many frames were accepted so far (the next push's sequence number). */
  get _pushed(): number {
    return this.#pushSeq;
  }

  /** @internal the native queue of a lossless pushed stream is down to half: 'drain' if a push() returned false. */
  _drain(): void {
    if (!this.#needDrain) return;
    this.#needDrain = false;
    safeEmit(this, 'drain');
  }

  /** @internal the tag of frame `seq`, left in place (a warning about a pushed frame names it). */
  _peekTag(seq: number): FrameTag | undefined {
    return this.#tags.peek(seq);
  }

  /**
   * @internal The seam of per-frame tags (src/frame-tags.ts): the result of this stream's frame `seq` (its
   * `frameIndex`) will carry `tag`'s `frameId`, `metadata` and `messageKey`. The tag stays in JS, held until that
   * result is delivered, or released when the frame turns out dropped (a later frame's result comes first), when the
   * stream ends, or, the table being full (1024 tags), to make room for a newer one; all counted in
   * {@link Stream#_tagCounts}. Frames pushed from JS (`stream.push(bytes, { frameId, ptsMs, meta })`) and the Redis
   * source register their tags through this when they hand a frame to native code. `seq` must be above every frame
   * tagged or delivered before (RangeError); a bad tag is a TypeError/RangeError; an ended stream an InvalidStateError.
   */
  tagFrame(seq: number, tag: FrameTag): void {
    if (this.#ended) throw new InvalidStateError(`stream ${JSON.stringify(this.id)} has ended`);
    this.#tags.set(seq, checkFrameTag(tag));
  }

  /** @internal counters of the tag table (size, delivered, dropped, evicted, ended). */
  get _tagCounts(): FrameTagCounts {
    return this.#tags.counts();
  }

  /**
   * @internal a result of this stream was dropped by a full results() queue (this stream's or the pipeline's).
   * Counted when it happens, so a queue that ends and is then returned (break) cannot count it again.
   */
  _countConsumerDrop(): void {
    this.#consumerDrops++;
  }

  /** @internal one of this stream's lossless queues became full (true) or drained to half (false). */
  _queueFull(full: boolean): void {
    this.#fullQueues += full ? 1 : -1;
    if (full ? this.#fullQueues === 1 : this.#fullQueues === 0) this.#owner.setPaused(this, full);
  }

  /** @internal see StreamStats.dropped.consumer */
  get _consumerDrops(): number {
    return this.#consumerDrops;
  }

  /**
   * @internal `seq`: a pushed frame's sequence number (the key of its tag), when it differs from frameIndex (H.264/HEVC
   * with reordered pictures) or always for pushed streams; undefined otherwise.
   */
  _deliver(r: FrameResult, seq?: number): void {
    // The frame's tag joins its result here, before any consumer (this stream's or the pipeline's) sees it. Pushed
    // H.264/HEVC pictures come in display order, not in push order: their tags are taken within a reorder window.
    const video = this.#options.codec === 'h264' || this.#options.codec === 'hevc';
    const tag = this.#tags.take(seq ?? r.frameIndex, video ? VIDEO_REORDER_WINDOW : 0);
    if (tag) Object.assign(r, tag);
    for (const q of this.#queues) q.push(r);
    safeEmit(this, 'result', r);
    // Track lifecycle: 'track' (event: TrackEvent, result: FrameResult) for new / lost / refound / removed.
    if (r.trackEvents.length > 0 && this.listenerCount('track') > 0) for (const e of r.trackEvents) safeEmit(this, 'track', e, r);
    // Analytics: 'analytics' (event: AnalyticsEvent, result) for line-cross, zone-enter/-exit, loiter, overcrowd, speed.
    if (r.analytics && r.analytics.events.length > 0 && this.listenerCount('analytics') > 0) {
      for (const e of r.analytics.events) safeEmit(this, 'analytics', e, r);
    }
  }

  /** @internal */
  _setState(state: StreamState, info: { reason?: string; attempt?: number; error?: CamtrackError } = {}): StateChange | undefined {
    if (state === this.#state) return undefined;
    const prev = this.#state;
    this.#state = state;
    const change: StateChange = { state, previous: prev, reason: info.reason ?? '' };
    if (info.attempt !== undefined) change.attempt = info.attempt;
    if (info.error !== undefined) change.error = info.error;
    safeEmit(this, 'state', state, prev, change);
    return change;
  }

  /** @internal */
  _error(err: CamtrackError, fatal: boolean): void {
    if (fatal) this.#lastError = err;
    // safeEmit skips an event nobody listens to: an 'error' event without a listener would throw.
    safeEmit(this, fatal ? 'error' : 'warning', err);
  }

  /** @internal */
  _end(state: StreamState): void {
    if (this.#ended) return;
    this.#ended = true;
    // A lossless producer waiting for 'drain' is woken by the end too (its next push() throws: the stream has ended).
    const drainOwed = this.#needDrain;
    this.#needDrain = false;
    this.#tags.clear();
    this.#snapshots?.close(new InvalidStateError(`stream ${JSON.stringify(this.id)} has ended (${state})`));
    this._setState(state);
    for (const q of this.#queues) q.end();
    this.#queues.clear();
    // Settle first: whenEnded() must not depend on user listeners.
    this.#resolveEnd(state);
    safeEmit(this, 'end', state);
    if (drainOwed) safeEmit(this, 'drain');
  }
}

/** What names a stream in messages and stats: its url, or `push:<id>` for a pushed stream. */
export function streamUrl(options: Pick<NormalisedStream, 'id' | 'url'>): string {
  return options.url ?? `push:${options.id}`;
}

/** A pushed frame's options checked (TypeError/RangeError as Stream#push() documents); its tag, or undefined for none. */
function checkPushOptions(options: unknown): FrameTag | undefined {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`Expected object with frameId, ptsMs, meta, messageKey or priority for options but received ${describeValue(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!PUSH_OPTION_KEYS.includes(k)) throw new TypeError(`Unknown push option ${JSON.stringify(k)}; accepted: ${PUSH_OPTION_KEYS.join(', ')}`);
  }
  if (o.ptsMs !== undefined && (typeof o.ptsMs !== 'number' || !Number.isFinite(o.ptsMs) || o.ptsMs < 0 || o.ptsMs > Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`Expected non-negative number for ptsMs but received ${describeValue(o.ptsMs)}`);
  }
  if (o.priority !== undefined && o.priority !== 'normal' && o.priority !== 'high') {
    throw new RangeError(`Expected 'normal' or 'high' for priority but received ${describeValue(o.priority)}`);
  }
  if (o.frameId === undefined && o.meta === undefined && o.messageKey === undefined) return undefined;
  const raw: Record<string, unknown> = {};
  if (o.frameId !== undefined) raw.frameId = o.frameId;
  if (o.meta !== undefined) raw.metadata = o.meta;
  if (o.messageKey !== undefined) raw.messageKey = o.messageKey;
  try {
    return checkFrameTag(raw);
  } catch (err) {
    // The tag's own wording names `metadata`; a pushed frame's option is `meta`.
    if (err instanceof Error) err.message = err.message.replace('tag.metadata', 'meta').replace('tag.', '');
    throw err;
  }
}
