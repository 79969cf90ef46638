/**
 * Delivery credit on the built package (src/delivery.ts, docs/delivery.md), CPU only: a file stream is lossless by
 * default — an iterator that is not read pauses the source (nothing more is decoded; the queue holds at most
 * resultQueueSize results plus what was in flight when it paused) and, read later, gets every frame in order; a
 * listener that busy-waits gets every frame while timers keep firing. `delivery: 'latest'` on the same file keeps the
 * newest results and counts every drop. yolo11n_int8_320.onnx (the fastest shared model); detection quality irrelevant.
 * The live side (a busy consumer next to a 25 fps RTSP camera and a timer): test/e2e/delivery-rtsp.test.ts.
 */
import { afterEach, expect, it } from 'vitest';

import { Pipeline, type FrameResult } from '../../dist/index.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
/** SOURCES.md: walking.mp4, 341 frames. */
const WALKING = 'videos/walking.mp4';
const WALKING_FRAMES = 341;
const QUEUE = 8;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const busyWait = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describeWithAssets('delivery credit (files)', [FAST_MODEL, WALKING], () => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  function expectEveryFrame(results: FrameResult[]): void {
    expect(results.length).toBe(WALKING_FRAMES);
    results.forEach((r, i) => expect(r.frameIndex).toBe(i));
  }

  it('an iterator that is not read pauses a file at its queue bound; read later, it gets every frame in order', async () => {
    pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
    const s = pipeline.addStream({ id: 'f', url: assetPath(WALKING), resultQueueSize: QUEUE });
    expect(s.delivery).toBe('lossless');
    const it = s.results() as AsyncIterableIterator<FrameResult> & { size: number };
    // Not read: the queue fills and the source pauses. Frames already decoded and in batches still arrive: at most
    // the batch slots' images (2 per worker) and the one frame being letterboxed.
    const inFlight = pipeline.batchSize * 2 * 2 + 1;
    while (it.size < QUEUE) await sleep(20);
    await sleep(1000);
    const decoded = s.stats().framesDecoded;
    const held = it.size;
    await sleep(1000);
    expect(s.stats().framesDecoded).toBe(decoded);
    expect(it.size).toBe(held);
    expect(held).toBeLessThanOrEqual(QUEUE + inFlight);
    expect(decoded).toBeLessThan(WALKING_FRAMES);
    const results: FrameResult[] = [];
    for await (const r of it) results.push(r);
    expectEveryFrame(results);
    const st = s.stats();
    expect(st.framesDelivered).toBe(WALKING_FRAMES);
    expect(st.dropped.consumer).toBe(0);
  });

  it("a 'result' listener that busy-waits gets every frame of a file, and timers keep firing meanwhile", async () => {
    pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
    const s = pipeline.addStream({ id: 'f', url: assetPath(WALKING), resultQueueSize: QUEUE });
    const results: FrameResult[] = [];
    s.on('result', (r: FrameResult) => {
      results.push(r);
      busyWait(10);
    });
    let ticks = 0;
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 50);
    try {
      expect(await s.whenEnded()).toBe('ended');
    } finally {
      clearInterval(timer);
    }
    expectEveryFrame(results);
    expect(s.stats().dropped.consumer).toBe(0);
    // 341 results × 10 ms ≈ 3.4 s of listener time: the 50 ms timer ran all along, never held for more than a few
    // results (a delivery used to run its whole backlog at once).
    expect(ticks).toBeGreaterThan(20);
    expect(maxGap).toBeLessThan(500);
  });

  it("delivery 'latest' on the same file keeps the newest results for an iterator read after the end, and counts each drop", async () => {
    pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
    const s = pipeline.addStream({ id: 'f', url: assetPath(WALKING), resultQueueSize: QUEUE, delivery: 'latest' });
    expect(s.delivery).toBe('latest');
    // Read only after the file ended: the queue holds the newest QUEUE results, every other one was dropped.
    const it = s.results();
    expect(await s.whenEnded()).toBe('ended');
    const results: FrameResult[] = [];
    for await (const r of it) results.push(r);
    const st = s.stats();
    expect(results.map((r) => r.frameIndex)).toEqual(Array.from({ length: QUEUE }, (_, i) => WALKING_FRAMES - QUEUE + i));
    expect(st.framesDelivered).toBe(WALKING_FRAMES);
    expect(st.dropped.consumer).toBe(WALKING_FRAMES - QUEUE);
  });
});
