/**
 * The backend's circuit breaker (issue 14 part 2; docs/scheduling.md "Circuit breaker"), with the real onnxruntime
 * workers and a real model and clip. Faults are injected by the test-only option inference.faults (honoured only when
 * NODE_ENV=test, which vitest sets): the workers fail the first N batches they take (without running them), or
 * worker 0 exits after N batches. Nothing of the backend is mocked.
 */
import { describe, expect, it } from 'vitest';

import { ConfigError, Pipeline, type BreakerEvent, type CamtrackError, type FrameResult, type PipelineStats } from '../../dist/index.js';
import { normaliseConfig } from '../../dist/config.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
const WALKING = 'videos/walking.mp4';

/** Polls `p.stats()` (event-driven enough: stats are cheap) until `done` says so, or fails after `ms` with the stats. */
async function until(p: Pipeline, done: (s: PipelineStats) => boolean, ms: number): Promise<PipelineStats> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = p.stats();
    if (done(s)) return s;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${JSON.stringify({ ...s, streams: undefined })}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describeWithAssets('Pipeline: circuit breaker over the real onnxruntime backend', [FAST_MODEL, WALKING], () => {
  it('opens after consecutive failures, drops frames with cause breaker, a failed probe reopens it, a good one closes it', async () => {
    const FAULTS = 12;
    await using p = await Pipeline.create({
      model: assetPath(FAST_MODEL),
      inference: {
        workers: 1,
        breaker: { consecutiveFailures: 3, windowBatches: 0, cooldownMs: 300, probeFrames: 1 },
        faults: { failNextBatches: FAULTS },
      },
    });
    const events: BreakerEvent[] = [];
    p.on('breaker', (e: BreakerEvent) => events.push(e));
    const s = p.addStream({ id: 'clip', url: assetPath(WALKING), loop: true });
    const results: FrameResult[] = [];
    s.on('result', (r: FrameResult) => results.push(r));
    const errors: CamtrackError[] = [];
    s.on('error', (e: CamtrackError) => errors.push(e));

    const t0 = Date.now();
    const opened = await until(p, (st) => st.breaker.opens >= 1, 60_000);
    const openMs = Date.now() - t0;
    expect(opened.breaker.transitions.consecutive).toBe(1);
    // Closed again once the injected faults are used up: results flow again (inferred ones).
    const closed = await until(p, (st) => st.breaker.transitions['probe-ok'] >= 1, 60_000);
    const deliveredAtClose = results.length;
    await until(p, () => results.length >= deliveredAtClose + 20, 60_000);
    const st = p.stats();
    const ss = s.stats();

    // Exactly the injected faults failed (every batch is 1 frame: the model's fixed batch), and they opened it once
    // by 'consecutive' then at least one probe failed (more faults were left than batches could be in flight).
    expect(closed.failedBatches).toBe(FAULTS);
    expect(st.breaker.state).toBe('closed');
    expect(st.breaker.transitions.consecutive).toBe(1);
    expect(st.breaker.transitions.window).toBe(0);
    expect(st.breaker.transitions['probe-failed']).toBeGreaterThanOrEqual(1);
    expect(st.breaker.transitions['probe-ok']).toBe(1);
    // Every open ends in one cooldown → half-open; opens = 1 + failed probes.
    expect(st.breaker.opens).toBe(1 + st.breaker.transitions['probe-failed']);
    expect(st.breaker.transitions.cooldown).toBe(st.breaker.opens);
    // Dropped with cause breaker and counted, per stream and in the pipeline's total (one stream: equal).
    expect(ss.dropped.breaker).toBeGreaterThan(0);
    expect(st.breaker.droppedFrames).toBe(ss.dropped.breaker);
    expect(ss.dropped.inference).toBe(FAULTS);
    // The stream kept going: not failed, no error, inferred results after the breaker closed.
    expect(s.state).not.toBe('failed');
    expect(errors).toEqual([]);
    expect(results.slice(deliveredAtClose).every((r) => r.inferred)).toBe(true);
    // Every transition was one 'breaker' event with its reason, in order: open (consecutive), then cooldown →
    // half-open and probe-failed → open repeated, then cooldown and probe-ok → closed.
    const failedProbes = st.breaker.transitions['probe-failed'];
    expect(events.map((e) => `${e.from}>${e.to}:${e.reason}`)).toEqual([
      'closed>open:consecutive',
      ...Array.from({ length: failedProbes }, () => ['open>half-open:cooldown', 'half-open>open:probe-failed']).flat(),
      'open>half-open:cooldown',
      'half-open>closed:probe-ok',
    ]);
    expect(events[0]!.message).toMatch(/injected fault/);
    console.log(
      `[breaker] open after ${openMs} ms; failed batches ${st.failedBatches}; dropped.breaker ${ss.dropped.breaker}; ` +
        `opens ${st.breaker.opens}; transitions ${JSON.stringify(st.breaker.transitions)}`,
    );
  }, 150_000);

  it("the windowed rule: half of a window of 4 batches failed opens it with reason 'window'; the probe closes it", async () => {
    await using p = await Pipeline.create({
      model: assetPath(FAST_MODEL),
      inference: {
        workers: 1,
        breaker: { consecutiveFailures: 0, windowBatches: 4, windowFailureRatio: 0.5, cooldownMs: 300, probeFrames: 1 },
        faults: { failNextBatches: 2 },
      },
    });
    const events: BreakerEvent[] = [];
    p.on('breaker', (e: BreakerEvent) => events.push(e));
    const s = p.addStream({ id: 'clip', url: assetPath(WALKING), loop: true });
    await until(p, (st) => st.breaker.transitions['probe-ok'] >= 1, 60_000);
    // Batches 1-2 failed, 3-4 succeeded: the 4th fills the window at 2/4 = 0.5.
    expect(events.map((e) => `${e.from}>${e.to}:${e.reason}`)).toEqual([
      'closed>open:window',
      'open>half-open:cooldown',
      'half-open>closed:probe-ok',
    ]);
    expect(p.stats().failedBatches).toBe(2);
    expect(s.stats().dropped.breaker).toBeGreaterThan(0);
    expect(s.state).not.toBe('failed');
  }, 120_000);

  /**
   * walking.mp4 as a file (5 fps of its 25 by fpsLimit, deterministic by pts: 69 of its 341 frames inferred, which keeps
   * the test short on a loaded machine) through a pipeline with `inference`: its results, stats and breaker events.
   */
  async function runWalking(inference: object): Promise<{
    results: FrameResult[];
    stream: ReturnType<Pipeline['stats']>['streams'][number];
    pipeline: PipelineStats;
    events: string[];
    fallbackStartMs: number | undefined;
    errors: CamtrackError[];
    state: string;
  }> {
    await using p = await Pipeline.create({ model: assetPath(FAST_MODEL), inference });
    const events: string[] = [];
    p.on('breaker', (e: BreakerEvent) => events.push(`${e.from}>${e.to}:${e.reason}`));
    const s = p.addStream({ id: 'clip', url: assetPath(WALKING), fpsLimit: 5 });
    const results: FrameResult[] = [];
    s.on('result', (r: FrameResult) => results.push(r));
    const errors: CamtrackError[] = [];
    s.on('error', (e: CamtrackError) => errors.push(e));
    const state = await s.whenEnded();
    return { results, stream: s.stats(), pipeline: p.stats(), events, fallbackStartMs: p.fallbackStartMs, errors, state };
  }

  it("fallback 'cpu': while open the CPU fallback infers the refused frames (same detections), none is dropped with cause breaker, the probe closes it", async () => {
    const FAULTS = 6;
    const breaker = { consecutiveFailures: 3, windowBatches: 0, cooldownMs: 300, probeFrames: 1 };
    const t0 = performance.now();
    const run = await runWalking({ workers: 1, breaker: { ...breaker, fallback: 'cpu' }, faults: { failNextBatches: FAULTS } });
    const runMs = performance.now() - t0;
    // The same frames without faults: what the primary infers on each (the model's batch is fixed at 1, so each frame
    // is inferred alone whichever backend takes it).
    const reference = await runWalking({ workers: 1, breaker });
    const st = run.stream;

    expect(run.state).toBe('ended');
    expect(run.errors).toEqual([]);
    // Opened by the injected faults, never dropped a frame with cause breaker: the fallback took them.
    expect(run.pipeline.breaker.opens).toBeGreaterThanOrEqual(1);
    expect(run.pipeline.breaker.transitions.consecutive).toBe(1);
    expect(st.dropped.breaker).toBe(0);
    expect(run.pipeline.breaker.droppedFrames).toBe(0);
    expect(run.pipeline.breaker.fallback).toBe('cpu');
    // Every frame of the file ends as a result or a counted drop: the faults' frames (dropped.inference) and nothing else.
    expect(st.framesSubmitted + st.dropped.busy + st.dropped.fpsLimit).toBe(341);
    expect(st.framesDelivered + st.dropped.inference + st.fallback.failed).toBe(st.framesSubmitted);
    expect(st.dropped.inference).toBe(FAULTS);
    expect(st.fallback.failed).toBe(0);
    expect(run.results).toHaveLength(st.framesDelivered);
    // Results say who inferred them; the fallback's count is the stats' (stream and pipeline).
    const byFallback = run.results.filter((r) => r.inferredBy === 'fallback');
    expect(byFallback.length).toBeGreaterThan(0);
    expect(st.fallback.frames).toBe(byFallback.length);
    expect(run.pipeline.breaker.fallbackFrames).toBe(byFallback.length);
    expect(run.pipeline.breaker.fallbackBatches).toBe(byFallback.length);
    expect(run.pipeline.breaker.fallbackFailedBatches).toBe(0);
    expect(run.results.every((r) => r.inferred && (r.inferredBy === 'primary' || r.inferredBy === 'fallback'))).toBe(true);
    // The primary's failures alone reached the breaker and its batch counters.
    expect(run.pipeline.failedBatches).toBe(FAULTS);
    // The fallback really inferred: on the frames it took, the same detections as the primary on the same frames.
    const refByFrame = new Map(reference.results.map((r) => [r.frameIndex, r]));
    let compared = 0;
    for (const r of byFallback) {
      const ref = refByFrame.get(r.frameIndex);
      if (!ref) continue;
      compared++;
      expect(r.detections.length, `frame ${r.frameIndex}`).toBe(ref.detections.length);
      r.detections.forEach((d, i) => {
        expect(d.classId).toBe(ref.detections[i]!.classId);
        expect(Math.abs(d.x1 - ref.detections[i]!.x1)).toBeLessThan(0.5);
        expect(Math.abs(d.score - ref.detections[i]!.score)).toBeLessThan(1e-3);
      });
    }
    expect(compared).toBe(byFallback.length);
    expect(byFallback.reduce((n, r) => n + r.detections.length, 0)).toBeGreaterThan(0);
    // The primary's probe closed it and the primary infers again: the frames after the fallback's last are primary's.
    expect(run.pipeline.breaker.state).toBe('closed');
    const lastFallback = run.results.lastIndexOf(byFallback.at(-1)!);
    expect(run.results.length - lastFallback - 1).toBeGreaterThan(5);
    expect(run.results.slice(lastFallback + 1).every((r) => r.inferredBy === 'primary')).toBe(true);
    // The event sequence as without a fallback.
    const failedProbes = run.pipeline.breaker.transitions['probe-failed'];
    expect(run.events).toEqual([
      'closed>open:consecutive',
      ...Array.from({ length: failedProbes }, () => ['open>half-open:cooldown', 'half-open>open:probe-failed']).flat(),
      'open>half-open:cooldown',
      'half-open>closed:probe-ok',
    ]);
    expect(run.fallbackStartMs).toBeGreaterThan(0);
    expect(reference.fallbackStartMs).toBeUndefined();
    console.log(
      `[breaker-fallback] fallback worker started in ${run.fallbackStartMs!.toFixed(0)} ms; run ${runMs.toFixed(0)} ms; ` +
        `fallback frames ${byFallback.length} (${byFallback.reduce((n, r) => n + r.detections.length, 0)} detections, ` +
        `compared with the primary on ${compared} frames); dropped.inference ${st.dropped.inference}; opens ${run.pipeline.breaker.opens}; ` +
        `inferred ${st.framesSubmitted} of 341 frames (fpsLimit ${st.dropped.fpsLimit})`,
    );
  }, 300_000);

  it('a fallback that fails too: its frames are dropped with cause breaker and counted, once (no loop)', async () => {
    const run = await runWalking({
      workers: 1,
      breaker: { consecutiveFailures: 3, windowBatches: 0, cooldownMs: 300, probeFrames: 1, fallback: 'cpu' },
      // 3 primary faults: they open the breaker once and the first probe closes it, one cooldown after. With more, the
      // probes that fail add cooldowns while every refused frame fails at once on the fallback, so on a fast machine
      // the file could end before a probe succeeds (it did once: the file read at decode speed while all failed).
      faults: { failNextBatches: 3, fallback: { failNextBatches: 1_000_000 } },
    });
    const st = run.stream;
    expect(run.state).toBe('ended');
    expect(run.errors).toEqual([]);
    expect(st.fallback.frames).toBe(0);
    expect(st.fallback.failed).toBeGreaterThan(0);
    expect(st.dropped.breaker).toBe(st.fallback.failed);
    expect(run.pipeline.breaker.droppedFrames).toBe(st.fallback.failed);
    expect(run.pipeline.breaker.fallbackFailedBatches).toBe(run.pipeline.breaker.fallbackBatches);
    expect(st.framesDelivered + st.dropped.inference + st.fallback.failed).toBe(st.framesSubmitted);
    expect(st.framesSubmitted + st.dropped.busy + st.dropped.fpsLimit).toBe(341);
    expect(run.results.some((r) => r.inferredBy === 'fallback')).toBe(false);
    // The fallback's failures never fed the breaker: the primary's 3 faults, and its probe closed it.
    expect(run.pipeline.failedBatches).toBe(3);
    expect(run.pipeline.breaker.state).toBe('closed');
    expect(run.events.at(-1)).toBe('half-open>closed:probe-ok');
  }, 300_000);

  it('a killed inference worker: its batches fail and count, the stream keeps going on the other worker', async () => {
    await using p = await Pipeline.create({
      model: assetPath(FAST_MODEL),
      inference: { workers: 2, faults: { killWorkerAfterBatches: 5 } },
    });
    const lost: CamtrackError[] = [];
    p.on('workerError', (e: CamtrackError) => lost.push(e));
    const s = p.addStream({ id: 'clip', url: assetPath(WALKING) });
    let delivered = 0;
    s.on('result', () => delivered++);
    const final = await s.whenEnded();
    expect(final).toBe('ended');
    expect(lost).toHaveLength(1);
    expect(lost[0]!.message).toMatch(/inference worker onnxruntime-0 exited \(code 1\)/);
    const st = s.stats();
    // Every frame is accounted for: delivered, or lost with the dead worker's batches (dropped.inference).
    expect(delivered + st.dropped.inference).toBe(st.framesSubmitted);
    expect(st.framesSubmitted + st.dropped.breaker + st.dropped.busy + st.dropped.fpsLimit).toBe(341);
    expect(delivered).toBeGreaterThan(300);
    // The dead worker's in-flight batches were lost (measured: 2 frames), too few to open the breaker (5 in a row).
    expect(st.dropped.inference).toBeGreaterThanOrEqual(1);
    expect(p.stats().breaker.opens).toBe(0);
    expect(st.dropped.breaker).toBe(0);
  }, 120_000);

  it('inference.faults is refused outside tests (NODE_ENV other than test)', async () => {
    const env = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const err = await Pipeline.create({ model: assetPath(FAST_MODEL), inference: { faults: { failNextBatches: 1 } } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('ERR_CAMTRACK_INVALID_CONFIG');
      expect((err as ConfigError).message).toBe('inference.faults: fault injection is for tests only');
    } finally {
      process.env.NODE_ENV = env;
    }
  });
});

describe('config: inference.breaker', () => {
  it('has documented defaults', () => {
    const cfg = normaliseConfig({ model: 'x.onnx' });
    expect(cfg.inference.breaker).toEqual({
      consecutiveFailures: 5,
      windowBatches: 20,
      windowFailureRatio: 0.5,
      cooldownMs: 5000,
      probeFrames: 1,
      fallback: 'none',
    });
  });

  it("BAD CALL - fallback other than 'none' or 'cpu' is ERR_CAMTRACK_INVALID_CONFIG naming its path", () => {
    for (const fallback of ['gpu', true, 1]) {
      const err = (() => {
        try {
          normaliseConfig({ model: 'x.onnx', inference: { breaker: { fallback: fallback as 'cpu' } } });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('ERR_CAMTRACK_INVALID_CONFIG');
      expect((err as ConfigError).message).toMatch(/^inference\.breaker\.fallback: /);
    }
    expect(normaliseConfig({ model: 'x.onnx', inference: { breaker: { fallback: 'cpu' } } }).inference.breaker.fallback).toBe('cpu');
  });

  it('BAD CALL - an unknown field of inference.faults.fallback is refused with its path', () => {
    expect(() => normaliseConfig({ model: 'x.onnx', inference: { faults: { fallback: { failNext: 1 } as never } } })).toThrow(
      /^inference\.faults\.fallback/,
    );
  });
});
