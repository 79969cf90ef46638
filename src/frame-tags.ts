/**
 * Opaque per-frame tags (issue 9, seam b): a client's frame id, its metadata and the key of the message that carried
 * the frame (a Redis entry id), kept in JS by the frame's sequence number in its stream and put on that frame's
 * result. Nothing of a tag crosses into native code: the native side numbers a stream's frames
 * (`FrameResult.frameIndex`) and the result brings that number back, so the tag is joined here, on the main thread,
 * when the result is delivered (Stream#_deliver).
 *
 * One table per stream, bounded. A tag leaves the table, and is counted, in exactly one of four ways:
 * - `delivered`: its frame's result came and carries it;
 * - `dropped`: a later frame's result came first. A stream's results are delivered in frame order, so a frame
 *   without a result by then never gets one (it was dropped: fpsLimit, busy, inference, decoder pool);
 * - `evicted`: the table was full when a newer tag came, and the oldest one made room;
 * - `ended`: the stream ended or was removed with the tag's frame still undelivered.
 * So the table holds at most `capacity` tags, and in practice only those of frames still in flight.
 *
 * Tags must be registered in increasing sequence order, each for a frame whose result has not been delivered yet
 * (a pushed frame is tagged when it is pushed, before native code sees it). That keeps the table a queue ordered by
 * sequence number: joining a result and releasing the dropped frames before it costs O(1) amortised.
 */
import { describeValue } from './errors.js';
import type { FrameResult } from './types.js';

/** What a frame can be tagged with; every field optional. The same fields appear on the frame's FrameResult. */
export type FrameTag = Pick<FrameResult, 'frameId' | 'metadata' | 'messageKey'>;

/** Default bound of a stream's tag table: well above the frames one stream can have in flight. */
export const FRAME_TAG_CAPACITY = 1024;

/**
 * How far out of push order the results of a pushed H.264/HEVC stream can come: pictures come out in display order,
 * which differs from the decode order they are pushed in by at most the decoded picture buffer (16 pictures in both
 * standards); twice that, to be safe. A tag is released as dropped only once a result this far past it arrived.
 */
export const VIDEO_REORDER_WINDOW = 32;

/** Counters of a tag table (see the file header for what each means). Monotonic. */
export interface FrameTagCounts {
  /** Tags held now. */
  size: number;
  capacity: number;
  delivered: number;
  dropped: number;
  evicted: number;
  ended: number;
}

/** Checks a tag as a caller gave it and returns a copy with only the fields present (TypeError/RangeError otherwise). */
export function checkFrameTag(tag: unknown): FrameTag {
  if (typeof tag !== 'object' || tag === null || Array.isArray(tag)) {
    throw new TypeError(`Expected object with frameId, metadata or messageKey for tag but received ${describeValue(tag)}`);
  }
  const { frameId, metadata, messageKey, ...rest } = tag as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new TypeError(`Unknown tag field ${JSON.stringify(unknown[0])}; accepted: frameId, metadata, messageKey`);
  }
  const out: FrameTag = {};
  if (frameId !== undefined) {
    // The wire's frame_id is an integer (docs/wire.md); a client's string id belongs in metadata or messageKey.
    if (typeof frameId !== 'number' || !Number.isSafeInteger(frameId) || frameId < 0) {
      throw new RangeError(`Expected non-negative integer for tag.frameId but received ${describeValue(frameId)}`);
    }
    out.frameId = frameId;
  }
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new TypeError(`Expected object for tag.metadata but received ${describeValue(metadata)}`);
    }
    out.metadata = metadata as Record<string, unknown>;
  }
  if (messageKey !== undefined) {
    if (typeof messageKey !== 'string') throw new TypeError(`Expected string for tag.messageKey but received ${describeValue(messageKey)}`);
    out.messageKey = messageKey;
  }
  return out;
}

/** A stream's tags by frame sequence number: a bounded queue ordered by sequence number. Main thread only. */
export class FrameTagTable {
  readonly capacity: number;
  // Parallel queues with a moving head (compacted now and then, as in ResultQueue): no allocation per tag beyond
  // the tag object itself.
  readonly #seqs: number[] = [];
  readonly #tags: FrameTag[] = [];
  #head = 0;
  /** Highest sequence number tagged so far, or delivered so far (a new tag must be above both). */
  #lastTagged = -1;
  #lastDelivered = -1;
  #delivered = 0;
  #dropped = 0;
  #evicted = 0;
  #ended = 0;

  constructor(capacity = FRAME_TAG_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`Expected positive integer for capacity but received ${describeValue(capacity)}`);
    }
    this.capacity = capacity;
  }

  get size(): number {
    return this.#seqs.length - this.#head;
  }

  counts(): FrameTagCounts {
    return {
      size: this.size,
      capacity: this.capacity,
      delivered: this.#delivered,
      dropped: this.#dropped,
      evicted: this.#evicted,
      ended: this.#ended,
    };
  }

  /**
   * Registers `tag` (already checked, {@link checkFrameTag}) for the frame `seq`. `seq` must be above every sequence
   * number tagged or delivered before (RangeError otherwise). When the table is full the oldest tag is released
   * (counted as `evicted`).
   */
  set(seq: number, tag: FrameTag): void {
    const floor = Math.max(this.#lastTagged, this.#lastDelivered);
    if (!Number.isSafeInteger(seq) || seq <= floor) {
      throw new RangeError(
        `Expected integer above ${floor} (the last frame tagged or delivered) for seq but received ${describeValue(seq)}`,
      );
    }
    if (this.size >= this.capacity) {
      this.#shift();
      this.#evicted++;
    }
    this.#seqs.push(seq);
    this.#tags.push(tag);
    this.#lastTagged = seq;
  }

  /**
   * The result of frame `seq` is being delivered: returns its tag (undefined when it has none) and releases the tags
   * of earlier frames, which will get no result (counted as `dropped`). `reorderWindow` > 0: results may come out of
   * sequence order by up to that many frames (H.264/HEVC pushed in decode order, delivered in display order), so only
   * the tags more than `reorderWindow` before `seq` are released, and `seq` is looked for among the others.
   */
  take(seq: number, reorderWindow = 0): FrameTag | undefined {
    if (seq > this.#lastDelivered) this.#lastDelivered = seq;
    while (this.size > 0) {
      const s = this.#seqs[this.#head]!;
      if (s > seq || (s !== seq && s >= seq - reorderWindow)) break;
      const tag = this.#shift();
      if (s === seq) {
        this.#delivered++;
        return tag;
      }
      this.#dropped++;
    }
    if (reorderWindow > 0) {
      // A frame whose result comes before an earlier frame's (reordered): taken from the middle of the queue.
      const i = this.#seqs.indexOf(seq, this.#head);
      if (i >= 0) {
        const tag = this.#tags[i]!;
        this.#seqs.splice(i, 1);
        this.#tags.splice(i, 1);
        this.#delivered++;
        return tag;
      }
    }
    return undefined;
  }

  /** The tag of frame `seq`, left in the table (a warning about a frame that gets no result names it). */
  peek(seq: number): FrameTag | undefined {
    const i = this.#seqs.indexOf(seq, this.#head);
    return i >= 0 ? this.#tags[i] : undefined;
  }

  /** The stream ended: releases every tag left (counted as `ended`). Later calls of set() still work (and count). */
  clear(): void {
    this.#ended += this.size;
    this.#seqs.length = 0;
    this.#tags.length = 0;
    this.#head = 0;
  }

  #shift(): FrameTag {
    const tag = this.#tags[this.#head]!;
    this.#tags[this.#head] = undefined as unknown as FrameTag;
    this.#head++;
    if (this.#head === this.#seqs.length) {
      this.#seqs.length = 0;
      this.#tags.length = 0;
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#seqs.length) {
      this.#seqs.splice(0, this.#head);
      this.#tags.splice(0, this.#head);
      this.#head = 0;
    }
    return tag;
  }
}
