/**
 * A bounded async queue behind every results() iterator. When the consumer is slower than the pipeline, the
 * OLDEST queued result is dropped (live video: the newest matters) and counted in `dropped`.
 * The iterator ends after end() once the queued items are consumed; return() (break in for-await) unsubscribes.
 */
export class ResultQueue<T> implements AsyncIterableIterator<T> {
  readonly #capacity: number;
  readonly #items: T[] = [];
  #head = 0;
  #waiter: ((r: IteratorResult<T>) => void) | undefined;
  #ended = false;
  #onReturn: (() => void) | undefined;
  dropped = 0;

  constructor(capacity: number, onReturn?: () => void) {
    this.#capacity = capacity;
    this.#onReturn = onReturn;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    if (this.#ended) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: item, done: false });
      return;
    }
    if (this.size >= this.#capacity) {
      this.#head++;
      this.dropped++;
    }
    this.#items.push(item);
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#waiter && this.size === 0) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const value = this.#items[this.#head]!;
      this.#items[this.#head] = undefined as T;
      this.#head++;
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.#ended = true;
    this.#items.length = 0;
    this.#head = 0;
    this.#onReturn?.();
    this.#onReturn = undefined;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
