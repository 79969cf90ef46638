/**
 * Delivery credit on the built package (src/delivery.ts, docs/delivery.md), CPU only: a file stream is lossless by
 * default — a consumer slower than decoding, an async iterator or a listener that busy-waits, gets every frame in
 * order, nothing counted as dropped, and the iterator's queue stays bounded because the source pauses (it holds at
 * most resultQueueSize results plus what was in flight when it paused). `delivery: 'latest'` on the same file drops
 * the oldest and counts every drop. yolo11n_int8_320.onnx (the fastest shared model); detection quality irrelevant.
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

  it('a slow async iterator gets every frame of a file; its queue stays bounded (the source pauses)', async () => {
    pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
    const s = pipeline.addStream({ id: 'f', url: assetPath(WALKING), resultQueueSize: QUEUE });
    expect(s.delivery).toBe('lossless');
    const it = s.results() as AsyncIterableIterator<FrameResult> & { size: number };
    const results: FrameResult[] = [];
    let maxQueued = 0;
    for await (const r of it) {
      results.push(r);
      maxQueued = Math.max(maxQueued, it.size);
      // Slower than the pipeline for the first 100 results (its queue fills and the source pauses), then fast.
      if (results.length <= 100) await sleep(25);
    }
    expectEveryFrame(results);
    const st = s.stats();
    expect(st.framesDelivered).toBe(WALKING_FRAMES);
    expect(st.dropped.consumer).toBe(0);
    // Paused at QUEUE; frames already decoded and in batches still arrive: at most the batch slots' images
    // (2 per worker) and the one frame being letterboxed.
    const inFlight = pipeline.batchSize * 2 * 2 + 1;
    expect(maxQueued).toBeGreaterThanOrEqual(QUEUE);
    expect(maxQueued).toBeLessThanOrEqual(QUEUE + inFlight);
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

  it("delivery 'latest' on the same file drops the oldest results of a slow iterator and counts each", async () => {
    pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
    const s = pipeline.addStream({ id: 'f', url: assetPath(WALKING), resultQueueSize: QUEUE, delivery: 'latest' });
    expect(s.delivery).toBe('latest');
    const results: FrameResult[] = [];
    for await (const r of s.results()) {
      results.push(r);
      await sleep(20);
    }
    const st = s.stats();
    expect(results.length).toBeLessThan(WALKING_FRAMES);
    expect(st.framesDelivered).toBe(WALKING_FRAMES);
    expect(st.dropped.consumer).toBe(WALKING_FRAMES - results.length);
    for (let i = 1; i < results.length; i++) expect(results[i]!.frameIndex).toBeGreaterThan(results[i - 1]!.frameIndex);
  });
});
