/**
 * Two very different files through one pipeline at the same time (yolox_nano, score >= 0.3):
 *  - car-detection.mp4: H.264 Baseline 768x432, 12.5 fps, 377 frames, mostly empty asphalt (the empty-frame path);
 *  - mmtracking-demo.mp4: MPEG-4 Part 2 1920x1080, 3 fps, 8 frames, a crowded night street.
 * Files are not live: every frame must be delivered, in order, with the right size and timestamps.
 * Ground truth from /work/shared/assets/SOURCES.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Pipeline, type CamtrackError, type FrameResult, type StreamStats } from '../../dist/index.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

const YOLOX = 'models/yolox_nano.onnx';
const CAR = 'videos/car-detection.mp4';
const MMT = 'videos/mmtracking-demo.mp4';

const CAR_FRAMES = 377;
const CAR_SIZE = { width: 768, height: 432 };
const CAR_FPS = 12.5;
const MMT_FRAMES = 8;
const MMT_SIZE = { width: 1920, height: 1080 };
const MMT_FPS = 3;
/** SOURCES.md: on frame 4 yolox_nano found 16 persons, 1 car, 1 bicycle, 1 truck. We ask for at least 10. */
const MMT_FRAME4_MIN_PERSONS = 10;

describeWithAssets('Pipeline on two files at once', [YOLOX, CAR, MMT], () => {
  describe('car-detection.mp4 (H.264, 12.5 fps) + mmtracking-demo.mp4 (MPEG-4 Part 2, 1080p)', () => {
    let pipeline: Pipeline;
    const results: Record<string, FrameResult[]> = { car: [], mmt: [] };
    const errors: CamtrackError[] = [];
    const finals: Record<string, string> = {};
    let stats: Record<string, StreamStats> = {};
    let wallMs = 0;

    beforeAll(async () => {
      const t0 = performance.now();
      pipeline = await Pipeline.create({ model: assetPath(YOLOX), detection: { scoreThreshold: 0.3 } });
      const streams = [
        pipeline.addStream({ id: 'car', url: assetPath(CAR), resultQueueSize: 1000 }),
        pipeline.addStream({ id: 'mmt', url: assetPath(MMT), resultQueueSize: 1000 }),
      ];
      await Promise.all(
        streams.map(async (s) => {
          s.on('error', (e: CamtrackError) => errors.push(e));
          for await (const r of s.results()) results[s.id]!.push(r);
          finals[s.id] = await s.whenEnded();
        }),
      );
      stats = Object.fromEntries(pipeline.stats().streams.map((s) => [s.id, s]));
      wallMs = performance.now() - t0;
      console.log(
        `[files] car ${results.car!.length}/${CAR_FRAMES}, mmt ${results.mmt!.length}/${MMT_FRAMES} in ${(wallMs / 1000).toFixed(1)} s; ` +
          `mmt frame 4: ${results.mmt![4]?.detections.filter((d) => d.label === 'person').length} persons`,
      );
    }, 120_000);

    afterAll(async () => {
      await pipeline?.close();
    });

    it('both streams end normally without errors', () => {
      expect(errors).toEqual([]);
      expect(finals).toEqual({ car: 'ended', mmt: 'ended' });
    });

    it('delivers every frame of both files (377 and 8), none dropped', () => {
      expect(results.car).toHaveLength(CAR_FRAMES);
      expect(results.mmt).toHaveLength(MMT_FRAMES);
      for (const id of ['car', 'mmt']) {
        const st = stats[id]!;
        expect(st.live).toBe(false);
        expect(st.framesDecoded).toBe(results[id]!.length);
        expect(st.framesDelivered).toBe(results[id]!.length);
        expect(st.dropped).toEqual({ busy: 0, fpsLimit: 0, inference: 0, breaker: 0, decoderPool: 0, consumer: 0 });
        expect(st.framesCorrupt).toBe(0);
      }
    });

    it('keeps each stream in frame order: frameIndex 0..N-1, pts at the nominal frame rate', () => {
      expect(results.car!.map((r) => r.frameIndex)).toEqual([...Array(CAR_FRAMES).keys()]);
      expect(results.mmt!.map((r) => r.frameIndex)).toEqual([...Array(MMT_FRAMES).keys()]);
      results.car!.forEach((r, i) => expect(Math.abs(r.ptsMs - (i * 1000) / CAR_FPS), `car pts of frame ${i}`).toBeLessThanOrEqual(2));
      results.mmt!.forEach((r, i) => expect(Math.abs(r.ptsMs - (i * 1000) / MMT_FPS), `mmt pts of frame ${i}`).toBeLessThanOrEqual(2));
    });

    it('reports the source size and codec of each file', () => {
      for (const r of results.car!) expect({ width: r.width, height: r.height }).toEqual(CAR_SIZE);
      for (const r of results.mmt!) expect({ width: r.width, height: r.height }).toEqual(MMT_SIZE);
      expect(stats.car).toMatchObject({ codec: 'h264', ...CAR_SIZE });
      expect(stats.mmt).toMatchObject({ codec: 'mpeg4', ...MMT_SIZE });
      expect(stats.car!.nominalFps).toBeCloseTo(CAR_FPS, 5);
      expect(stats.mmt!.nominalFps).toBeCloseTo(MMT_FPS, 5);
    });

    it(`finds >= ${MMT_FRAME4_MIN_PERSONS} persons on mmtracking-demo frame 4 (SOURCES.md: 16), all boxes inside 1920x1080`, () => {
      const f4 = results.mmt![4]!;
      expect(f4.frameIndex).toBe(4);
      const persons = f4.detections.filter((d) => d.label === 'person' && d.classId === 0);
      expect(persons.length).toBeGreaterThanOrEqual(MMT_FRAME4_MIN_PERSONS);
      for (const d of f4.detections) {
        expect(d.score).toBeGreaterThanOrEqual(0.3);
        expect(d.x1).toBeGreaterThanOrEqual(0);
        expect(d.y1).toBeGreaterThanOrEqual(0);
        expect(d.x2).toBeLessThanOrEqual(MMT_SIZE.width);
        expect(d.y2).toBeLessThanOrEqual(MMT_SIZE.height);
        expect(d.x1).toBeLessThan(d.x2);
        expect(d.y1).toBeLessThan(d.y2);
      }
      // The tracker confirms people over the 8 frames: most persons of frame 4 are tracked there.
      expect(f4.tracks.length).toBeGreaterThanOrEqual(Math.floor(persons.length / 2));
    });

    it('car-detection has frames without any detection (the empty-frame path)', () => {
      const empty = results.car!.filter((r) => r.detections.length === 0).length;
      expect(empty).toBeGreaterThan(0);
      const withPerson = results.car!.filter((r) => r.detections.some((d) => d.label === 'person')).length;
      console.log(`[files] car-detection: ${empty}/${CAR_FRAMES} frames without detections, ${withPerson} with a "person"`);
    });
  });
});
