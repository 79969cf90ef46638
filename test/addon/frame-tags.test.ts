/**
 * Per-frame tags on real file streams (issue 9, seam b; src/frame-tags.ts, Stream#tagFrame): a tag registered for a
 * frame's sequence number (its frameIndex) comes back on exactly that frame's result, in every place a result goes
 * (the stream's iterator, the pipeline's 'result' event, the wire message); tags of frames that are dropped are
 * released when a later result comes, so a producer that keeps tagging ahead of a stream that drops most frames
 * (fpsLimit) keeps the table at its window; a full table releases its oldest tags; an ended stream releases the rest.
 * The pure table: test/unit/frame-tags.test.ts. yolo11n_int8_320.onnx (the fastest shared model).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { InvalidStateError, Pipeline, toWireResult, type FrameResult } from '../../dist/index.js';
import { FRAME_TAG_CAPACITY } from '../../dist/frame-tags.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
/** SOURCES.md: mpeg4 part 2, 1920x1080, 3 fps, 8 frames. */
const MMTRACKING = 'videos/mmtracking-demo.mp4';
const MMTRACKING_FRAMES = 8;
/** SOURCES.md: H.264, 1280x720, 25 fps, 341 frames. */
const WALKING = 'videos/walking.mp4';
const WALKING_FRAMES = 341;

/** The tag the tests give frame `seq`: each field derived from seq, so a tag on the wrong frame shows. */
const tagOf = (seq: number) => ({ frameId: 5000 + seq, messageKey: `1764788000000-${seq}`, metadata: { seq, camera: 'test' } });

async function collect(it: AsyncIterable<FrameResult>): Promise<FrameResult[]> {
  const out: FrameResult[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describeWithAssets('Stream#tagFrame() (per-frame tags)', [FAST_MODEL, MMTRACKING, WALKING], () => {
  let pipeline: Pipeline;
  beforeAll(async () => {
    pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  it('tags registered for given frames come back on exactly those frames, in the iterator, the pipeline event and the wire', async () => {
    const s = pipeline.addStream({ id: 'tags-some', url: assetPath(MMTRACKING) });
    // Registered before any result can be delivered (delivery runs on this thread, after this synchronous code).
    const tagged = [1, 4, 7];
    for (const seq of tagged) s.tagFrame(seq, tagOf(seq));
    const fromPipeline: FrameResult[] = [];
    const onResult = (r: FrameResult): void => {
      if (r.streamId === 'tags-some') fromPipeline.push(r);
    };
    pipeline.on('result', onResult);
    const got = await collect(s.results());
    pipeline.off('result', onResult);
    expect(got.map((r) => r.frameIndex)).toEqual([...Array(MMTRACKING_FRAMES).keys()]);
    for (const r of got) {
      if (tagged.includes(r.frameIndex)) {
        expect({ frameId: r.frameId, messageKey: r.messageKey, metadata: r.metadata }, `frame ${r.frameIndex}`).toEqual(tagOf(r.frameIndex));
      } else {
        for (const k of ['frameId', 'messageKey', 'metadata']) expect(r, `frame ${r.frameIndex}`).not.toHaveProperty(k);
      }
    }
    expect(fromPipeline).toEqual(got);
    const wire = toWireResult(got[4]!);
    expect([wire.frame_id, wire.message_key, wire.metadata]).toEqual([5004, '1764788000000-4', { seq: 4, camera: 'test' }]);
    const untagged = toWireResult(got[0]!);
    expect([untagged.frame_id, untagged.message_key, untagged.metadata]).toEqual([0, null, null]);
    expect(s._tagCounts).toEqual({ size: 0, capacity: FRAME_TAG_CAPACITY, delivered: 3, dropped: 0, evicted: 0, ended: 0 });
    await pipeline.removeStream('tags-some');
  });

  it('stays bounded when frames are dropped: a window of tags ahead of an fpsLimit stream, released as the frames are dropped', async () => {
    const WINDOW = 8;
    const s = pipeline.addStream({ id: 'tags-dropping', url: assetPath(WALKING), fpsLimit: 5 });
    let next = 0;
    const tagAhead = (upTo: number): void => {
      while (next <= upTo) s.tagFrame(next, tagOf(next++));
    };
    tagAhead(WINDOW - 1);
    const got: FrameResult[] = [];
    let maxSize = 0;
    s.on('result', (r: FrameResult) => {
      got.push(r);
      // As a pushing producer would: keep WINDOW frames tagged beyond the newest result.
      tagAhead(r.frameIndex + WINDOW);
      maxSize = Math.max(maxSize, s._tagCounts.size);
    });
    expect(await s.whenEnded()).toBe('ended');
    const st = s.stats();
    expect(st.framesDecoded).toBe(WALKING_FRAMES);
    // 25 fps limited to 5: most frames are dropped (and counted) without a result.
    expect(st.dropped.fpsLimit).toBeGreaterThan(WALKING_FRAMES / 2);
    expect(got.length).toBe(st.framesDelivered);
    // Every frame was tagged before its result came, so every result carries its own tag.
    for (const r of got) expect(r.frameId, `frame ${r.frameIndex}`).toBe(5000 + r.frameIndex);
    expect(maxSize).toBeLessThanOrEqual(WINDOW + 1);
    const last = got.at(-1)!.frameIndex;
    const c = s._tagCounts;
    expect(c.delivered).toBe(got.length);
    // Each frame before the last result that got none was dropped, and its tag released then; the rest at the end.
    expect(c.dropped).toBe(last + 1 - got.length);
    expect(c.dropped).toBeLessThanOrEqual(st.dropped.fpsLimit);
    expect(c.evicted).toBe(0);
    expect(c.size).toBe(0);
    expect(c.delivered + c.dropped + c.ended).toBe(next);
    await pipeline.removeStream('tags-dropping');
  });

  it(`a full table (${FRAME_TAG_CAPACITY} tags) releases its oldest tags first, counted`, async () => {
    const s = pipeline.addStream({ id: 'tags-full', url: assetPath(MMTRACKING) });
    const EXTRA = 5;
    for (let seq = 0; seq < FRAME_TAG_CAPACITY + EXTRA; seq++) s.tagFrame(seq, tagOf(seq));
    expect(s._tagCounts).toMatchObject({ size: FRAME_TAG_CAPACITY, evicted: EXTRA });
    const got = await collect(s.results());
    expect(got).toHaveLength(MMTRACKING_FRAMES);
    // Frames 0..4 lost their tags to the newest ones; 5..7 kept theirs.
    expect(got.map((r) => r.frameId ?? null)).toEqual([null, null, null, null, null, 5005, 5006, 5007]);
    // The stream ended: the tags of frames it never had were released.
    expect(s._tagCounts).toMatchObject({ size: 0, delivered: 3, evicted: EXTRA, ended: FRAME_TAG_CAPACITY - 3 });
    await pipeline.removeStream('tags-full');
  });

  it('BAD CALL - a frame already delivered, a bad tag, an ended stream', async () => {
    const s = pipeline.addStream({ id: 'tags-bad', url: assetPath(MMTRACKING) });
    s.tagFrame(3, tagOf(3));
    expect(() => s.tagFrame(3, tagOf(3))).toThrow(RangeError);
    expect(() => s.tagFrame(9, { frameId: -1 })).toThrow('Expected non-negative integer for tag.frameId but received -1 of type number');
    await collect(s.results());
    expect(() => s.tagFrame(100, tagOf(100))).toThrow(InvalidStateError);
    await pipeline.removeStream('tags-bad');
  });
});
