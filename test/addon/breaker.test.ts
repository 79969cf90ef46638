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
    expect(cfg.inference.breaker).toEqual({ consecutiveFailures: 5, windowBatches: 20, windowFailureRatio: 0.5, cooldownMs: 5000, probeFrames: 1 });
  });
});
