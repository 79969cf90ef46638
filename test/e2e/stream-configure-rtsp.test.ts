/**
 * stream.configure() on RUNNING RTSP streams (issue 9's acceptance test): a GStreamer gst-rtsp-server on loopback
 * (test/helpers/rtsp-server.ts) serves walking.mp4 (pedestrians, 1280x720, 25 fps, 13.6 s; every client its own
 * session from the start) and an endless 25 fps test camera. Each change is made while the stream runs, without
 * reopening it (packets keep counting, no reconnect), and checked on the results that follow it:
 *
 * - a high score threshold leaves only detections above it within a few frames (most frames: none), back down they
 *   return;
 * - a class filter keeps only that class; an exclude polygon removes the detections whose bottom-centre anchor lies
 *   in it, an include polygon keeps only those in it; an unknown label is a ConfigError naming its path;
 * - a tracker parameter change keeps the track ids; a tracker type change starts a new tracker (ids from 1);
 * - an fpsLimit change changes the measured fps (10 → 4 → 0);
 * - a non-live field (url) is a ConfigError naming it, and the stream runs on unchanged.
 *
 * A change applies to frames postprocessed after configure() returns; the few results already on their way to JS
 * were made with the previous options, so each check skips GRACE results after a change.
 * yolo11n_int8_320.onnx (fastest; finds the walkers at its default 0.25 floor).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, Pipeline, type FrameResult, type Stream } from '../../dist/index.js';
import { assetPath, describeWithAssets, isCi } from '../helpers/assets.js';
import { killAllTracked } from '../helpers/processes.js';
import { rtspServerUnavailableReason, startRtspServer, type RtspServer } from '../helpers/rtsp-server.js';

const WALKING = 'videos/walking.mp4';
const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
/** The harness's endless camera at 25 fps. */
const CAM25 = 'live:320x240@25';
/** Results after a change that may still carry the previous options (already postprocessed, not yet delivered). */
const GRACE = 5;
const WIDTH = 1280;
const HEIGHT = 720;
/** The left half of walking.mp4's frame, as a polygon. */
const LEFT_HALF: [number, number][] = [
  [0, 0],
  [WIDTH / 2, 0],
  [WIDTH / 2, HEIGHT],
  [0, HEIGHT],
];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Records a stream's results as they arrive; `next(n)` resolves with the next n results after the call. */
class Recorder {
  readonly all: FrameResult[] = [];
  #waiters: { until: number; resolve: () => void }[] = [];

  constructor(stream: Stream) {
    stream.on('result', (r: FrameResult) => {
      this.all.push(r);
      this.#waiters = this.#waiters.filter((w) => {
        if (this.all.length < w.until) return true;
        w.resolve();
        return false;
      });
    });
  }

  /** The next `n` results after now (rejects after `timeoutMs`). */
  next(n: number, timeoutMs = 15_000): Promise<FrameResult[]> {
    const from = this.all.length;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.all.length - from} of ${n} results within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        until: from + n,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.all.slice(from, from + n));
        },
      });
    });
  }

  /** The `n` results after the next GRACE ones (those made after a change just made). */
  async afterChange(n: number): Promise<FrameResult[]> {
    return (await this.next(GRACE + n)).slice(GRACE);
  }
}

const detections = (rs: FrameResult[]): number => rs.reduce((n, r) => n + r.detections.length, 0);
const anchor = (d: { x1: number; x2: number; y2: number }): [number, number] => [(d.x1 + d.x2) / 2, d.y2];

const unavailable = rtspServerUnavailableReason();
if (unavailable !== undefined && !isCi) console.warn(`[camtrack tests] skipping stream.configure() RTSP tests: ${unavailable}`);
const describeRtsp = unavailable !== undefined && !isCi ? describe.skip : describe;

describeWithAssets('Stream#configure() on a running RTSP stream', [WALKING, FAST_MODEL], () => {
  describeRtsp('live changes from the next frames', () => {
    let server: RtspServer;

    beforeAll(async () => {
      if (unavailable !== undefined) throw new Error(unavailable); // only reached with CI=true
      server = await startRtspServer({ mounts: { '/walk': `file:${assetPath(WALKING)}`, '/cam25': CAM25 } });
    });

    afterAll(async () => {
      await server?.stop();
      await killAllTracked();
    });

    it('a high scoreThreshold removes the detections below it within a few frames; back down, they return', async () => {
      await using p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      const s = p.addStream({ id: 'walk', url: server.url('/walk'), reconnect: false });
      const rec = new Recorder(s);
      const before = await rec.next(20);
      const packets = s.stats().packets;

      const high = 0.8;
      const opts = s.configure({ detection: { scoreThreshold: high } });
      expect(opts.detection.scoreThreshold).toBe(high);
      expect(s.options.detection.scoreThreshold).toBe(high);
      const during = await rec.afterChange(20);

      s.configure({ detection: { scoreThreshold: 0 } });
      const after = await rec.afterChange(20);
      const st = s.stats();
      console.log(
        `[configure scoreThreshold] detections per frame: ${(detections(before) / 20).toFixed(2)} → ${(detections(during) / 20).toFixed(2)} ` +
          `(threshold ${high}) → ${(detections(after) / 20).toFixed(2)}; reconnects ${st.reconnects}`,
      );
      expect(detections(before)).toBeGreaterThanOrEqual(20); // persons in (about) every frame
      expect(during.flatMap((r) => r.detections).every((d) => d.score >= high)).toBe(true);
      expect(detections(during)).toBeLessThanOrEqual(detections(before) / 4);
      expect(detections(after)).toBeGreaterThanOrEqual(detections(before) / 2);
      expect(after.flatMap((r) => r.detections).some((d) => d.score < high)).toBe(true);
      // The same connection throughout: no reconnect, packets kept flowing.
      expect(st.reconnects).toBe(0);
      expect(st.packets).toBeGreaterThan(packets);
      expect(s.state).toBe('live');
    }, 60_000);

    it('a class filter keeps only its class; exclude/include polygons act on the bottom-centre anchor; an unknown label is a ConfigError', async () => {
      await using p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      const s = p.addStream({ id: 'walk', url: server.url('/walk'), reconnect: false });
      const rec = new Recorder(s);
      const before = await rec.next(15);
      const labels = new Set(before.flatMap((r) => r.detections.map((d) => d.label)));
      expect(labels.has('person')).toBe(true);

      // Everything but persons: the walkers vanish.
      s.configure({ detection: { classes: ['car', 'bicycle'] } });
      const cars = await rec.afterChange(15);
      expect(cars.flatMap((r) => r.detections).every((d) => d.label === 'car' || d.label === 'bicycle')).toBe(true);
      // Persons only, by class id.
      s.configure({ detection: { classes: [0] } });
      const persons = await rec.afterChange(15);
      expect(persons.flatMap((r) => r.detections).every((d) => d.label === 'person')).toBe(true);
      expect(detections(persons)).toBeGreaterThan(0);

      // The left half excluded: no anchor there.
      s.configure({ detection: { classes: null, exclude: [LEFT_HALF] } });
      const right = await rec.afterChange(15);
      // The whole frame excluded: nothing.
      s.configure({ detection: { exclude: [[[0, 0], [WIDTH, 0], [WIDTH, HEIGHT], [0, HEIGHT]]] } });
      const none = await rec.afterChange(10);
      // Only the left half included (exclude removed).
      s.configure({ detection: { exclude: [], include: [LEFT_HALF] } });
      const left = await rec.afterChange(15);
      const xs = (rs: FrameResult[]) => rs.flatMap((r) => r.detections.map((d) => anchor(d)[0]));
      console.log(
        `[configure classes/polygons] labels before: ${[...labels].join(',')}; persons-only ${detections(persons)}, ` +
          `right half ${detections(right)} (x ≥ ${Math.min(...xs(right), Infinity).toFixed(0)}), all excluded ${detections(none)}, ` +
          `left half ${detections(left)} (x ≤ ${Math.max(...xs(left), -Infinity).toFixed(0)})`,
      );
      expect(xs(right).every((x) => x > WIDTH / 2)).toBe(true);
      expect(detections(none)).toBe(0);
      expect(xs(left).every((x) => x <= WIDTH / 2)).toBe(true);
      expect(detections(right) + detections(left)).toBeGreaterThan(0);

      // An unknown label: ConfigError naming its path; nothing changes.
      let error: unknown;
      try {
        s.configure({ detection: { include: [], classes: ['person', 'unicorn'] } });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).path).toBe('stream.detection.classes[1]');
      expect(s.options.detection.include).toEqual([LEFT_HALF]);
    }, 60_000);

    it('a tracker parameter change keeps the track ids; a tracker type change starts new ids', async () => {
      await using p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      const s = p.addStream({ id: 'walk', url: server.url('/walk'), reconnect: false, tracker: { type: 'bytetrack' } });
      const rec = new Recorder(s);
      const before = await rec.next(40);
      const idsOf = (r: FrameResult) => r.tracks.map((t) => t.trackId);
      const lastIds = new Set(before.slice(-5).flatMap(idsOf));
      const maxBefore = Math.max(...before.flatMap(idsOf));

      s.configure({ tracker: { trackThresh: 0.45, matchThresh: 0.85, trackBufferSeconds: 2 } });
      expect(s.options.tracker).toMatchObject({ type: 'bytetrack', trackThresh: 0.45, matchThresh: 0.85, trackBufferSeconds: 2 });
      const after = await rec.afterChange(20);
      const afterIds = new Set(after.flatMap(idsOf));
      const kept = [...lastIds].filter((id) => afterIds.has(id));

      s.configure({ tracker: { type: 'sort' } });
      const sort = await rec.afterChange(20);
      const sortIds = sort.flatMap(idsOf);
      console.log(
        `[configure tracker] ids before: ${[...lastIds].join(',')} (max ${maxBefore}); after a parameter change: ` +
          `${[...afterIds].join(',')} (kept ${kept.join(',')}); after a type change (sort): ${[...new Set(sortIds)].join(',')}`,
      );
      expect(lastIds.size).toBeGreaterThan(0);
      // The walkers keep their ids across the parameter change, and no id starts over.
      expect(kept.length).toBeGreaterThanOrEqual(Math.min(2, lastIds.size));
      expect([...afterIds].every((id) => lastIds.has(id) || id > maxBefore)).toBe(true);
      // A new tracker of another type numbers its tracks from 1 again.
      expect(sortIds.length).toBeGreaterThan(0);
      expect(Math.min(...sortIds)).toBe(1);
    }, 60_000);

    it('an fpsLimit change changes the measured fps (10 → 4 → unlimited)', async () => {
      await using p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      const s = p.addStream({ id: 'cam25', url: server.url('/cam25'), fpsLimit: 10, reconnect: false });
      const rec = new Recorder(s);
      await rec.next(1);
      // fps: the stream's own rate over its last second; read it twice after each change, once the window holds
      // only frames of the new limit.
      const settle = async (): Promise<number[]> => {
        await sleep(2500);
        const a = s.stats().fps;
        await sleep(500);
        return [a, s.stats().fps];
      };
      const at10 = await settle();
      const dropsAt10 = s.stats().dropped.fpsLimit;
      s.configure({ fpsLimit: 4 });
      const at4 = await settle();
      s.configure({ fpsLimit: 0 });
      const unlimited = await settle();
      const fpsLimitDropsUnlimited = s.stats().dropped.fpsLimit;
      await sleep(1000);
      const st = s.stats();
      console.log(
        `[configure fpsLimit] fps at 10: ${at10.map((x) => x.toFixed(1)).join('/')}, at 4: ${at4.map((x) => x.toFixed(1)).join('/')}, ` +
          `unlimited: ${unlimited.map((x) => x.toFixed(1)).join('/')} (inputFps ${st.inputFps.toFixed(1)}, busy drops ${st.dropped.busy})`,
      );
      for (const fps of at10) {
        expect(fps).toBeGreaterThanOrEqual(7);
        expect(fps).toBeLessThanOrEqual(13);
      }
      for (const fps of at4) {
        expect(fps).toBeGreaterThanOrEqual(3);
        expect(fps).toBeLessThanOrEqual(5.5);
      }
      // Unlimited: every frame the model keeps up with (25 fps in; busy drops when it cannot). On a quiet machine that
      // is about 25; on a 2-core machine loaded by other jobs it fell to 10 (CI at d4561fe, load 12), so the check is
      // that the limit is gone: above the 4 fps limit, and no frame is dropped for fpsLimit any more.
      for (const fps of unlimited) expect(fps).toBeGreaterThan(5.5);
      expect(st.dropped.fpsLimit).toBeGreaterThan(dropsAt10);
      expect(st.dropped.fpsLimit).toBe(fpsLimitDropsUnlimited);
      expect(st.reconnects).toBe(0);
      expect(s.state).toBe('live');
    }, 60_000);

    it('EXPECTED FAILURE - a non-live field (url) is a ConfigError naming it; the stream runs on unchanged', async () => {
      await using p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      const s = p.addStream({ id: 'cam25', url: server.url('/cam25'), reconnect: false });
      const rec = new Recorder(s);
      await rec.next(3);
      let error: unknown;
      try {
        s.configure({ url: server.url('/walk'), fpsLimit: 5 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const e = error as ConfigError;
      expect(e.code).toBe('ERR_CAMTRACK_INVALID_CONFIG');
      expect(e.path).toBe('stream.url');
      expect(e.message).toContain('url cannot change on a running stream; live-changeable: fpsLimit, detection, analytics, inference, motion, tracker, resultQueueSize');
      expect(e.hint).toBe('remove the stream and add it again with the new url');
      // Nothing of the patch was applied (not even its live fpsLimit), and the stream runs on.
      expect(s.options.fpsLimit).toBe(0);
      expect(s.options.url).toBe(server.url('/cam25'));
      const more = await rec.next(10);
      expect(more.every((r) => r.width === 320 && r.height === 240)).toBe(true);
      // A removed stream cannot be configured.
      await s.remove();
      expect(() => s.configure({ fpsLimit: 5 })).toThrow(/was removed/);
    }, 60_000);
  });
});
