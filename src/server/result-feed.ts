/**
 * Results and events of the managed cameras for readers over SSE and WebSocket (routes/results.ts), in the wire format
 * (src/wire/). One listener on the registry serialises each message once; each reader gets it through its own
 * {@link BoundedWriter}: written at once while the socket takes it, queued (bounded) while the socket's own buffer is
 * above its high-water mark, the oldest dropped and counted when the queue is full. A slow reader gets the newest
 * messages and never grows memory; a vanished one is removed when its socket closes.
 */
import type { CameraEvent, CameraRegistry } from '../cameras/registry.js';
import type { FrameResult } from '../types.js';
import { toWireErrorMessage, toWireResult, toWireStateMessage } from '../wire/index.js';

/** Bytes buffered in a socket above which a reader counts as slow (messages then wait in its bounded queue). */
export const HIGH_WATER_BYTES = 256 * 1024;

/** A bounded queue in front of one socket. */
export class BoundedWriter {
  readonly #queue: string[] = [];
  readonly #capacity: number;
  readonly #buffered: () => number;
  readonly #write: (message: string) => void;
  /** Messages dropped because the queue was full. */
  dropped = 0;
  /** Messages written to the socket. */
  written = 0;

  /**
   * @param buffered bytes the socket holds that the peer has not taken yet (ws bufferedAmount, writableLength)
   * @param write hands one message to the socket
   */
  constructor(capacity: number, buffered: () => number, write: (message: string) => void) {
    this.#capacity = capacity;
    this.#buffered = buffered;
    this.#write = write;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Writes `message` now if the socket has room and nothing waits, else queues it (dropping the oldest if full). */
  offer(message: string): void {
    if (this.#queue.length === 0 && this.#buffered() < HIGH_WATER_BYTES) {
      this.#send(message);
      return;
    }
    if (this.#queue.length >= this.#capacity) {
      this.#queue.shift();
      this.dropped++;
    }
    this.#queue.push(message);
  }

  /** Writes waiting messages while the socket has room (call on its 'drain' and on a timer). */
  flush(): void {
    while (this.#queue.length > 0 && this.#buffered() < HIGH_WATER_BYTES) this.#send(this.#queue.shift()!);
  }

  #send(message: string): void {
    this.written++;
    this.#write(message);
  }
}

/** One reader: the cameras it wants (null: all) and its writer. */
export interface FeedReader {
  cameras: ReadonlySet<string> | null;
  writer: BoundedWriter;
}

/** Totals over readers, also of readers gone (for /metrics). */
export interface FeedStats {
  readers: number;
  written: number;
  dropped: number;
}

export class ResultFeed {
  readonly #readers = new Set<FeedReader>();
  #gone = { written: 0, dropped: 0 };
  readonly #onResult: (r: FrameResult) => void;
  readonly #onEvent: (e: CameraEvent) => void;
  readonly #registry: CameraRegistry;
  /** Flushes queued messages of slow readers (drain events are not enough for ws, which has none). */
  readonly #timer: NodeJS.Timeout;

  constructor(registry: CameraRegistry) {
    this.#registry = registry;
    this.#onResult = (r) => {
      if (this.#readers.size > 0) this.#publish(r.streamId, JSON.stringify(toWireResult(r)));
    };
    this.#onEvent = (e) => {
      if (this.#readers.size === 0 || e.cameraId === null) return;
      if (e.type === 'state') this.#publish(e.cameraId, JSON.stringify(toWireStateMessage(e.cameraId, e.change)));
      else if (e.type === 'warning' || e.type === 'error') this.#publish(e.cameraId, JSON.stringify(toWireErrorMessage(e.type, e.cameraId, e.error)));
    };
    registry.on('result', this.#onResult);
    registry.on('event', this.#onEvent);
    this.#timer = setInterval(() => {
      for (const r of this.#readers) r.writer.flush();
    }, 50);
    this.#timer.unref();
  }

  /** Adds a reader; the returned function removes it (call it when its socket closes). */
  add(reader: FeedReader): () => void {
    this.#readers.add(reader);
    return () => {
      if (!this.#readers.delete(reader)) return;
      this.#gone.written += reader.writer.written;
      this.#gone.dropped += reader.writer.dropped;
    };
  }

  stats(): FeedStats {
    let written = this.#gone.written;
    let dropped = this.#gone.dropped;
    for (const r of this.#readers) {
      written += r.writer.written;
      dropped += r.writer.dropped;
    }
    return { readers: this.#readers.size, written, dropped };
  }

  close(): void {
    clearInterval(this.#timer);
    this.#registry.off('result', this.#onResult);
    this.#registry.off('event', this.#onEvent);
  }

  #publish(cameraId: string, message: string): void {
    for (const r of this.#readers) if (r.cameras === null || r.cameras.has(cameraId)) r.writer.offer(message);
  }
}
