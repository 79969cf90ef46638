/**
 * Changing a running stream's cumulative line counts (issue 13: the reset of DELETE /api/v1/cameras/{id}/analytics
 * and the counts brought back from Redis): Stream#addAnalyticsCounts() and Stream#resetAnalytics() on the built
 * addon, through a pushed camera on yolo11n_int8_320 (shared assets). A change made before a frame is pushed is in
 * that frame's result (the postprocess thread applies it before the frame's analytics).
 */
import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { CamtrackError, Pipeline, type FrameResult, type Stream } from '../../dist/index.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

const MODEL = 'models/yolo11n_int8_320.onnx';
const BUS = 'images/bus.jpg';
const ANALYTICS = { lines: [{ id: 'door', start: [0, 5] as [number, number], end: [10, 5] as [number, number] }, { id: 'gate', start: [0, 9] as [number, number], end: [10, 9] as [number, number] }] };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CamtrackError);
    return (err as CamtrackError).code;
  }
  return undefined;
}

describeWithAssets('Stream#addAnalyticsCounts() and #resetAnalytics() (pushed camera, yolo11n_int8_320)', [MODEL, BUS], () => {
  let pipeline: Pipeline;
  let stream: Stream;
  let results: AsyncIterator<FrameResult>;
  const bus = readFileSync(assetPath(BUS));
  const next = async (): Promise<FrameResult> => {
    stream.push(bus);
    return (await results.next()).value as FrameResult;
  };
  beforeAll(async () => {
    pipeline = await Pipeline.create({ model: { path: assetPath(MODEL) } });
    stream = pipeline.addStream({ id: 'dock', input: 'push', codec: 'jpeg', analytics: ANALYTICS });
    results = stream.results()[Symbol.asyncIterator]();
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  it('adds counts by line id (per class too), then zeroes them from the next frame', async () => {
    expect((await next()).analytics!.lines.door).toMatchObject({ in: 0, out: 0, perClass: [] });
    stream.addAnalyticsCounts({ door: { in: 7, out: 3, perClass: [{ classId: 0, in: 5, out: 3 }, { classId: 2, in: 2, out: 0 }] }, nope: { in: 1, out: 1 } });
    const seeded = (await next()).analytics!;
    expect(seeded.lines.door).toMatchObject({ in: 7, out: 3, perClass: [{ classId: 0, in: 5, out: 3 }, { classId: 2, in: 2, out: 0 }] });
    expect(seeded.lines.gate).toMatchObject({ in: 0, out: 0 });
    // Added twice: added (a seed is added to what the stage counted itself).
    stream.addAnalyticsCounts({ door: { in: 1, out: 0 }, gate: { in: 0, out: 4 } });
    expect((await next()).analytics!.lines).toMatchObject({ door: { in: 8, out: 3 }, gate: { in: 0, out: 4 } });
    stream.resetAnalytics();
    const reset = (await next()).analytics!;
    expect(reset.lines.door).toMatchObject({ in: 0, out: 0, perClass: [] });
    expect(reset.lines.gate).toMatchObject({ in: 0, out: 0, perClass: [] });
  }, 60_000);

  it('EXPECTED FAILURE - bad counts, a stream without analytics, a removed stream', async () => {
    expect(code(() => stream.addAnalyticsCounts({ door: { in: -1, out: 0 } }))).toBe('ERR_CAMTRACK_INVALID_ARGUMENT');
    expect(code(() => stream.addAnalyticsCounts({ door: { in: 1.5, out: 0 } }))).toBe('ERR_CAMTRACK_INVALID_ARGUMENT');
    const plain = pipeline.addStream({ id: 'plain', input: 'push', codec: 'jpeg' });
    expect(code(() => plain.resetAnalytics())).toBe('ERR_CAMTRACK_INVALID_STATE');
    const other = pipeline.addStream({ id: 'other', input: 'push', codec: 'jpeg', analytics: ANALYTICS });
    await other.remove();
    expect(code(() => other.resetAnalytics())).toBe('ERR_CAMTRACK_INVALID_STATE');
    await plain.remove();
  }, 60_000);
});
