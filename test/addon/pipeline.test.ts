/**
 * Pipeline / Stream API behaviour on the built package (dist/ + build/Release/camtrack.node), CPU only:
 * creation errors, stream errors that stay local to their stream, credential redaction, lifecycle (close,
 * asyncDispose, InvalidStateError), stats bookkeeping and latency histograms, frame order, the all-streams iterator
 * and removeStream.
 * yolo11n_int8_320.onnx (the fastest shared model) where detection quality does not matter.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CamtrackError,
  ConfigError,
  InvalidStateError,
  Pipeline,
  type FrameResult,
  type StreamState,
} from '../../dist/index.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { freePort } from '../helpers/processes.js';

const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
const MMTRACKING = 'videos/mmtracking-demo.mp4';
/** SOURCES.md: mpeg4 part 2, 1920x1080, 3 fps, 8 frames. */
const MMTRACKING_FRAMES = 8;
const MMTRACKING_SIZE = { width: 1920, height: 1080 };
const WALKING = 'videos/walking.mp4';
const WALKING_FRAMES = 341;
const BUS = 'images/bus.jpg';
/** The fixed latency buckets of stats().latencyHistogram (Prometheus `le`, ms; +Inf implied). */
const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

async function collect(it: AsyncIterable<FrameResult>): Promise<FrameResult[]> {
  const out: FrameResult[] = [];
  for await (const r of it) out.push(r);
  return out;
}

/** Runs fn, expects it to reject/throw, returns the error. */
async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, but none was thrown');
}

function expectFrameOrder(results: FrameResult[]): void {
  for (let i = 1; i < results.length; i++) {
    expect(results[i]!.frameIndex, `frameIndex at ${i}`).toBeGreaterThan(results[i - 1]!.frameIndex);
    expect(results[i]!.ptsMs, `ptsMs at ${i}`).toBeGreaterThanOrEqual(results[i - 1]!.ptsMs);
  }
}

describeWithAssets('Pipeline API', [FAST_MODEL, MMTRACKING, WALKING, BUS], () => {
  describe('Pipeline.create()', () => {
    let tmp: string;
    beforeAll(() => {
      tmp = mkdtempSync(path.join(os.tmpdir(), 'camtrack-pipeline-test-'));
    });
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it('BAD CALL - a missing model file is ERR_CAMTRACK_MODEL naming the path', async () => {
      const missing = path.join(tmp, 'no-such-model.onnx');
      const err = await caught(() => Pipeline.create({ model: missing }));
      expect(err).toBeInstanceOf(CamtrackError);
      expect((err as CamtrackError).code).toBe('ERR_CAMTRACK_MODEL');
      expect((err as CamtrackError).message).toContain(missing);
      expect((err as CamtrackError).hint).toBeTruthy();
    });

    it('BAD CALL - random bytes in an .onnx file are ERR_CAMTRACK_MODEL', async () => {
      const garbage = path.join(tmp, 'garbage.onnx');
      writeFileSync(garbage, randomBytes(8192));
      const err = await caught(() => Pipeline.create({ model: garbage }));
      expect(err).toBeInstanceOf(CamtrackError);
      expect((err as CamtrackError).code).toBe('ERR_CAMTRACK_MODEL');
      expect((err as CamtrackError).message).toContain(garbage);
    });

    it('BAD CALL - an empty .onnx file is ERR_CAMTRACK_MODEL', async () => {
      const empty = path.join(tmp, 'empty.onnx');
      writeFileSync(empty, Buffer.alloc(0));
      const err = await caught(() => Pipeline.create({ model: empty }));
      expect((err as CamtrackError).code).toBe('ERR_CAMTRACK_MODEL');
    });

    it('BAD CALL - a bad config value is a ConfigError with its path (before the model is read)', async () => {
      const err = await caught(() =>
        Pipeline.create({ model: assetPath(FAST_MODEL), batching: { maxWaitMs: -1 } }),
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).path).toBe('batching.maxWaitMs');
      expect((err as ConfigError).code).toBe('ERR_CAMTRACK_INVALID_CONFIG');
      expect((err as ConfigError).message).toBe(
        'batching.maxWaitMs: Expected integer between 0 and 10000 but received -1 of type number',
      );
    });

    it('BAD CALL - an unknown stream option in config.streams is a ConfigError', async () => {
      const err = await caught(() =>
        Pipeline.create({ model: assetPath(FAST_MODEL), streams: [{ id: 'a', url: 'x.mp4', fps: 5 } as never] }),
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).path).toBe('streams[0].fps');
    });

    it('reads the model: input size, layout and a fixed batch of 1', async () => {
      const p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      try {
        expect(p.model.inputWidth).toBe(320);
        expect(p.model.inputHeight).toBe(320);
        expect(p.model.layout).toBe('ultralytics');
        expect(p.model.numClasses).toBe(80);
        expect(p.batchSize).toBe(1);
        expect(p.stats().backend).toBe('onnxruntime');
      } finally {
        await p.close();
      }
    });

    it('starts the streams given in config.streams', async () => {
      const p = await Pipeline.create({ model: assetPath(FAST_MODEL), streams: [{ id: 'bus', url: assetPath(BUS) }] });
      try {
        expect(p.streams.map((s) => s.id)).toEqual(['bus']);
        const got = await collect(p.getStream('bus')!.results());
        expect(got).toHaveLength(1);
        expect(got[0]!.detections.some((d) => d.label === 'bus')).toBe(true);
      } finally {
        await p.close();
      }
    });
  });

  describe('Pipeline#addStream()', () => {
    let pipeline: Pipeline;
    beforeAll(async () => {
      pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
    });
    afterAll(async () => {
      await pipeline?.close();
    });

    it('BAD CALL - a duplicate id throws a ConfigError', async () => {
      const a = pipeline.addStream({ id: 'dup', url: assetPath(BUS) });
      const err = await caught(() => pipeline.addStream({ id: 'dup', url: assetPath(BUS) }));
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).path).toBe('stream.id');
      expect((err as ConfigError).message).toContain('Duplicate stream id "dup"');
      await collect(a.results());
      await pipeline.removeStream('dup');
    });

    it('BAD CALL - bad stream options throw a ConfigError naming the field', async () => {
      const err = await caught(() => pipeline.addStream({ id: 'x', url: assetPath(BUS), fpsLimit: -1 }));
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).path).toBe('stream.fpsLimit');
      expect(pipeline.getStream('x')).toBeUndefined();
    });

    it('EXPECTED FAILURE - a missing file fails only its stream: state failed, error event with hint; a healthy stream delivers every frame', async () => {
      const errors: CamtrackError[] = [];
      const states: StreamState[] = [];
      const bad = pipeline.addStream({ id: 'missing', url: '/nonexistent/dir/video.mp4' });
      bad.on('error', (e: CamtrackError) => errors.push(e));
      bad.on('state', (s: StreamState) => states.push(s));
      const good = pipeline.addStream({ id: 'good', url: assetPath(MMTRACKING) });
      const [badResults, goodResults] = await Promise.all([collect(bad.results()), collect(good.results())]);

      expect(badResults).toEqual([]);
      expect(await bad.whenEnded()).toBe('failed');
      expect(bad.state).toBe('failed');
      expect(states).toContain('failed');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(CamtrackError);
      expect(errors[0]!.code).toBe('ERR_CAMTRACK_SOURCE_OPEN');
      expect(errors[0]!.message).toContain('/nonexistent/dir/video.mp4');
      expect(errors[0]!.hint).toBeTruthy();
      expect(bad.lastError?.code).toBe('ERR_CAMTRACK_SOURCE_OPEN');

      expect(goodResults.map((r) => r.frameIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(await good.whenEnded()).toBe('ended');
      await pipeline.removeStream('missing');
      await pipeline.removeStream('good');
    });

    it('EXPECTED FAILURE - credentials never appear in errors, stream.url or stats', async () => {
      const port = await freePort();
      const errors: CamtrackError[] = [];
      const s = pipeline.addStream({ id: 'cred', url: `rtsp://admin:secret@127.0.0.1:${port}/x`, openTimeoutMs: 3000, reconnect: false });
      s.on('error', (e: CamtrackError) => errors.push(e));
      expect(s.url).not.toContain('secret');
      expect(await s.whenEnded()).toBe('failed');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.code).toBe('ERR_CAMTRACK_SOURCE_OPEN');
      const stats = pipeline.stats().streams.find((x) => x.id === 'cred')!;
      for (const text of [
        errors[0]!.message,
        errors[0]!.hint ?? '',
        errors[0]!.stack ?? '',
        JSON.stringify(errors[0]),
        s.url,
        stats.url,
        stats.lastError ?? '',
        s.lastError!.message,
      ]) {
        expect(text).not.toContain('secret');
        expect(text).not.toContain('admin:');
      }
      expect(stats.url).toBe(`rtsp://***@127.0.0.1:${port}/x`);
      await pipeline.removeStream('cred');
    });

    it('per-stream results are in frame order and stats() counters add up for a file', async () => {
      const s = pipeline.addStream({ id: 'order', url: assetPath(MMTRACKING) });
      const got = await collect(s.results());
      expect(got).toHaveLength(MMTRACKING_FRAMES);
      expectFrameOrder(got);
      expect(got.map((r) => r.frameIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      // 3 fps: pts 0, 333, 667, … ms
      got.forEach((r, i) => expect(r.ptsMs).toBeCloseTo((i * 1000) / 3, -1));
      for (const r of got) {
        expect(r.streamId).toBe('order');
        expect({ width: r.width, height: r.height }).toEqual(MMTRACKING_SIZE);
        expect(r.latencyMs).toBeGreaterThanOrEqual(0);
        expect(r.inferred).toBe(true); // no stream option passes frames through without inference yet
      }
      const st = s.stats();
      expect(st.state).toBe('ended');
      expect(st.live).toBe(false);
      expect(st.codec).toBe('mpeg4');
      expect({ width: st.width, height: st.height }).toEqual(MMTRACKING_SIZE);
      expect(st.nominalFps).toBeCloseTo(3, 5);
      expect(st.framesDecoded).toBe(MMTRACKING_FRAMES);
      expect(st.framesDelivered).toBe(MMTRACKING_FRAMES);
      const dropped = st.dropped.busy + st.dropped.fpsLimit + st.dropped.inference + st.dropped.decoderPool;
      expect(st.framesDecoded).toBe(st.framesSubmitted + st.dropped.busy + st.dropped.fpsLimit + st.dropped.decoderPool);
      expect(st.framesSubmitted).toBe(st.framesDelivered + st.dropped.inference);
      expect(dropped).toBe(0); // a file is not live: nothing may be dropped
      expect(st.dropped.consumer).toBe(0);
      expect(st.framesCorrupt).toBe(0);
      expect(st.packets).toBeGreaterThanOrEqual(MMTRACKING_FRAMES);
      expect(st.lastFrameAgeMs).toBeGreaterThanOrEqual(0);
      const ps = pipeline.stats();
      expect(ps.failedBatches).toBe(0);
      expect(ps.inFlight).toBe(0);
      expect(ps.images).toBeGreaterThanOrEqual(MMTRACKING_FRAMES);
      expect(ps.batches).toBeGreaterThanOrEqual(Math.ceil(ps.images / ps.batchSize));
      await pipeline.removeStream('order');
    });

    it('fpsLimit on a file drops frames and counts them as fpsLimit drops', async () => {
      const s = pipeline.addStream({ id: 'limited', url: assetPath(MMTRACKING), fpsLimit: 1 });
      const got = await collect(s.results());
      const st = s.stats();
      expect(st.framesDecoded).toBe(MMTRACKING_FRAMES);
      // 3 fps source limited to 1 fps: about every third frame of 2.67 s → 3 frames (±1)
      expect(got.length).toBeGreaterThanOrEqual(2);
      expect(got.length).toBeLessThanOrEqual(4);
      expect(st.dropped.fpsLimit).toBe(MMTRACKING_FRAMES - got.length);
      expect(st.framesDelivered).toBe(got.length);
      expectFrameOrder(got);
      await pipeline.removeStream('limited');
    });

    it('pipeline.results() yields the results of every stream', async () => {
      const all = pipeline.results({ queueSize: 1000 });
      const a = pipeline.addStream({ id: 'all-a', url: assetPath(MMTRACKING) });
      const b = pipeline.addStream({ id: 'all-b', url: assetPath(BUS) });
      await Promise.all([a.whenEnded(), b.whenEnded()]);
      const seen: FrameResult[] = [];
      // Both streams ended; the iterator stays open for future streams, so read what is queued.
      const reader = (async () => {
        for await (const r of all) {
          seen.push(r);
          if (seen.length === MMTRACKING_FRAMES + 1) break;
        }
      })();
      await reader;
      expect(seen.filter((r) => r.streamId === 'all-a').map((r) => r.frameIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(seen.filter((r) => r.streamId === 'all-b')).toHaveLength(1);
      await pipeline.removeStream('all-a');
      await pipeline.removeStream('all-b');
    });

    it('removeStream() mid-run ends that stream with state stopped; the other stream delivers all its frames', async () => {
      const long = pipeline.addStream({ id: 'long', url: assetPath(WALKING) });
      const short = pipeline.addStream({ id: 'short', url: assetPath(MMTRACKING) });
      const shortDone = collect(short.results());
      const longGot: FrameResult[] = [];
      for await (const r of long.results()) {
        longGot.push(r);
        if (longGot.length === 3) await pipeline.removeStream('long');
      }
      expect(await long.whenEnded()).toBe('stopped');
      expect(long.state).toBe('stopped');
      expect(longGot.length).toBeGreaterThanOrEqual(3);
      expect(longGot.length).toBeLessThan(WALKING_FRAMES);
      expectFrameOrder(longGot);
      expect(pipeline.getStream('long')).toBeUndefined();
      expect(pipeline.stats().streams.map((s) => s.id)).not.toContain('long');
      expect(() => long.stats()).toThrow(InvalidStateError);

      const shortGot = await shortDone;
      expect(shortGot.map((r) => r.frameIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(await short.whenEnded()).toBe('ended');
      await pipeline.removeStream('short');
    });
  });

  describe('Pipeline#stats() and Stream#stats()', () => {
    it('latencyHistogram holds every delivered result in cumulative le buckets, per stream and for the pipeline', async () => {
      await using p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      const streams = ['h1', 'h2'].map((id) => p.addStream({ id, url: assetPath(MMTRACKING) }));
      const results = await Promise.all(streams.map((s) => collect(s.results())));
      const ps = p.stats();
      const perStream = streams.map((s, i) => {
        const st = s.stats();
        const latencies = results[i]!.map((r) => r.latencyMs);
        expect(latencies).toHaveLength(MMTRACKING_FRAMES);
        expect(st.latencyHistogram.boundsMs).toEqual(LATENCY_BOUNDS_MS);
        // The same numbers as the results carry: a result is in every bucket whose bound it does not exceed.
        const le = [...LATENCY_BOUNDS_MS, Infinity].map((bound) => latencies.filter((ms) => ms <= bound).length);
        expect(st.latencyHistogram.counts).toEqual(le);
        expect(st.latencyHistogram.count).toBe(st.framesDelivered);
        expect(st.latencyHistogram.sumMs).toBeCloseTo(latencies.reduce((a, b) => a + b, 0), 6);
        // stream.stats() and pipeline.stats() give the same object (fps aside: it moves with the clock).
        expect({ ...st, fps: 0 }).toEqual({ ...ps.streams.find((x) => x.id === s.id)!, fps: 0 });
        return st.latencyHistogram;
      });
      expect(ps.latencyHistogram.boundsMs).toEqual(LATENCY_BOUNDS_MS);
      expect(ps.latencyHistogram.counts).toEqual(perStream[0]!.counts.map((n, i) => n + perStream[1]!.counts[i]!));
      expect(ps.latencyHistogram.count).toBe(2 * MMTRACKING_FRAMES);
      expect(ps.latencyHistogram.count).toBe(ps.latency.samples);
      expect(ps.latencyHistogram.sumMs).toBeCloseTo(perStream[0]!.sumMs + perStream[1]!.sumMs, 6);
      expect(ps.latency.p50Ms).toBeLessThanOrEqual(ps.latency.p99Ms);
      expect(p.stats().latencyHistogram).toEqual(ps.latencyHistogram); // reading resets nothing
    });
  });

  describe('Pipeline#close()', () => {
    it('is idempotent, ends open iterators, and later use is an InvalidStateError', async () => {
      const p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      const s = p.addStream({ id: 'w', url: assetPath(WALKING) });
      const iter = collect(s.results());
      const first = p.close();
      const second = p.close();
      await Promise.all([first, second]);
      await p.close();
      expect(p.closed).toBe(true);
      const got = await iter; // ends instead of hanging
      expect(got.length).toBeLessThan(WALKING_FRAMES);
      expect(s.ended).toBe(true);
      expect(['stopped', 'ended']).toContain(s.state);

      for (const use of [() => p.addStream({ id: 'x', url: assetPath(BUS) }), () => p.stats()]) {
        const err = await caught(use);
        expect(err).toBeInstanceOf(InvalidStateError);
        expect((err as InvalidStateError).code).toBe('ERR_CAMTRACK_INVALID_STATE');
      }
      // results() of a closed pipeline is an iterator that is already done
      expect(await p.results().next()).toEqual({ value: undefined, done: true });
    });

    it('await using disposes the pipeline at the end of the block', async () => {
      let outer: Pipeline | undefined;
      {
        await using p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
        outer = p;
        expect(p.closed).toBe(false);
        const got = await collect(p.addStream({ id: 'bus', url: assetPath(BUS) }).results());
        expect(got).toHaveLength(1);
      }
      expect(outer.closed).toBe(true);
      expect(() => outer!.stats()).toThrow(InvalidStateError);
    });

    it('[Symbol.asyncDispose]() closes like close()', async () => {
      const p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      await p[Symbol.asyncDispose]();
      expect(p.closed).toBe(true);
      await p.close();
    });
  });
});
