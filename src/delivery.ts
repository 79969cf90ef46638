/**
 * Result delivery to JavaScript consumers: per-stream delivery credit, and a drain that never starves the event loop
 * (docs/delivery.md).
 *
 * The native delivery callback (once per batch, src/pipeline.ts) only converts and queues: no user code runs in it,
 * so native result buffers go back to the pipeline at once whatever the consumers do. A `DeliveryScheduler` then
 * runs the streams' queued items from `setImmediate`, stream after stream (each in turn gets a slice: its items until
 * it has none or used `budgetMs`), and yields to the event loop once a turn has used `budgetMs`: a consumer that
 * busy-waits 50 ms per result delays a timer by about one result, not by its backlog, and a stream whose consumer is
 * slow gets one result per turn while the others empty their queues in theirs.
 *
 * Each stream's queue (a `StreamDelivery`) holds up to its `resultQueueSize` results:
 *  - 'latest' (live streams by default): when full, the oldest queued result is dropped and counted
 *    (`dropped.consumer`);
 *  - 'lossless' (files by default): nothing is dropped; while this queue or one of the stream's results() iterators
 *    holds `resultQueueSize` results, the stream's source is paused (native `setStreamPaused`) until they are down
 *    to half. Results already in flight when it pauses (at most the pipeline's batch slots) are still queued.
 * Events of a stream (state, warning, error, end) are queued with its results, so their order is kept.
 */
import type { FrameResult } from './types.js';

type Item = FrameResult | (() => void);

/** High/low water marks with hysteresis: high at `capacity`, low again at half of it. */
export function isHigh(wasHigh: boolean, size: number, capacity: number): boolean {
  return wasHigh ? size > Math.floor(capacity / 2) : size >= capacity;
}

/** The queue of one stream's results and events on their way to its consumers. */
export class StreamDelivery {
  readonly #items: Item[] = [];
  #head = 0;
  #results = 0;
  #high = false;
  #capacity: number;
  readonly #lossless: boolean;
  readonly #scheduler: DeliveryScheduler;
  readonly #onResult: (r: FrameResult) => void;
  readonly #onDrop: (r: FrameResult) => void;
  readonly #onPressure: (high: boolean) => void;

  /**
   * @param onResult hands one result to the stream's consumers (iterators, listeners), from the scheduler.
   * @param onDrop a result dropped unseen ('latest' only), to be counted.
   * @param onPressure 'lossless' only: the queue became full (true) or drained to half (false).
   */
  constructor(
    scheduler: DeliveryScheduler,
    options: { capacity: number; lossless: boolean },
    onResult: (r: FrameResult) => void,
    onDrop: (r: FrameResult) => void,
    onPressure: (high: boolean) => void,
  ) {
    this.#scheduler = scheduler;
    this.#capacity = options.capacity;
    this.#lossless = options.lossless;
    this.#onResult = onResult;
    this.#onDrop = onDrop;
    this.#onPressure = onPressure;
  }

  /** A new bound (stream.configure({ resultQueueSize })): 'latest' drops the oldest beyond it, 'lossless' re-checks its marks. */
  setCapacity(capacity: number): void {
    this.#capacity = capacity;
    if (this.#lossless) this.#pressure();
    else while (this.#results > capacity) this.#dropOldestResult();
  }

  get size(): number {
    return this.#items.length - this.#head;
  }
  /** Results queued (events not counted). */
  get results(): number {
    return this.#results;
  }

  pushResult(r: FrameResult): void {
    if (!this.#lossless && this.#results >= this.#capacity) this.#dropOldestResult();
    this.#items.push(r);
    this.#results++;
    this.#pressure();
    this.#scheduler.ready(this);
  }

  /** An event, run in order with the results around it. */
  pushEvent(run: () => void): void {
    this.#items.push(run);
    this.#scheduler.ready(this);
  }

  /** Runs the oldest item; called by the scheduler. */
  runOne(): void {
    if (this.size === 0) return;
    const item = this.#items[this.#head]!;
    this.#items[this.#head] = undefined as unknown as Item;
    this.#head++;
    if (this.#head > 256 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    if (typeof item === 'function') {
      item();
      return;
    }
    this.#results--;
    this.#pressure();
    this.#onResult(item);
  }

  /** Forgets everything queued (a removed stream). */
  clear(): void {
    this.#items.length = 0;
    this.#head = 0;
    this.#results = 0;
    if (this.#high) {
      this.#high = false;
      this.#onPressure(false);
    }
  }

  #dropOldestResult(): void {
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i]!;
      if (typeof item === 'function') continue;
      if (i === this.#head) {
        this.#items[i] = undefined as unknown as Item;
        this.#head++;
      } else {
        this.#items.splice(i, 1);
      }
      this.#results--;
      this.#onDrop(item);
      return;
    }
  }

  #pressure(): void {
    if (!this.#lossless) return;
    const high = isHigh(this.#high, this.#results, this.#capacity);
    if (high === this.#high) return;
    this.#high = high;
    this.#onPressure(high);
  }
}

/**
 * Runs queued deliveries from setImmediate, a slice per stream (longest waiting first), until a turn has used
 * `budgetMs`; then yields (timers and I/O run) and continues in the next turn.
 */
export class DeliveryScheduler {
  /** Streams with queued items, in turn order (a Set keeps insertion order; a served stream goes to the back). */
  readonly #ready = new Set<StreamDelivery>();
  #scheduled = false;
  readonly #budgetMs: number;

  constructor(budgetMs = 2) {
    this.#budgetMs = budgetMs;
  }

  ready(d: StreamDelivery): void {
    this.#ready.add(d);
    this.#schedule();
  }

  /** Delivers everything queued now, synchronously (Pipeline#close()). */
  drainAll(): void {
    while (this.#ready.size > 0) this.#runSlice(Infinity);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#drain);
  }

  readonly #drain = (): void => {
    this.#scheduled = false;
    const t0 = performance.now();
    try {
      while (this.#ready.size > 0) {
        this.#runSlice(this.#budgetMs);
        if (performance.now() - t0 >= this.#budgetMs) break;
      }
    } finally {
      if (this.#ready.size > 0) this.#schedule();
    }
  };

  /**
   * The stream that waited longest runs its items until it has none or used `sliceMs`, then goes to the back:
   * a stream whose consumer is cheap empties its queue in its slice, one whose consumer is slow gets one item.
   */
  #runSlice(sliceMs: number): void {
    const d = this.#ready.values().next().value as StreamDelivery;
    this.#ready.delete(d);
    const t0 = performance.now();
    try {
      do d.runOne();
      while (d.size > 0 && performance.now() - t0 < sliceMs);
    } finally {
      if (d.size > 0) this.#ready.add(d);
    }
  }
}
