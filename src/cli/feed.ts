/**
 * `camtrack run`'s feeds: frames pushed into a camera with input 'push' from a directory of files or from standard
 * input (the camera's `feed` option, src/config/schema.ts FeedOptionsSchema), so the push path can be tried without a
 * server (docs/push.md, "Trying it without a server").
 *
 *  - `{ dir }`: every file whose extension is the codec's, in name order (numbers compared as numbers), one frame each;
 *    each frame's result carries `frameId` (its position, from 0) and `metadata.file` (its name).
 *  - `{ stdin: 'mjpeg' }`: JPEGs back to back (MjpegSplitter finds where each ends by walking its markers, so an EXIF
 *    thumbnail inside one is not taken for the next); `{ stdin: 'length-prefixed' }`: each frame preceded by its length
 *    (4-byte big-endian unsigned, LengthPrefixedSplitter). `frameId` is the frame's position.
 *
 * Every feed pushes with back-pressure (a lossless camera: push() false → wait for 'drain'), at most `fps` frames per
 * second when given (ptsMs advancing by 1000/fps), and ends the camera when its input ends.
 */
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import type { FeedOptions, PushCodec } from '../config.js';
import type { Stream } from '../stream.js';

/** The file extensions a directory feed takes, by codec. */
export const FEED_EXTENSIONS: Readonly<Record<PushCodec, readonly string[]>> = {
  jpeg: ['.jpg', '.jpeg'],
  png: ['.png'],
  h264: ['.h264', '.264'],
  hevc: ['.hevc', '.265', '.h265'],
};

/** A frame larger than this ends the search for its end: it is pushed as it is (and rejected there) and reading resyncs. */
export const MAX_FEED_FRAME_BYTES = 256 * 1024 * 1024;

/**
 * The bytes read but not yet split into frames: appending is amortised O(1) (the buffer doubles when full, or moves
 * what is left to its front), so input read in small chunks is not copied over and over; a frame taken out is a copy
 * of its own (the pipeline holds a pushed frame's bytes until it is decoded, and this buffer is reused).
 */
class ByteQueue {
  #buf = Buffer.allocUnsafe(1 << 16);
  #start = 0;
  #end = 0;

  get length(): number {
    return this.#end - this.#start;
  }
  /** The bytes held, as a view (valid until the next append or take). */
  view(): Buffer {
    return this.#buf.subarray(this.#start, this.#end);
  }
  append(chunk: Buffer): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const len = this.length;
      if (len + chunk.length <= this.#buf.length / 2) {
        this.#buf.copy(this.#buf, 0, this.#start, this.#end);
      } else {
        const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, len + chunk.length));
        this.#buf.copy(bigger, 0, this.#start, this.#end);
        this.#buf = bigger;
      }
      this.#start = 0;
      this.#end = len;
    }
    chunk.copy(this.#buf, this.#end);
    this.#end += chunk.length;
  }
  /** The first `n` bytes (a copy), removed. */
  take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    this.#buf.copy(out, 0, this.#start, this.#start + n);
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return out;
  }
  skip(n: number): void {
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }
}

/**
 * Splits a byte stream of JPEGs back to back into one buffer per JPEG. Incremental: push() takes chunks as they
 * come and returns the JPEGs they completed; end() returns what is left (an incomplete JPEG, pushed anyway: the
 * pipeline reports it as truncated). Bytes that are not a JPEG are returned as one frame each up to the next SOI (the
 * pipeline reports them as bad frames), so a damaged frame costs itself only.
 */
export class MjpegSplitter {
  readonly #q = new ByteQueue();
  /** Where the walk of the current frame's markers stands (offset in #buf), and whether it is inside scan data. */
  #pos = 0;
  #inScan = false;

  push(chunk: Buffer): Buffer[] {
    this.#q.append(chunk);
    const out: Buffer[] = [];
    for (;;) {
      const frame = this.#next();
      if (!frame) break;
      out.push(frame);
    }
    return out;
  }

  end(): Buffer[] {
    const n = this.#q.length;
    return n > 0 ? [this.#take(n)] : [];
  }

  /** The next complete frame at the start of the queue, removed from it; undefined when more bytes are needed. */
  #next(): Buffer | undefined {
    const b = this.#q.view();
    if (b.length < 2) return undefined;
    if (!(b[0] === 0xff && b[1] === 0xd8)) {
      // Not a JPEG here: everything up to the next SOI is one bad frame.
      const soi = findSoi(b, 1);
      if (soi < 0) return b.length > MAX_FEED_FRAME_BYTES ? this.#take(b.length) : undefined;
      return this.#take(soi);
    }
    if (this.#pos < 2) this.#pos = 2;
    let i = this.#pos;
    for (;;) {
      if (this.#inScan) {
        // Entropy-coded data: a marker is FF followed by anything but 00 (stuffing) or D0..D7 (restart markers).
        while (i + 1 < b.length && !(b[i] === 0xff && b[i + 1] !== 0x00 && !(b[i + 1]! >= 0xd0 && b[i + 1]! <= 0xd7))) i++;
        if (i + 1 >= b.length) break;
        this.#inScan = false;
      }
      if (i + 1 >= b.length) break;
      if (b[i] !== 0xff) return this.#resync(i);
      const m = b[i + 1]!;
      if (m === 0xff) {
        i++; // fill byte
        continue;
      }
      if (m === 0xd9) return this.#take(i + 2); // EOI
      if (m === 0xd8) return this.#resync(i); // a new image before this one ended
      if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
        i += 2;
        continue;
      }
      if (i + 3 >= b.length) break;
      const len = b.readUInt16BE(i + 2);
      if (len < 2) return this.#resync(i);
      i += 2 + len;
      if (m === 0xda) this.#inScan = true; // SOS: its scan data follows the header
      if (i > b.length) break;
    }
    this.#pos = i; // may be past the end (a segment not all here yet): the walk goes on from there
    if (b.length > MAX_FEED_FRAME_BYTES) return this.#take(b.length);
    return undefined;
  }

  /** The frame is damaged at `at`: everything up to the next SOI after it is one (bad) frame. */
  #resync(at: number): Buffer | undefined {
    const b = this.#q.view();
    const soi = findSoi(b, Math.max(1, at));
    if (soi < 0) {
      // Wait for more: the next SOI may still come. The walk restarts at the damage.
      this.#pos = at;
      this.#inScan = false;
      return b.length > MAX_FEED_FRAME_BYTES ? this.#take(b.length) : undefined;
    }
    return this.#take(soi);
  }

  #take(n: number): Buffer {
    this.#pos = 0;
    this.#inScan = false;
    return this.#q.take(n);
  }
}

/** Position of the next FF D8 FF (a JPEG's start) at or after `from`, or -1. */
function findSoi(b: Buffer, from: number): number {
  for (let i = b.indexOf(0xff, from); i >= 0 && i + 2 < b.length; i = b.indexOf(0xff, i + 1)) {
    if (b[i + 1] === 0xd8 && b[i + 2] === 0xff) return i;
  }
  return -1;
}

/** Splits frames each preceded by its length (4-byte big-endian unsigned). Incremental, as MjpegSplitter. */
export class LengthPrefixedSplitter {
  readonly #q = new ByteQueue();

  push(chunk: Buffer): Buffer[] {
    this.#q.append(chunk);
    const out: Buffer[] = [];
    while (this.#q.length >= 4) {
      const n = this.#q.view().readUInt32BE(0);
      if (n > MAX_FEED_FRAME_BYTES) {
        throw new RangeError(`length-prefixed input: a frame of ${n} bytes (over ${MAX_FEED_FRAME_BYTES}): is the input length-prefixed?`);
      }
      if (this.#q.length < 4 + n) break;
      this.#q.skip(4);
      out.push(this.#q.take(n));
    }
    return out;
  }

  /** What is left: a frame cut short (pushed anyway, reported as truncated), or nothing. */
  end(): Buffer[] {
    if (this.#q.length <= 4) return [];
    this.#q.skip(4);
    return [this.#q.take(this.#q.length)];
  }
}

/** The frame files of a directory feed, in order. */
export async function feedFiles(dir: string, codec: PushCodec): Promise<string[]> {
  const exts = FEED_EXTENSIONS[codec];
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isFile() && exts.includes(path.extname(d.name).toLowerCase()))
    .map((d) => d.name);
  const collator = new Intl.Collator('en', { numeric: true });
  return names.sort(collator.compare);
}

/** One frame of a feed. */
interface FeedFrame {
  bytes: Uint8Array;
  meta?: Record<string, unknown>;
}

/** Stops a running feed (the camera run is over): the feed pushes nothing more and does not end the stream. */
export interface FeedControl {
  stopped: boolean;
}

/**
 * Pushes `frames` into `stream` with back-pressure and the feed's pacing; ends the stream when they run out (unless
 * stopped). Resolves with the number of frames pushed.
 */
export async function pushFrames(stream: Stream, frames: AsyncIterable<FeedFrame>, fps: number | undefined, control: FeedControl): Promise<number> {
  const start = performance.now();
  let n = 0;
  for await (const f of frames) {
    if (control.stopped || stream.ended) break;
    if (fps !== undefined) {
      const due = start + (n * 1000) / fps;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (control.stopped || stream.ended) break;
    }
    const options = { frameId: n, ...(fps !== undefined ? { ptsMs: Math.round((n * 1000) / fps) } : {}), ...(f.meta ? { meta: f.meta } : {}) };
    if (!stream.push(f.bytes, options)) await once(stream, 'drain');
    n++;
  }
  if (!control.stopped && !stream.ended) stream.end();
  return n;
}

async function* dirFrames(dir: string, codec: PushCodec): AsyncGenerator<FeedFrame> {
  for (const name of await feedFiles(dir, codec)) yield { bytes: await readFile(path.join(dir, name)), meta: { file: name } };
}

async function* streamFrames(input: Readable, format: 'mjpeg' | 'length-prefixed', control: FeedControl): AsyncGenerator<FeedFrame> {
  const splitter = format === 'mjpeg' ? new MjpegSplitter() : new LengthPrefixedSplitter();
  for await (const chunk of input) {
    for (const bytes of splitter.push(chunk as Buffer)) yield { bytes };
    if (control.stopped) return;
  }
  for (const bytes of splitter.end()) yield { bytes };
}

/**
 * Runs `feed` into `stream` (a pushed camera); `stdin`: the process's standard input (the tests pass a stream of
 * their own). Resolves when the feed is done (or stopped).
 */
export function runFeed(stream: Stream, feed: FeedOptions, codec: PushCodec, control: FeedControl, stdin: Readable): Promise<number> {
  const frames = feed.dir !== undefined ? dirFrames(feed.dir, codec) : streamFrames(stdin, feed.stdin!, control);
  return pushFrames(stream, frames, feed.fps, control);
}
