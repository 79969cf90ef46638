/**
 * `stream.snapshot()` (src/snapshot.ts over native/core/snapshot) on a real clip and a real model: the JPEG is the
 * stream's own frame (its size, a frame index and pts that match a delivered result), boxes drawn for exactly that
 * frame's tracks, concurrent calls with the same options sharing one native request, and the JPEG is a picture the
 * pipeline itself detects people in again (pushed back into a pushed stream). A stream without frames: a timeout with
 * a code and a hint, then snapshots work once frames come; an ended stream rejects.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { Pipeline, type CamtrackError, type FrameResult, type Stream } from '../../dist/index.js';
import { jpegSize } from '../../dist/sources/jpeg.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

const MODEL = 'models/yolo11n_int8_320.onnx';
/** SOURCES.md: pedestrians, H.264 1280x720, 25 fps, 341 frames. */
const WALKING = 'videos/walking.mp4';

describeWithAssets('stream.snapshot()', [MODEL, WALKING], () => {
  let pipeline: Pipeline;
  let walk: Stream;
  const results = new Map<number, FrameResult>();

  beforeAll(async () => {
    pipeline = await Pipeline.create({ model: assetPath(MODEL) });
    // A looped file, so the stream is still running while we ask. Not live: `live: true` on a file does not pace it
    // at the clip's rate, it decodes as fast as it can and drops what inference cannot take ('busy'). On a loaded
    // machine the tracker then sees gaps of 10+ frames and confirms almost no track (a CI run got no frame with 2
    // tracks in 20 snapshots). Lossless, every frame is inferred and tracked, at whatever rate the machine allows.
    walk = pipeline.addStream({ id: 'walk', url: assetPath(WALKING), live: false, loop: true, resultQueueSize: 1000 });
    walk.onResult((r) => results.set(r.frameIndex, r));
    await new Promise<void>((resolve) => walk.once('result', () => resolve()));
  }, 60_000);
  afterAll(async () => {
    await pipeline?.close();
  });

  const waitForResult = async (frameIndex: number): Promise<FrameResult> => {
    const end = Date.now() + 20_000;
    while (!results.has(frameIndex)) {
      if (Date.now() > end) throw new Error(`no result for frame ${frameIndex}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return results.get(frameIndex)!;
  };

  it('gives the frame as a JPEG at the source size, with the frame index and pts of a delivered result', async () => {
    const snap = await walk.snapshot({ quality: 70 });
    expect(snap.jpeg[0]).toBe(0xff);
    expect(snap.jpeg[1]).toBe(0xd8);
    expect(jpegSize(snap.jpeg)).toEqual({ width: 1280, height: 720 });
    expect({ width: snap.width, height: snap.height, boxes: snap.boxes, numBoxes: snap.numBoxes }).toEqual({ width: 1280, height: 720, boxes: false, numBoxes: 0 });
    const r = await waitForResult(snap.frameIndex);
    expect(snap.ptsMs).toBe(r.ptsMs);
  });

  it("draws exactly that frame's tracks; concurrent calls with the same options share one snapshot", async () => {
    // Walk until a frame with tracks: the people of walking.mp4 are tracked within the first second.
    for (let i = 0; i < 20; i++) {
      const [a, b] = await Promise.all([walk.snapshot({ boxes: true }), walk.snapshot({ boxes: true })]);
      expect(b.frameIndex).toBe(a.frameIndex);
      expect(b.jpeg).toBe(a.jpeg); // the same object: one native request
      const r = await waitForResult(a.frameIndex);
      expect(a.boxes).toBe(true);
      expect(a.numBoxes).toBe(r.tracks.length > 0 ? r.tracks.length : r.detections.length);
      if (r.tracks.length >= 2) return;
    }
    throw new Error('no frame with 2 tracks in 20 snapshots');
  });

  it('is a picture the model finds the same people in (pushed back into a pushed stream)', async () => {
    const snap = await walk.snapshot({ quality: 90 });
    const r = await waitForResult(snap.frameIndex);
    const persons = r.detections.filter((d) => d.label === 'person').length;
    const pushed = pipeline.addStream({ id: 'again', input: 'push', codec: 'jpeg', live: false });
    const got = new Promise<FrameResult>((resolve) => pushed.once('result', resolve));
    pushed.push(snap.jpeg);
    const again = await got;
    expect(again.width).toBe(1280);
    const personsAgain = again.detections.filter((d) => d.label === 'person').length;
    expect(persons).toBeGreaterThan(0);
    expect(Math.abs(personsAgain - persons)).toBeLessThanOrEqual(Math.max(1, Math.round(persons * 0.25)));
    await pushed.remove();
  });

  it('times out with a code and a hint while no frame comes, then works once frames come; rejects after the end', async () => {
    // Lossless: its one frame waits for a batch image rather than being dropped while 'walk' fills the batches.
    const idle = pipeline.addStream({ id: 'idle', input: 'push', codec: 'jpeg', live: false });
    const err = (await idle.snapshot({ timeoutMs: 300 }).catch((e: unknown) => e)) as CamtrackError;
    expect(err.code).toBe('ERR_CAMTRACK_SNAPSHOT_TIMEOUT');
    expect(err.hint).toMatch(/reconnecting/);
    expect(() => idle.snapshot({ quality: 0 })).toThrow(RangeError); // bad options throw at once
    // The withdrawn request did not linger: a new one with other options gets the next frame.
    const frame = (await walk.snapshot({ quality: 80 })).jpeg;
    const next = idle.snapshot({ boxes: true, timeoutMs: 20_000 });
    idle.push(frame);
    const snap = await next;
    expect(jpegSize(snap.jpeg)).toEqual({ width: 1280, height: 720 });
    expect(snap.frameIndex).toBe(0);
    // Asked while it is being removed (before its end arrives): the call rejects with the reason, no timer left behind.
    const removing = idle.remove();
    const during = idle.snapshot({ timeoutMs: 60_000 });
    await removing;
    await expect(during).rejects.toMatchObject({ code: 'ERR_CAMTRACK_INVALID_STATE' });
    await expect(idle.snapshot()).rejects.toMatchObject({ code: 'ERR_CAMTRACK_INVALID_STATE' });
  });
});
