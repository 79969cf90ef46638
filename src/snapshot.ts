/**
 * On-demand snapshots of a stream (`stream.snapshot()`): the next frame that goes on to postprocess, JPEG-encoded by
 * native code (native/core/snapshot), with its boxes and track ids drawn when asked. Pixels never cross into JS; the
 * encoded bytes are copied once into a Buffer when ready.
 *
 * One native request per stream at a time: concurrent calls with the same options share it (and its result); calls
 * with other options wait for it and then share the next one. Each call has its own timeout
 * (ERR_CAMTRACK_SNAPSHOT_TIMEOUT: no frame came — the camera is connecting, reconnecting or has ended); a request
 * nobody waits for any more is withdrawn natively when no frame was taken for it yet.
 */
import { CamtrackError } from './errors.js';
import type { NativeSnapshot } from './native.js';

export interface SnapshotOptions {
  /** Draw the frame's tracks (with their ids), or its detections when it has no tracks. Default false. */
  boxes?: boolean;
  /** JPEG quality 1..100. Default 80. */
  quality?: number;
  /** How long to wait for a frame, ms. Default 5000. */
  timeoutMs?: number;
}

/** A snapshot: the JPEG and which frame it is (match `frameIndex` with the results' `frameIndex`). */
export interface Snapshot {
  jpeg: Buffer;
  frameIndex: number;
  ptsMs: number;
  width: number;
  height: number;
  /** Whether boxes were drawn, and how many. */
  boxes: boolean;
  numBoxes: number;
}

/** @internal what the requests need of the stream's pipeline. */
export interface SnapshotNative {
  request(boxes: boolean, quality: number): boolean;
  cancel(): boolean;
  take(): NativeSnapshot | undefined;
}

interface Waiter {
  resolve: (s: Snapshot) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface Group {
  boxes: boolean;
  quality: number;
  waiters: Set<Waiter>;
}

export const DEFAULT_SNAPSHOT_TIMEOUT_MS = 5000;

function checkOptions(o: SnapshotOptions): { boxes: boolean; quality: number; timeoutMs: number } {
  if (typeof o !== 'object' || o === null) throw new TypeError('snapshot options must be an object');
  const boxes = o.boxes ?? false;
  const quality = o.quality ?? 80;
  const timeoutMs = o.timeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS;
  if (typeof boxes !== 'boolean') throw new TypeError('snapshot option boxes must be a boolean');
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new RangeError('snapshot option quality must be an integer 1..100');
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError('snapshot option timeoutMs must be a positive number');
  return { boxes, quality, timeoutMs };
}

/** @internal one stream's snapshot requests. */
export class SnapshotRequests {
  readonly #native: SnapshotNative;
  readonly #streamId: string;
  /** The group whose request is native now (first), then the groups waiting for it, in order. */
  readonly #groups: Group[] = [];
  #nativeGroup: Group | undefined;
  #closed: Error | undefined;

  constructor(streamId: string, native: SnapshotNative) {
    this.#streamId = streamId;
    this.#native = native;
  }

  request(options: SnapshotOptions = {}): Promise<Snapshot> {
    const { boxes, quality, timeoutMs } = checkOptions(options);
    if (this.#closed) return Promise.reject(this.#closed);
    let group = this.#groups.find((g) => g.boxes === boxes && g.quality === quality);
    if (!group) {
      group = { boxes, quality, waiters: new Set() };
      this.#groups.push(group);
    }
    const g = group;
    const p = new Promise<Snapshot>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          g.waiters.delete(waiter);
          reject(
            new CamtrackError(`no frame from stream ${JSON.stringify(this.#streamId)} within ${timeoutMs} ms`, 'ERR_CAMTRACK_SNAPSHOT_TIMEOUT', {
              stage: 'snapshot',
              hint: 'the camera is not delivering frames now (connecting, reconnecting or ended): check its state and retry',
            }),
          );
          this.#dropIfUnwanted(g);
        }, timeoutMs),
      };
      g.waiters.add(waiter);
    });
    this.#next();
    return p;
  }

  /** The native 'snapshot' event: the ready snapshot goes to the waiters of the group it was asked for. */
  ready(): void {
    const taken = this.#native.take();
    const group = this.#nativeGroup;
    this.#nativeGroup = undefined;
    if (group) {
      const i = this.#groups.indexOf(group);
      if (i >= 0) this.#groups.splice(i, 1);
      for (const w of group.waiters) {
        clearTimeout(w.timer);
        if (taken?.jpeg) {
          const { jpeg, frameIndex, ptsMs, width, height, boxes, numBoxes } = taken;
          w.resolve({ jpeg, frameIndex, ptsMs, width, height, boxes, numBoxes });
        } else {
          w.reject(
            new CamtrackError(`snapshot of stream ${JSON.stringify(this.#streamId)}: ${taken?.error ?? 'no picture'}`, 'ERR_CAMTRACK_UNSUPPORTED', {
              stage: 'snapshot',
              hint: "snapshots need frames decoded on the CPU (stream option decode: 'cpu')",
            }),
          );
        }
      }
    }
    this.#next();
  }

  /** The stream ended or was removed: every waiter gets `err`. */
  close(err: Error): void {
    this.#closed = err;
    for (const g of this.#groups)
      for (const w of g.waiters) {
        clearTimeout(w.timer);
        w.reject(err);
      }
    this.#groups.length = 0;
  }

  #next(): void {
    if (this.#nativeGroup || this.#closed) return;
    while (this.#groups.length > 0 && this.#groups[0]!.waiters.size === 0) this.#groups.shift();
    const g = this.#groups[0];
    if (!g) return;
    // The native slot is free whenever no group of ours is outstanding (each request ends in one 'snapshot' event or
    // a successful cancel), so this is accepted; the group waits for its event either way.
    try {
      this.#native.request(g.boxes, g.quality);
    } catch (err) {
      // The stream was removed or its pipeline closed: this group's callers get the error.
      this.#groups.shift();
      for (const w of g.waiters) {
        clearTimeout(w.timer);
        w.reject(err as Error);
      }
      return;
    }
    this.#nativeGroup = g;
  }

  #dropIfUnwanted(g: Group): void {
    if (g.waiters.size > 0) return;
    if (g === this.#nativeGroup) {
      // Withdrawn natively unless a frame was already taken (then its event comes and finds nobody waiting).
      if (!this.#native.cancel()) return;
      this.#nativeGroup = undefined;
    }
    const i = this.#groups.indexOf(g);
    if (i >= 0) this.#groups.splice(i, 1);
    this.#next();
  }
}
