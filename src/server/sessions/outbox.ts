/**
 * A session's bounded outbox: the messages (results and errors) waiting to be written to its client, each with an id
 * (the SSE event id). When full, the OLDEST message goes (a slow reader keeps getting the newest results); a result
 * that goes before it was ever written is counted as dropped (cause `outbox`). With `keepSent` (SSE) the messages
 * written stay too, up to the same bound, as the replay window of a reconnect with Last-Event-ID.
 *
 * Memory: at most `capacity` message texts, whatever the client does.
 */
export interface OutboxEntry {
  readonly id: number;
  readonly text: string;
  readonly isResult: boolean;
}

export class Outbox {
  readonly capacity: number;
  readonly #keepSent: boolean;
  #entries: OutboxEntry[] = [];
  #nextId = 1;
  /** The id of the last message written on the current connection (the next one written is the first after it). */
  #cursor = 0;
  /** The highest id ever written (for counting: a result is sent once, however often it is replayed). */
  #highestSent = 0;
  #resultsSent = 0;
  #resultsDropped = 0;

  constructor(capacity: number, keepSent: boolean) {
    this.capacity = capacity;
    this.#keepSent = keepSent;
  }

  get resultsSent(): number {
    return this.#resultsSent;
  }
  /** Results that left the outbox without ever being written. */
  get resultsDropped(): number {
    return this.#resultsDropped;
  }
  /** Messages waiting to be written on the current connection. */
  get pending(): number {
    return this.#entries.reduce((n, e) => n + (e.id > this.#cursor ? 1 : 0), 0);
  }
  /** The oldest id still held (replayable), or the next id when empty. */
  get oldestId(): number {
    return this.#entries[0]?.id ?? this.#nextId;
  }

  add(text: string, isResult: boolean): void {
    this.#entries.push({ id: this.#nextId++, text, isResult });
    while (this.#entries.length > this.capacity) {
      const gone = this.#entries.shift()!;
      if (gone.isResult && gone.id > this.#highestSent) this.#resultsDropped++;
    }
  }

  /** The next message to write (marked written), or undefined. */
  take(): OutboxEntry | undefined {
    const i = this.#entries.findIndex((e) => e.id > this.#cursor);
    if (i < 0) return undefined;
    const e = this.#entries[i]!;
    this.#cursor = e.id;
    if (e.id > this.#highestSent) {
      this.#highestSent = e.id;
      if (e.isResult) this.#resultsSent++;
    }
    if (!this.#keepSent) this.#entries.splice(i, 1);
    return e;
  }

  /**
   * A new connection that last saw event `lastId` (Last-Event-ID; undefined: none). With an id, writing resumes
   * after it, replaying what the window still holds; returns false when messages after it have already left the
   * window (the client missed some). Without one, writing goes on after the last message written.
   */
  resume(lastId: number | undefined): boolean {
    if (lastId === undefined || !Number.isSafeInteger(lastId) || lastId < 0) return true;
    this.#cursor = Math.min(lastId, this.#nextId - 1);
    return lastId + 1 >= this.oldestId;
  }
}

/**
 * Per-session frame rate limit: a token bucket of `fps` tokens per second holding at most max(2, fps / 4), so a
 * client sending at the limit with some jitter loses nothing, and a burst passes only up to that bound. 0 = no limit.
 */
export class RateLimiter {
  #fps = 0;
  #capacity = 1;
  #tokens = 1;
  #last = 0;

  constructor(fps: number) {
    this.set(fps);
  }
  get fps(): number {
    return this.#fps;
  }
  set(fps: number): void {
    this.#fps = fps;
    this.#capacity = Math.max(2, fps / 4);
    this.#tokens = this.#capacity;
    this.#last = performance.now();
  }
  /** Takes a token for a frame now; false: the frame is over the limit. */
  take(now = performance.now()): boolean {
    if (this.#fps <= 0) return true;
    if (now > this.#last) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#last) * this.#fps) / 1000);
      this.#last = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
