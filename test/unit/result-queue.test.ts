/**
 * ResultQueue: the bounded async queue behind every results() iterator. When full, the OLDEST item is dropped
 * and counted; end() lets the consumer drain what is queued and then finishes; return() (break in for-await)
 * empties it, finishes a pending next() and calls the unsubscribe hook once.
 */
import { describe, expect, it } from 'vitest';

import { ResultQueue } from '../../src/result-queue.js';

async function drain<T>(q: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of q) out.push(x);
  return out;
}

describe('ResultQueue', () => {
  it('delivers in order below capacity without drops', async () => {
    const q = new ResultQueue<number>(4);
    [1, 2, 3, 4].forEach((x) => q.push(x));
    expect(q.size).toBe(4);
    q.end();
    expect(await drain(q)).toEqual([1, 2, 3, 4]);
    expect(q.dropped).toBe(0);
  });

  it('drops the oldest when full and counts every drop', async () => {
    const q = new ResultQueue<number>(3);
    for (let i = 0; i < 10; i++) q.push(i);
    expect(q.size).toBe(3);
    expect(q.dropped).toBe(7);
    q.end();
    expect(await drain(q)).toEqual([7, 8, 9]);
  });

  it('setCapacity() (a live resultQueueSize change): a smaller bound drops the oldest at once, counted; a larger one keeps more', async () => {
    const dropped: number[] = [];
    const q = new ResultQueue<number>(5, undefined, (x) => dropped.push(x));
    for (let i = 0; i < 5; i++) q.push(i);
    q.setCapacity(2);
    expect(q.size).toBe(2);
    expect(q.dropped).toBe(3);
    expect(dropped).toEqual([0, 1, 2]);
    q.setCapacity(4);
    for (let i = 5; i < 8; i++) q.push(i);
    expect(q.size).toBe(4);
    expect(dropped).toEqual([0, 1, 2, 3]);
    q.end();
    expect(await drain(q)).toEqual([4, 5, 6, 7]);
  });

  it('capacity 1 keeps only the newest', async () => {
    const q = new ResultQueue<string>(1);
    q.push('a');
    q.push('b');
    q.push('c');
    expect(q.dropped).toBe(2);
    expect(await q.next()).toEqual({ value: 'c', done: false });
  });

  it('stays correct across many drops (internal compaction)', async () => {
    const q = new ResultQueue<number>(5);
    for (let i = 0; i < 5000; i++) q.push(i);
    expect(q.dropped).toBe(4995);
    expect(q.size).toBe(5);
    q.end();
    expect(await drain(q)).toEqual([4995, 4996, 4997, 4998, 4999]);
  });

  it('interleaves consumption and pushes: consumed items free capacity', async () => {
    const q = new ResultQueue<number>(2);
    q.push(1);
    q.push(2);
    expect((await q.next()).value).toBe(1);
    q.push(3);
    expect(q.dropped).toBe(0);
    q.push(4); // full (2,3) → drops 2
    expect(q.dropped).toBe(1);
    q.end();
    expect(await drain(q)).toEqual([3, 4]);
  });

  it('a waiting next() is resolved by the next push, which is not counted against capacity', async () => {
    const q = new ResultQueue<number>(1);
    const pending = q.next();
    q.push(42);
    expect(await pending).toEqual({ value: 42, done: false });
    expect(q.size).toBe(0);
    expect(q.dropped).toBe(0);
  });

  it('end() lets the consumer drain queued items, then reports done; pushes after end() are ignored', async () => {
    const q = new ResultQueue<number>(8);
    q.push(1);
    q.push(2);
    q.end();
    q.push(3);
    expect(await q.next()).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
    expect(await q.next()).toEqual({ value: undefined, done: true });
    expect(await q.next()).toEqual({ value: undefined, done: true });
    expect(q.dropped).toBe(0);
  });

  it('end() finishes a consumer that is waiting', async () => {
    const q = new ResultQueue<number>(8);
    const pending = q.next();
    q.end();
    expect(await pending).toEqual({ value: undefined, done: true });
    q.end(); // idempotent
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('return() empties the queue, finishes a waiting next() and calls the hook exactly once', async () => {
    let hook = 0;
    const q = new ResultQueue<number>(8, () => hook++);
    const pending = q.next();
    expect(await q.return()).toEqual({ value: undefined, done: true });
    expect(await pending).toEqual({ value: undefined, done: true });
    q.push(5);
    expect(q.size).toBe(0);
    await q.return();
    expect(hook).toBe(1);

    let hook2 = 0;
    const q2 = new ResultQueue<number>(8, () => hook2++);
    q2.push(1);
    q2.push(2);
    await q2.return();
    expect(q2.size).toBe(0);
    expect(await q2.next()).toEqual({ value: undefined, done: true });
    expect(hook2).toBe(1);
  });

  it('break in for-await calls return() (the unsubscribe hook runs)', async () => {
    let unsubscribed = false;
    const q = new ResultQueue<number>(8, () => (unsubscribed = true));
    [1, 2, 3].forEach((x) => q.push(x));
    const seen: number[] = [];
    for await (const x of q) {
      seen.push(x);
      if (x === 2) break;
    }
    expect(seen).toEqual([1, 2]);
    expect(unsubscribed).toBe(true);
    expect(q.size).toBe(0);
  });

  it('is its own async iterator', () => {
    const q = new ResultQueue<number>(1);
    expect(q[Symbol.asyncIterator]()).toBe(q);
  });
});
