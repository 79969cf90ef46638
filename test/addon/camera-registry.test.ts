/**
 * CameraRegistry (issue 9, seam e; src/cameras/registry.ts) on the built package with two real models: each camera's
 * results come from its own model's pipeline (input size, and detections equal to a standalone Pipeline of that model
 * on the same image), removing a camera of one model does not disturb the other model's cameras and closes the idle
 * pipeline, a duplicate id and an unknown model name are ConfigErrors, events carry the camera id and model.
 * The config: test/unit/config-registry.test.ts; `camtrack run` with two models: test/e2e/cli.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CameraRegistry,
  CamtrackError,
  ConfigError,
  Pipeline,
  type CameraEvent,
  type Detection,
  type FrameResult,
} from '../../dist/index.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

/** 320×320 input (SOURCES.md), Ultralytics layout. */
const SMALL = 'models/yolo11n_int8_320.onnx';
/** 416×416 input, YOLOX layout. */
const YOLOX = 'models/yolox_nano.onnx';
const BUS = 'images/bus.jpg';
/** SOURCES.md: H.264, 1280x720, 25 fps, 341 frames. */
const WALKING = 'videos/walking.mp4';
const WALKING_FRAMES = 341;

async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, but none was thrown');
}

/** The detections of bus.jpg from a standalone Pipeline of `model`. */
async function standaloneDetections(model: string): Promise<Detection[]> {
  const p = await Pipeline.create({ model: assetPath(model), streams: [{ id: 'ref', url: assetPath(BUS) }] });
  try {
    const out: FrameResult[] = [];
    for await (const r of p.getStream('ref')!.results()) out.push(r);
    expect(out).toHaveLength(1);
    return out[0]!.detections;
  } finally {
    await p.close();
  }
}

function expectSameDetections(got: Detection[], want: Detection[], what: string): void {
  expect(got.map((d) => d.label), what).toEqual(want.map((d) => d.label));
  got.forEach((d, i) => {
    const w = want[i]!;
    expect(d.score, `${what} [${i}] score`).toBeCloseTo(w.score, 3);
    for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(Math.abs(d[k] - w[k]), `${what} [${i}].${k}`).toBeLessThan(0.5);
  });
}

describeWithAssets('CameraRegistry', [SMALL, YOLOX, BUS, WALKING], () => {
  describe('two models, one camera on each', () => {
    let registry: CameraRegistry;
    const results: { r: FrameResult; model: string }[] = [];
    const events: CameraEvent[] = [];
    beforeAll(async () => {
      registry = await CameraRegistry.create({
        models: { small: assetPath(SMALL), yolox: assetPath(YOLOX) },
        streams: [
          { id: 'bus-small', url: assetPath(BUS), model: 'small' },
          { id: 'bus-yolox', url: assetPath(BUS), model: 'yolox' },
        ],
      });
      // Right after create(): every camera's results and events are still to come (as with Pipeline.create()).
      registry.on('result', (r: FrameResult, model: string) => results.push({ r, model }));
      registry.on('event', (e: CameraEvent) => events.push(e));
      await registry.whenAllEnded();
    });
    afterAll(async () => {
      await registry?.close();
    });

    it("each camera runs on its own model's pipeline: binding, input size, stats per pipeline and per camera", () => {
      expect(registry.models).toEqual(['small', 'yolox']);
      expect(registry.list().map((c) => [c.id, c.model])).toEqual([
        ['bus-small', 'small'],
        ['bus-yolox', 'yolox'],
      ]);
      expect(registry.pipeline('small')!.model.inputWidth).toBe(320);
      expect(registry.pipeline('yolox')!.model.inputWidth).toBe(416);
      expect(registry.pipeline('small')!.getStream('bus-small')).toBe(registry.get('bus-small'));
      expect(registry.pipeline('small')!.getStream('bus-yolox')).toBeUndefined();
      expect(registry.pipeline('yolox')!.getStream('bus-yolox')).toBe(registry.get('bus-yolox'));
      const st = registry.stats();
      expect(Object.keys(st.pipelines)).toEqual(['small', 'yolox']);
      expect(st.pipelines.small!.streams.map((s) => s.id)).toEqual(['bus-small']);
      expect(st.pipelines.yolox!.streams.map((s) => s.id)).toEqual(['bus-yolox']);
      // Merged per camera, the pipelines' objects as they are (no field renamed or added).
      expect(st.cameras).toEqual([st.pipelines.small!.streams[0], st.pipelines.yolox!.streams[0]]);
      for (const c of st.cameras) expect(c).toMatchObject({ framesDelivered: 1, state: 'ended' });
      expect(Object.keys(st.cameras[0]!).sort()).toEqual(Object.keys(registry.get('bus-small')!.stats()).sort());
    });

    it("each camera's results come from its own model: the same detections as a standalone pipeline of that model", async () => {
      expect(results.map(({ r, model }) => [r.streamId, model]).sort()).toEqual([
        ['bus-small', 'small'],
        ['bus-yolox', 'yolox'],
      ]);
      const small = results.find((x) => x.r.streamId === 'bus-small')!.r.detections;
      const yolox = results.find((x) => x.r.streamId === 'bus-yolox')!.r.detections;
      const refSmall = await standaloneDetections(SMALL);
      const refYolox = await standaloneDetections(YOLOX);
      expectSameDetections(small, refSmall, 'bus-small vs yolo11n@320');
      expectSameDetections(yolox, refYolox, 'bus-yolox vs yolox_nano@416');
      // And the two models do see the image differently (SOURCES.md: YOLOX's bus 0.905, yolo11n@320's lower).
      const bus = (ds: Detection[]) => ds.find((d) => d.label === 'bus')!.score;
      expect(bus(yolox) - bus(small)).toBeGreaterThan(0.1);
    });

    it('events carry the camera id and its model', () => {
      for (const id of ['bus-small', 'bus-yolox']) {
        const model = id === 'bus-small' ? 'small' : 'yolox';
        const states = events.filter((e): e is Extract<CameraEvent, { type: 'state' }> => e.type === 'state' && e.cameraId === id);
        expect(states.map((e) => [e.model, e.change.state])).toEqual([
          [model, 'live'],
          [model, 'ended'],
        ]);
        expect(events.filter((e) => e.type === 'end' && e.cameraId === id)).toEqual([{ type: 'end', cameraId: id, model, state: 'ended' }]);
      }
    });

    it('EXPECTED FAILURE - a duplicate camera id is a ConfigError with a code, also across models', async () => {
      const err = await caught(() => registry.add({ id: 'bus-small', url: assetPath(BUS), model: 'yolox' }));
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('ERR_CAMTRACK_INVALID_CONFIG');
      expect((err as ConfigError).path).toBe('stream.id');
      expect((err as ConfigError).message).toBe('stream.id: Duplicate stream id "bus-small"');
      expect(registry.list()).toHaveLength(2);
    });

    it('EXPECTED FAILURE - an unknown model name is a ConfigError naming the path and the known names', async () => {
      const err = await caught(() => registry.add({ id: 'new', url: assetPath(BUS), model: 'yolo99' }));
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe('stream.model: Expected one of "small", "yolox" (the names in models) but received "yolo99" of type string');
      // Several models and no top-level one: a camera must name its model.
      const missing = await caught(() => registry.add({ id: 'new', url: assetPath(BUS) }));
      expect((missing as ConfigError).path).toBe('stream.model');
      expect(registry.get('new')).toBeUndefined();
    });
  });

  describe('removing a camera', () => {
    it("does not disturb the other model's cameras, and closes its model's pipeline when it was the last there", async () => {
      await using registry = await CameraRegistry.create({
        models: { small: assetPath(SMALL), yolox: assetPath(YOLOX) },
        // Files are read without drops; fpsLimit keeps the inference load small (the others are counted drops).
        streams: [
          { id: 'keep', url: assetPath(WALKING), model: 'small', fpsLimit: 5 },
          { id: 'gone', url: assetPath(WALKING), model: 'yolox', fpsLimit: 5, loop: true },
        ],
      });
      const got: Record<string, FrameResult[]> = { keep: [], gone: [] };
      const events: CameraEvent[] = [];
      registry.on('event', (e: CameraEvent) => events.push(e));
      const yoloxPipeline = registry.pipeline('yolox')!;
      const enough = new Promise<void>((resolve) =>
        registry.on('result', (r: FrameResult) => {
          (got[r.streamId] ??= []).push(r);
          if (got.keep!.length >= 5 && got.gone!.length >= 3) resolve();
        }),
      );
      await enough;
      const keepBefore = got.keep!.length;
      expect(await registry.remove('gone')).toBe(true);
      expect(await registry.remove('gone')).toBe(false);
      expect(registry.get('gone')).toBeUndefined();
      expect(registry.list().map((c) => c.id)).toEqual(['keep']);
      expect(events).toContainEqual({ type: 'end', cameraId: 'gone', model: 'yolox', state: 'stopped' });
      // Its model has no camera left: its pipeline is closed (the other one runs on).
      expect(registry.pipeline('yolox')).toBeUndefined();
      await expect.poll(() => yoloxPipeline.closed).toBe(true);
      expect(Object.keys(registry.stats().pipelines)).toEqual(['small']);

      const keep = registry.get('keep')!;
      expect(await keep.whenEnded()).toBe('ended');
      expect(keep.state).toBe('ended');
      expect(got.keep!.length).toBeGreaterThan(keepBefore);
      // Undisturbed: every frame decoded, each delivered or skipped by its own fpsLimit; none lost otherwise, in order.
      const st = keep.stats();
      expect(st.framesDecoded).toBe(WALKING_FRAMES);
      expect(st.framesDelivered).toBe(got.keep!.length);
      expect(st.framesDelivered + st.dropped.fpsLimit).toBe(WALKING_FRAMES);
      expect(st.dropped.inference + st.dropped.busy + st.dropped.consumer).toBe(0);
      for (let i = 1; i < got.keep!.length; i++) expect(got.keep![i]!.frameIndex).toBeGreaterThan(got.keep![i - 1]!.frameIndex);
      expect(events.filter((e) => e.cameraId === 'keep' && (e.type === 'warning' || e.type === 'error'))).toEqual([]);

      // A camera of the closed model starts a new pipeline for it.
      const again = await registry.add({ id: 'bus', url: assetPath(BUS), model: 'yolox' });
      expect(registry.pipeline('yolox')).toBeDefined();
      expect(registry.pipeline('yolox')).not.toBe(yoloxPipeline);
      expect(await again.whenEnded()).toBe('ended');
      expect(again.stats().framesDelivered).toBe(1);
      // Stream#remove() unregisters the camera too.
      await again.remove();
      expect(registry.get('bus')).toBeUndefined();
      expect(registry.pipeline('yolox')).toBeUndefined();
    });
  });

  describe('CameraRegistry.create()', () => {
    it('EXPECTED FAILURE - a camera with an unknown model fails before any pipeline starts', async () => {
      const err = await caught(() =>
        CameraRegistry.create({ model: assetPath(SMALL), streams: [{ id: 'a', url: assetPath(BUS), model: 'other' }] }),
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe('streams[0].model: Expected one of "default" (the names in models) but received "other" of type string');
    });

    it('EXPECTED FAILURE - a model that cannot start rejects (ERR_CAMTRACK_MODEL) and closes what started', async () => {
      const err = await caught(() =>
        CameraRegistry.create({
          models: { ok: assetPath(SMALL), broken: '/nonexistent/model.onnx' },
          streams: [
            { id: 'a', url: assetPath(BUS), model: 'ok' },
            { id: 'b', url: assetPath(BUS), model: 'broken' },
          ],
        }),
      );
      expect(err).toBeInstanceOf(CamtrackError);
      expect((err as CamtrackError).code).toBe('ERR_CAMTRACK_MODEL');
    });

    it('`model` alone still works: one pipeline, the model "default", no pipeline until a camera needs it', async () => {
      await using registry = await CameraRegistry.create({ model: assetPath(SMALL) });
      expect(registry.models).toEqual(['default']);
      expect(registry.pipeline('default')).toBeUndefined();
      const s = await registry.add({ id: 'bus', url: assetPath(BUS) });
      expect(registry.list()).toEqual([{ id: 'bus', model: 'default', stream: s }]);
      expect(await s.whenEnded()).toBe('ended');
      await registry.close();
      expect(registry.closed).toBe(true);
      await expect(registry.add({ id: 'late', url: assetPath(BUS) })).rejects.toThrow('camera registry is closed');
    });
  });
});
