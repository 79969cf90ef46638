/**
 * A bounded async queue behind every results() iterator. When the consumer is slower than the pipeline, the
 * OLDEST queued result is dropped (live video: the newest matters) and counted in `dropped`; or, for a lossless
 * stream (an `onPressure` callback given), nothing is dropped and the owner is told when the queue becomes full and
 * when it is down to half, so that it pauses and resumes its source (src/delivery.ts).
 * The iterator ends after end() once the queued items are consumed; return() (break in for-await) unsubscribes.
 * next() may be called again before an earlier call settled (the iterator protocol allows it): waiting calls are
 * settled in call order, one item each, and end()/return() settle all of them as done.
 */
import { isHigh } from './delivery.js';

export class ResultQueue<T> implements AsyncIterableIterator<T> {
  #capacity: number;
  readonly #items: T[] = [];
  #head = 0;
  /** Pending next() calls, oldest first. Only non-empty while no item is queued. */
  readonly #waiters: Array<(r: IteratorResult<T>) => void> = [];
  #ended = false;
  #onReturn: (() => void) | undefined;
  readonly #onDrop: ((item: T) => void) | undefined;
  readonly #onPressure: ((high: boolean) => void) | undefined;
  #high = false;
  /** Items this queue dropped because it was full. */
  dropped = 0;

  /**
   * @param onReturn called once when the consumer stops early (return(), break in for-await).
   * @param onDrop called with each item dropped because the queue was full, so the owner can count it where the
   *   item came from; called exactly once per drop, whatever happens to the queue later.
   * @param onPressure makes the queue lossless: called with true when it holds `capacity` items, with false when
   *   it is down to half of that again or ends.
   */
  constructor(capacity: number, onReturn?: () => void, onDrop?: (item: T) => void, onPressure?: (high: boolean) => void) {
    this.#capacity = capacity;
    this.#onReturn = onReturn;
    this.#onDrop = onDrop;
    this.#onPressure = onPressure;
  }

  /**
   * Changes the bound: a smaller one drops the oldest queued items beyond it at once (counted in `dropped`, each
   * passed to onDrop), or, lossless, may report the queue full.
   */
  setCapacity(capacity: number): void {
    this.#capacity = capacity;
    // Lossless: nothing is dropped; the new bound only moves the water marks.
    if (this.#onPressure) this.#pressure();
    else while (this.size > capacity) this.#dropOldest();
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    if (this.#ended) return;
    const w = this.#waiters.shift();
    if (w) {
      w({ value: item, done: false });
      return;
    }
    if (this.#onPressure) {
      this.#items.push(item);
      this.#pressure();
      return;
    }
    if (this.size >= this.#capacity) this.#dropOldest();
    this.#items.push(item);
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #dropOldest(): void {
    const oldest = this.#items[this.#head]!;
    this.#items[this.#head] = undefined as T;
    this.#head++;
    this.dropped++;
    this.#onDrop?.(oldest);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    // An ended queue holds its source no more: what is queued can be read, nothing more comes.
    this.#release();
    // Waiters exist only while nothing is queued, so all of them are done now.
    this.#settleWaiters();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const value = this.#items[this.#head]!;
      this.#items[this.#head] = undefined as T;
      this.#head++;
      this.#pressure();
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.#ended = true;
    this.#items.length = 0;
    this.#head = 0;
    this.#release();
    this.#onReturn?.();
    this.#onReturn = undefined;
    this.#settleWaiters();
    return Promise.resolve({ value: undefined, done: true });
  }

  #pressure(): void {
    if (!this.#onPressure || this.#ended) return;
    const high = isHigh(this.#high, this.size, this.#capacity);
    if (high === this.#high) return;
    this.#high = high;
    this.#onPressure(high);
  }

  #release(): void {
    if (!this.#high) return;
    this.#high = false;
    this.#onPressure!(false);
  }

  #settleWaiters(): void {
    for (const w of this.#waiters.splice(0)) w({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
