/**
 * src/delivery.ts: the per-stream delivery queues and the scheduler that hands results to consumers.
 * - the scheduler runs queued items round-robin over streams, in order within a stream, and yields to the event
 *   loop once a turn used its budget (a timer set next to a busy consumer fires after about one item, not after
 *   the backlog);
 * - 'latest' drops the oldest queued result (never an event) and reports it; 'lossless' never drops and reports
 *   full at capacity and drained at half; ResultQueue's lossless mode does the same for an iterator.
 */
import { describe, expect, it } from 'vitest';

import { DeliveryScheduler, StreamDelivery, isHigh } from '../../src/delivery.js';
import { ResultQueue } from '../../src/result-queue.js';
import type { FrameResult } from '../../src/types.js';

const result = (streamId: string, frameIndex: number): FrameResult =>
  ({ streamId, frameIndex, ptsMs: 0, timestampMs: 0, latencyMs: 0, width: 1, height: 1, detections: [], tracks: [], trackEvents: [] }) as FrameResult;
const busyWait = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};
const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function delivery(scheduler: DeliveryScheduler, lossless: boolean, capacity: number, log: string[], name: string) {
  const pressure: boolean[] = [];
  const dropped: number[] = [];
  const d = new StreamDelivery(
    scheduler,
    { capacity, lossless },
    (r) => log.push(`${name}${r.frameIndex}`),
    (r) => dropped.push(r.frameIndex),
    (full) => pressure.push(full),
  );
  return { d, pressure, dropped };
}

describe('DeliveryScheduler', () => {
  it('delivers nothing synchronously, then each stream in order, streams in turn', async () => {
    const s = new DeliveryScheduler(1000);
    const log: string[] = [];
    const a = delivery(s, true, 100, log, 'a');
    const b = delivery(s, true, 100, log, 'b');
    for (let i = 0; i < 3; i++) a.d.pushResult(result('a', i));
    a.d.pushEvent(() => log.push('a-end'));
    b.d.pushResult(result('b', 0));
    expect(log).toEqual([]);
    await immediate();
    expect(log).toEqual(['a0', 'a1', 'a2', 'a-end', 'b0']);
  });

  it("a slow consumer gets one result per turn; a cheap one next to it empties its queue in every turn", async () => {
    const s = new DeliveryScheduler(2);
    const log: string[] = [];
    const slow = new StreamDelivery(s, { capacity: 1000, lossless: true }, (r) => {
      log.push(`slow${r.frameIndex}`);
      busyWait(10);
    }, () => {}, () => {});
    const cheap = delivery(s, true, 1000, log, 'cheap');
    for (let i = 0; i < 3; i++) slow.pushResult(result('slow', i));
    for (let i = 0; i < 50; i++) cheap.d.pushResult(result('cheap', i));
    await immediate(); // turn 1: slow0 (over budget: yield)
    expect(log).toEqual(['slow0']);
    await immediate(); // turn 2: all of cheap, then slow1
    expect(log.length).toBe(52);
    expect(log.at(-1)).toBe('slow1');
  });

  it('yields to timers once a turn used its budget: a 20 ms-per-result consumer delays a timer by about one result', async () => {
    const s = new DeliveryScheduler(2);
    const log: string[] = [];
    const d = new StreamDelivery(s, { capacity: 1000, lossless: true }, (r) => {
      log.push(`r${r.frameIndex}`);
      busyWait(20);
    }, () => {}, () => {});
    for (let i = 0; i < 20; i++) d.pushResult(result('a', i));
    const t0 = performance.now();
    const fired = await new Promise<number>((resolve) => setTimeout(() => resolve(performance.now() - t0), 1));
    // Without yielding the timer would wait for all 20 results (400 ms).
    expect(fired).toBeLessThan(150);
    expect(log.length).toBeLessThan(20);
    while (log.length < 20) await immediate();
    expect(log).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
  });

  it('drainAll() delivers everything queued synchronously', () => {
    const s = new DeliveryScheduler(0);
    const log: string[] = [];
    const a = delivery(s, false, 10, log, 'a');
    for (let i = 0; i < 5; i++) a.d.pushResult(result('a', i));
    s.drainAll();
    expect(log).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
  });
});

describe('StreamDelivery', () => {
  it("'latest' drops the oldest result when full and reports each drop; events are never dropped", async () => {
    const s = new DeliveryScheduler(1000);
    const log: string[] = [];
    const a = delivery(s, false, 3, log, 'a');
    a.d.pushEvent(() => log.push('state'));
    for (let i = 0; i < 6; i++) a.d.pushResult(result('a', i));
    expect(a.d.results).toBe(3);
    expect(a.dropped).toEqual([0, 1, 2]);
    await immediate();
    expect(log).toEqual(['state', 'a3', 'a4', 'a5']);
    expect(a.pressure).toEqual([]);
  });

  it("'lossless' keeps everything, reports full at capacity and drained at half", async () => {
    const s = new DeliveryScheduler(1000);
    const log: string[] = [];
    const a = delivery(s, true, 4, log, 'a');
    for (let i = 0; i < 6; i++) a.d.pushResult(result('a', i));
    expect(a.pressure).toEqual([true]);
    expect(a.dropped).toEqual([]);
    await immediate();
    expect(log).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    expect(a.pressure).toEqual([true, false]);
  });

  it('clear() forgets what is queued and releases a full lossless queue', () => {
    const s = new DeliveryScheduler(1000);
    const a = delivery(s, true, 2, [], 'a');
    a.d.pushResult(result('a', 0));
    a.d.pushResult(result('a', 1));
    a.d.clear();
    expect(a.d.size).toBe(0);
    expect(a.pressure).toEqual([true, false]);
  });
});

describe('lossless ResultQueue and the water marks', () => {
  it('isHigh: high at capacity, low again at half', () => {
    expect(isHigh(false, 3, 4)).toBe(false);
    expect(isHigh(false, 4, 4)).toBe(true);
    expect(isHigh(true, 3, 4)).toBe(true);
    expect(isHigh(true, 2, 4)).toBe(false);
  });

  it('never drops, reports full and drained, and releases on return()', async () => {
    const pressure: boolean[] = [];
    const q = new ResultQueue<number>(4, undefined, undefined, (full) => pressure.push(full));
    for (let i = 0; i < 7; i++) q.push(i);
    expect(q.size).toBe(7);
    expect(q.dropped).toBe(0);
    expect(pressure).toEqual([true]);
    for (let i = 0; i < 5; i++) expect((await q.next()).value).toBe(i);
    expect(pressure).toEqual([true, false]);
    q.push(7);
    q.push(8);
    expect(pressure).toEqual([true, false, true]);
    await q.return();
    expect(pressure).toEqual([true, false, true, false]);
  });
});
