/**
 * Stream lifecycle on the built package (dist/ + build/Release/camtrack.node), CPU only: user listeners that throw
 * never break delivery or the end promises, consumer drops are counted once and reach pipeline.stats(),
 * removeStream()/close() end streams with the documented events, and concurrent next() calls all settle.
 * One regression test per defect; yolo11n_int8_320.onnx (the fastest shared model), detection quality irrelevant.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { CamtrackError, Pipeline, type FrameResult, type StateChange, type Stream, type StreamState } from '../../dist/index.js';
import { ResultQueue } from '../../src/result-queue.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
/** SOURCES.md: mpeg4 part 2, 1920x1080, 3 fps, 8 frames. */
const MMTRACKING = 'videos/mmtracking-demo.mp4';
const MMTRACKING_FRAMES = 8;
/** 341 frames: long enough to be removed or closed mid-run. */
const WALKING = 'videos/walking.mp4';
const BUS = 'images/bus.jpg';
/** Only catches a hang (the defect); a healthy run settles in well under a second. */
const HANG_MS = 20_000;

/** Rejects with a message naming `what` if `p` has not settled within HANG_MS. */
async function settles<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Takes over 'uncaughtException' for one test, so a listener error rethrown outside the delivery callback (as the
 * user would see it) is recorded here instead of failing the run. restore() puts vitest's handlers back.
 */
function captureUncaught(): { errors: unknown[]; restore: () => void } {
  const saved = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const errors: unknown[] = [];
  const record = (err: unknown): void => {
    errors.push(err);
  };
  process.on('uncaughtException', record);
  return {
    errors,
    restore: () => {
      process.off('uncaughtException', record);
      for (const l of saved) process.on('uncaughtException', l);
    },
  };
}

/** Lets queued microtasks and immediates (rethrown listener errors) run. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Records a stream's lifecycle as the stream and the pipeline report it, in emission order. */
function recordLifecycle(pipeline: Pipeline, stream: Stream): string[] {
  const log: string[] = [];
  stream.on('state', (state: StreamState, _prev: StreamState, change: StateChange) => {
    log.push(`stream state ${state} ${change.reason}`);
  });
  stream.on('end', (state: StreamState) => log.push(`stream end ${state}`));
  pipeline.on('state', (s: Stream, state: StreamState, change: StateChange) => {
    if (s === stream) log.push(`pipeline state ${state} ${change.reason}`);
  });
  pipeline.on('streamEnd', (s: Stream, state: StreamState) => {
    if (s === stream) log.push(`pipeline streamEnd ${state}`);
  });
  return log;
}

/** What removeStream() and close() give a running stream, in this order (docs/ingest.md: States). */
const STOPPED_BY_REMOVAL = [
  'stream state stopped removed',
  'pipeline state stopped removed',
  'stream end stopped',
  'pipeline streamEnd stopped',
];

describeWithAssets('Stream lifecycle', [FAST_MODEL, MMTRACKING, WALKING, BUS], () => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  describe("Stream 'error' / 'end' listeners", () => {
    it("a throwing 'end' listener does not stop whenEnded()/whenAllEnded() or 'streamEnd'; the error still surfaces", async () => {
      const uncaught = captureUncaught();
      try {
        pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
        const boom = new Error('user end listener');
        const s = pipeline.addStream({ id: 'end-throws', url: assetPath(BUS) });
        const other = pipeline.addStream({ id: 'other', url: assetPath(MMTRACKING) });
        const otherGot: FrameResult[] = [];
        other.onResult((r) => otherGot.push(r));
        const streamEnds: string[] = [];
        pipeline.on('streamEnd', (st: Stream, state: StreamState) => streamEnds.push(`${st.id} ${state}`));
        s.on('end', () => {
          throw boom;
        });
        await settles(pipeline.whenAllEnded(), 'whenAllEnded()');
        expect(await settles(s.whenEnded(), 'whenEnded()')).toBe('ended');
        expect(streamEnds.sort()).toEqual(['end-throws ended', 'other ended']);
        expect(otherGot.map((r) => r.frameIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        await tick();
        expect(uncaught.errors).toEqual([boom]);
      } finally {
        uncaught.restore();
      }
    });

    it("EXPECTED FAILURE - a throwing 'error' listener does not lose the stream's 'failed' state and end", async () => {
      const uncaught = captureUncaught();
      try {
        pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
        const boom = new Error('user error listener');
        const bad = pipeline.addStream({ id: 'missing', url: '/nonexistent/dir/video.mp4' });
        const log = recordLifecycle(pipeline, bad);
        const errors: CamtrackError[] = [];
        pipeline.on('error', (e: CamtrackError) => errors.push(e));
        bad.on('error', () => {
          throw boom;
        });
        expect(await settles(bad.whenEnded(), 'whenEnded()')).toBe('failed');
        expect(bad.state).toBe('failed');
        expect(bad.lastError?.code).toBe('ERR_CAMTRACK_SOURCE_OPEN');
        // The pipeline-level 'error' listener still ran after the throwing stream listener.
        expect(errors.map((e) => e.code)).toEqual(['ERR_CAMTRACK_SOURCE_OPEN']);
        expect(log.filter((l) => l.includes('failed'))).toEqual([
          expect.stringMatching(/^stream state failed \w+$/),
          expect.stringMatching(/^pipeline state failed \w+$/),
          'stream end failed',
          'pipeline streamEnd failed',
        ]);
        await tick();
        expect(uncaught.errors).toEqual([boom]);
      } finally {
        uncaught.restore();
      }
    });
  });

  describe('dropped.consumer', () => {
    it("counts each full queue's drops once, in stream.stats() and pipeline.stats(), also after break", async () => {
      pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      // delivery 'latest': a full queue drops its oldest (a file's default, 'lossless', would pause the source instead:
      // test/addon/delivery.test.ts).
      const s = pipeline.addStream({ id: 'slow', url: assetPath(MMTRACKING), resultQueueSize: 2, delivery: 'latest' });
      // Nobody reads either iterator: a file never drops (it blocks), so every drop is a consumer drop.
      const own = s.results();
      const all = pipeline.results({ queueSize: 3 });
      expect(await settles(s.whenEnded(), 'whenEnded()')).toBe('ended');
      const expected = MMTRACKING_FRAMES - 2 + (MMTRACKING_FRAMES - 3);
      expect(s.stats().framesDelivered).toBe(MMTRACKING_FRAMES);
      expect(s.stats().dropped.consumer).toBe(expected);
      expect(pipeline.stats().streams.find((x) => x.id === 'slow')!.dropped.consumer).toBe(expected);
      // break in for-await after the stream ended: the queues' drops were already counted.
      for await (const r of own) {
        expect(r.frameIndex).toBe(MMTRACKING_FRAMES - 2);
        break;
      }
      for await (const r of all) {
        expect(r.frameIndex).toBe(MMTRACKING_FRAMES - 3);
        break;
      }
      expect(s.stats().dropped.consumer).toBe(expected);
      expect(pipeline.stats().streams.find((x) => x.id === 'slow')!.dropped.consumer).toBe(expected);
    });
  });

  describe('Pipeline#removeStream() and Pipeline#close()', () => {
    it("removeStream() mid-run: 'state' stopped (reason removed) on the stream and the pipeline, then 'end' and 'streamEnd'", async () => {
      pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      const s = pipeline.addStream({ id: 'rm', url: assetPath(WALKING) });
      const log = recordLifecycle(pipeline, s);
      const it = s.results();
      expect((await settles(it.next(), 'first result')).done).toBe(false); // running
      await pipeline.removeStream('rm');
      expect(await settles(s.whenEnded(), 'whenEnded()')).toBe('stopped');
      expect(s.state).toBe('stopped');
      expect(log.slice(-STOPPED_BY_REMOVAL.length)).toEqual(STOPPED_BY_REMOVAL);
      expect(log.filter((l) => l.includes('stopped'))).toHaveLength(STOPPED_BY_REMOVAL.length);
      // Native events of the removed stream that arrive later change nothing.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(log.filter((l) => l.includes('stopped'))).toHaveLength(STOPPED_BY_REMOVAL.length);
    });

    it('close() ends every open stream the same way; a stream that already ended gets nothing more', async () => {
      pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      const done = pipeline.addStream({ id: 'done', url: assetPath(BUS) });
      expect(await settles(done.whenEnded(), 'whenEnded()')).toBe('ended');
      const doneLog = recordLifecycle(pipeline, done);
      const running = ['a', 'b'].map((id) => pipeline!.addStream({ id, url: assetPath(WALKING) }));
      const logs = running.map((s) => recordLifecycle(pipeline!, s));
      await Promise.all(running.map((s) => settles(s.results().next(), `first result of ${s.id}`)));
      await pipeline.close();
      for (const [i, s] of running.entries()) {
        expect(await settles(s.whenEnded(), `whenEnded() of ${s.id}`)).toBe('stopped');
        expect(logs[i]!.slice(-STOPPED_BY_REMOVAL.length), s.id).toEqual(STOPPED_BY_REMOVAL);
        expect(logs[i]!.filter((l) => l.includes('stopped')), s.id).toHaveLength(STOPPED_BY_REMOVAL.length);
      }
      expect(doneLog).toEqual([]);
      expect(done.state).toBe('ended');
    });
  });

  describe('Stream#results() iterator', () => {
    it('two next() calls before the first settles both get a result, in frame order', async () => {
      pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      const s = pipeline.addStream({ id: 'twice', url: assetPath(MMTRACKING) });
      const it = s.results();
      const first = it.next();
      const second = it.next();
      const [a, b] = await settles(Promise.all([first, second]), 'both next() calls');
      expect([a.done, b.done]).toEqual([false, false]);
      expect([a.value.frameIndex, b.value.frameIndex]).toEqual([0, 1]);
      const rest: number[] = [];
      for await (const r of it) rest.push(r.frameIndex);
      expect(rest).toEqual([2, 3, 4, 5, 6, 7]);
      expect(rest.length + 2).toBe(MMTRACKING_FRAMES);
    });
  });
});

describe('ResultQueue waiters', () => {
  it('settles concurrent next() calls in call order, one item each', async () => {
    const q = new ResultQueue<number>(4);
    const pending = [q.next(), q.next(), q.next()];
    q.push(1);
    q.push(2);
    q.push(3);
    q.push(4); // nobody waits any more: queued
    expect(await settles(Promise.all(pending), 'three next() calls')).toEqual([1, 2, 3].map((value) => ({ value, done: false })));
    expect(q.size).toBe(1);
    expect(q.dropped).toBe(0);
  });

  it('end() and return() finish every waiting next()', async () => {
    const q = new ResultQueue<number>(4);
    const ended = [q.next(), q.next()];
    q.end();
    expect(await settles(Promise.all(ended), 'next() calls before end()')).toEqual([
      { value: undefined, done: true },
      { value: undefined, done: true },
    ]);

    let hook = 0;
    const r = new ResultQueue<number>(4, () => hook++);
    const returned = [r.next(), r.next(), r.next()];
    r.push(7);
    await r.return();
    expect(await settles(Promise.all(returned), 'next() calls before return()')).toEqual([
      { value: 7, done: false },
      { value: undefined, done: true },
      { value: undefined, done: true },
    ]);
    expect(hook).toBe(1);
  });
});
