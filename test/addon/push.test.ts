/**
 * Frames pushed from JS (issue 10; Stream#push(), docs/push.md), on the real addon and real models:
 *  - JPEGs of the clip's frames (FFmpeg's mjpeg encoder, made in a temp dir here) and the shared images, pushed, give
 *    the detections of the same frames read by the file source, within the tolerance of the decode difference
 *    stated below;
 *  - H.264 pushed as access units of the clip gives every picture in display order, with the detections of the
 *    file source exactly (the same libavcodec decode), and each push's frameId on its own picture;
 *  - a mixed stream of good and bad frames keeps its order, its tags and its counts, one warning per bad frame;
 *  - lossless back-pressure: a producer faster than the pipeline is slowed (push() false → 'drain'), the queue
 *    never holds more than pushQueueSize frames and the process's memory stays bounded;
 *  - live: a producer faster than the pipeline loses the oldest frames, every one counted;
 *  - BAD CALLs, and pushing through a CameraRegistry.
 *
 * Decode difference (the tolerance of the comparisons with the file source): the file source decodes a JPEG at full
 * size with libavcodec and letterboxes it bilinearly; a pushed JPEG is decoded by libjpeg-turbo at the DCT scale the
 * model needs (720p into a 416 model: 1/2), which averages where the bilinear resize samples, a mean difference of
 * about 1.3 of 255 in the model input (docs/push.md, Accuracy); the clip's frames also went through FFmpeg's JPEG
 * encoder (-q:v 2) on the way, which matters less (the same JPEGs read by the file source's image2 input differ from
 * the pushed ones about as much: measured score deviations p50 0.011, p90 0.038, max 0.137). On yolox_nano (fp32)
 * that moves a detection's score by up to SCORE_TOL (the scores of most by far less: median and 90th percentile
 * bounds) and its box corners by up to BOX_TOL_FRACTION of the image's larger side; detections whose score is
 * within SCORE_TOL of the threshold may appear on one side only. Each comparison logs what it saw.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { CameraRegistry, CamtrackError, Pipeline, type Detection, type FrameResult, type PushedFrameError, type Stream } from '../../dist/index.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const YOLOX = 'models/yolox_nano.onnx';
const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
/** SOURCES.md: H.264 High (B-frames), 1280x720, 25 fps, 341 frames. */
const WALKING = 'videos/walking.mp4';
const IMAGES = ['images/bus.jpg', 'images/zidane.jpg', 'images/dog.jpg', 'images/street.jpg'];
/** Frames of the clip compared (JPEG and H.264). */
const N_FRAMES = 40;
const SCORE_THRESHOLD = 0.3;
/** Per detection; and over all detections compared, the median and the 90th percentile (measured: 0.012 / 0.044, max 0.143). */
const SCORE_TOL = 0.15;
const SCORE_TOL_MEDIAN = 0.02;
const SCORE_TOL_P90 = 0.06;
/** Box corners: 2 % of the image's larger side (as test/addon/images.test.ts), 25.6 px on the 1280 × 720 clip. */
const BOX_TOL_FRACTION = 0.02;

const tempDir = lazyTempDir('camtrack-push-test-');

function ffmpeg(args: string[]): void {
  execFileSync(process.env.FFMPEG_PATH || 'ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args], { timeout: 120_000 });
}

/** The first `n` frames of the clip as JPEGs (FFmpeg's mjpeg encoder, 4:2:0, -q:v 2), in order. */
function clipJpegs(n: number, vf?: string, name = 'jpg'): Buffer[] {
  const dir = path.join(tempDir(), name);
  execFileSync('mkdir', ['-p', dir]);
  ffmpeg(['-i', assetPath(WALKING), '-frames:v', String(n), ...(vf ? ['-vf', vf] : []), '-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', '2', path.join(dir, 'f%04d.jpg')]);
  return readdirSync(dir).sort().map((f) => readFileSync(path.join(dir, f)));
}

/** The clip's first `n` access units (its own H.264, Annex-B, an AUD at the start of each), split at the AUDs. */
function clipAccessUnits(n: number): Buffer[] {
  const file = path.join(tempDir(), 'walking.h264');
  ffmpeg(['-i', assetPath(WALKING), '-frames:v', String(n), '-an', '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb,h264_metadata=aud=insert', '-f', 'h264', file]);
  const b = readFileSync(file);
  const starts: number[] = [];
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1 && (b[i + 3]! & 0x1f) === 9) starts.push(i > 0 && b[i - 1] === 0 ? i - 1 : i);
  }
  return starts.map((s, k) => b.subarray(s, k + 1 < starts.length ? starts[k + 1] : b.length));
}

/** Pushes every frame (lossless: waits for 'drain' when push() says so). Returns how many times it had to wait. */
async function pushAll(s: Stream, frames: Uint8Array[], tag: (i: number) => Parameters<Stream['push']>[1] = (i) => ({ frameId: i })): Promise<number> {
  let waits = 0;
  for (let i = 0; i < frames.length; i++) {
    if (!s.push(frames[i]!, tag(i))) {
      waits++;
      await once(s, 'drain');
    }
  }
  return waits;
}

async function collect(it: AsyncIterable<FrameResult>, max = Infinity): Promise<FrameResult[]> {
  const out: FrameResult[] = [];
  for await (const r of it) {
    out.push(r);
    if (out.length >= max) break;
  }
  return out;
}

const iou = (a: Detection, b: Detection): number => {
  const w = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const h = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const i = w * h;
  return i / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - i);
};

interface Deviation {
  scores: number[];
  box: number;
  unmatched: number;
}
const newDeviation = (): Deviation => ({ scores: [], box: 0, unmatched: 0 });
const quantile = (a: number[], q: number): number => a.slice().sort((x, y) => x - y)[Math.floor(q * (a.length - 1))] ?? 0;

/**
 * Checks that two frames' detections agree within the tolerances above: every detection scored at least
 * threshold + SCORE_TOL on one side has one of the same class on the other (best IoU), its score within SCORE_TOL and
 * its corners within BOX_TOL_FRACTION · `size`. Collects the deviations into `dev` (see checkDeviation).
 */
function compareDetections(got: Detection[], want: Detection[], what: string, dev: Deviation, size: number): void {
  const boxTol = BOX_TOL_FRACTION * size;
  const check = (from: Detection[], to: Detection[], side: string): void => {
    for (const d of from) {
      const candidates = to.filter((o) => o.classId === d.classId);
      const best = candidates.reduce<Detection | undefined>((m, o) => (m === undefined || iou(d, o) > iou(d, m) ? o : m), undefined);
      const strong = d.score >= SCORE_THRESHOLD + SCORE_TOL;
      if (!best || iou(d, best) < 0.5) {
        expect(strong, `${what}: ${side} ${d.label} ${d.score.toFixed(3)} has no counterpart`).toBe(false);
        dev.unmatched++;
        continue;
      }
      if (!strong && iou(d, best) < 0.8) continue; // a borderline detection matched loosely: not compared further
      const ds = Math.abs(d.score - best.score);
      const db = Math.max(Math.abs(d.x1 - best.x1), Math.abs(d.y1 - best.y1), Math.abs(d.x2 - best.x2), Math.abs(d.y2 - best.y2));
      if (side === 'pushed') dev.scores.push(ds);
      dev.box = Math.max(dev.box, db);
      expect(ds, `${what}: ${side} ${d.label} score ${d.score.toFixed(3)} vs ${best.score.toFixed(3)}`).toBeLessThanOrEqual(SCORE_TOL);
      expect(db, `${what}: ${side} ${d.label} box`).toBeLessThanOrEqual(boxTol);
    }
  };
  check(got, want, 'pushed');
  check(want, got, 'file');
}

/** Logs the deviations seen and checks their median and 90th percentile. */
function checkDeviation(dev: Deviation, what: string): void {
  const p50 = quantile(dev.scores, 0.5);
  const p90 = quantile(dev.scores, 0.9);
  console.log(`[${what}] ${dev.scores.length} detections compared: |Δscore| p50 ${p50.toFixed(3)} p90 ${p90.toFixed(3)} ` +
    `max ${quantile(dev.scores, 1).toFixed(3)}; max box Δ ${dev.box.toFixed(1)} px; borderline unmatched ${dev.unmatched}`);
  expect(dev.scores.length).toBeGreaterThan(0);
  expect(p50).toBeLessThanOrEqual(SCORE_TOL_MEDIAN);
  expect(p90).toBeLessThanOrEqual(SCORE_TOL_P90);
}

describeWithAssets('Stream#push() (pushed frames) on yolox_nano', [YOLOX, WALKING, ...IMAGES], () => {
  let pipeline: Pipeline;
  beforeAll(async () => {
    pipeline = await Pipeline.create({ model: assetPath(YOLOX), detection: { scoreThreshold: SCORE_THRESHOLD }, tracker: { type: 'none' } });
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  it('JPEGs of the clip frames give the detections of the same frames read from the clip, within the decode difference', async () => {
    const jpegs = clipJpegs(N_FRAMES);
    const file = pipeline.addStream({ id: 'clip', url: assetPath(WALKING) });
    const fromFile = await collect(file.results(), N_FRAMES);
    await file.remove();
    const pushed = pipeline.addStream({ id: 'jpeg', input: 'push', codec: 'jpeg', live: false });
    const results = collect(pushed.results());
    const waits = await pushAll(pushed, jpegs);
    pushed.end();
    const got = await results;
    expect(await pushed.whenEnded()).toBe('ended');
    expect(got.map((r) => r.frameIndex)).toEqual([...Array(N_FRAMES).keys()]);
    expect(got.map((r) => r.frameId)).toEqual([...Array(N_FRAMES).keys()]);
    const dev = newDeviation();
    for (let i = 0; i < N_FRAMES; i++) {
      expect([got[i]!.width, got[i]!.height]).toEqual([1280, 720]);
      compareDetections(got[i]!.detections, fromFile[i]!.detections, `frame ${i}`, dev, 1280);
    }
    const st = pushed.stats();
    expect(st.push).toMatchObject({ codec: 'jpeg', policy: 'lossless', pushed: N_FRAMES, refused: 0, queued: 0 });
    expect(st.framesDecoded).toBe(N_FRAMES);
    checkDeviation(dev, `push jpeg vs file, ${N_FRAMES} frames (producer waited for 'drain' ${waits} times)`);
  });

  it('the shared images pushed as they are give the detections of the file source reading the same JPEG', async () => {
    const dev = newDeviation();
    const pushed = pipeline.addStream({ id: 'images', input: 'push', codec: 'jpeg', live: false });
    const results = collect(pushed.results());
    await pushAll(pushed, IMAGES.map((f) => readFileSync(assetPath(f))), (i) => ({ frameId: i, meta: { file: IMAGES[i] } }));
    pushed.end();
    const got = await results;
    expect(got.map((r) => r.metadata)).toEqual(IMAGES.map((file) => ({ file })));
    for (let i = 0; i < IMAGES.length; i++) {
      const file = pipeline.addStream({ id: `image-${i}`, url: assetPath(IMAGES[i]!) });
      const [want] = await collect(file.results());
      expect([got[i]!.width, got[i]!.height]).toEqual([want!.width, want!.height]);
      compareDetections(got[i]!.detections, want!.detections, IMAGES[i]!, dev, Math.max(want!.width, want!.height));
      expect(got[i]!.detections.length).toBeGreaterThan(0);
    }
    checkDeviation(dev, 'push images vs file');
  });

  it("H.264 access units of the clip give every picture in display order, the file source's detections, each push's frameId on its picture", async () => {
    // A few access units more than the pictures compared: the pictures shown first are then the same as the file's
    // (a cut right after picture N would let a later P-frame take the place of the B-frames that are not there).
    const PUSHED = N_FRAMES + 8;
    const aus = clipAccessUnits(PUSHED);
    expect(aus).toHaveLength(PUSHED);
    const file = pipeline.addStream({ id: 'clip-h264', url: assetPath(WALKING) });
    const fromFile = await collect(file.results(), N_FRAMES);
    await file.remove();
    const pushed = pipeline.addStream({ id: 'h264', input: 'push', codec: 'h264', live: false });
    const results = collect(pushed.results());
    await pushAll(pushed, aus, (i) => ({ frameId: i, messageKey: `au-${i}` }));
    pushed.end();
    const got = await results;
    expect(got).toHaveLength(PUSHED);
    for (let i = 1; i < got.length; i++) expect(got[i]!.frameIndex).toBeGreaterThan(got[i - 1]!.frameIndex);
    // Every access unit's picture once, with its own tag; B-frames make display order differ from push order.
    expect(got.map((r) => r.frameId).sort((a, b) => a! - b!)).toEqual([...Array(PUSHED).keys()]);
    for (const r of got) expect(r.messageKey).toBe(`au-${r.frameId}`);
    expect(got.some((r, i) => r.frameId !== i)).toBe(true);
    // The same libavcodec decode as the file source: the same detections, picture for picture.
    const round = (d: Detection[]) => d.map((x) => [x.classId, +x.score.toFixed(4), +x.x1.toFixed(1), +x.y1.toFixed(1), +x.x2.toFixed(1), +x.y2.toFixed(1)]);
    for (let i = 0; i < N_FRAMES; i++) expect(round(got[i]!.detections), `picture ${i}`).toEqual(round(fromFile[i]!.detections));
    expect(pushed._tagCounts).toMatchObject({ delivered: PUSHED, dropped: 0, size: 0 });
  });
});

describeWithAssets('Stream#push() (pushed frames) on yolo11n_int8_320', [FAST_MODEL, WALKING, 'images/zidane.jpg'], () => {
  let pipeline: Pipeline;
  let jpegs: Buffer[];
  beforeAll(async () => {
    pipeline = await Pipeline.create({ model: assetPath(FAST_MODEL) });
    jpegs = clipJpegs(12, undefined, 'jpg12');
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  it('a mixed stream of good and bad frames keeps its order, tags and counts; one warning per bad frame, naming it', async () => {
    const png = path.join(tempDir(), 'zidane.png');
    ffmpeg(['-i', assetPath('images/zidane.jpg'), png]);
    const bad: [Uint8Array, string][] = [
      [new Uint8Array(0), 'empty'],
      [jpegs[3]!.subarray(0, jpegs[3]!.length >> 1), 'truncated'],
      [readFileSync(png), 'wrong_codec'],
      [Buffer.from('definitely not a picture'), 'corrupt'],
    ];
    const s = pipeline.addStream({ id: 'mixed', input: 'push', codec: 'jpeg', live: false, pushQueueSize: 64 });
    const warnings: PushedFrameError[] = [];
    s.on('warning', (e: PushedFrameError) => warnings.push(e));
    const results = collect(s.results());
    let id = 100;
    const goodIds: number[] = [];
    const badIds = new Map<number, string>();
    for (let i = 0; i < jpegs.length; i++) {
      goodIds.push(id);
      expect(s.push(jpegs[i]!, { frameId: id, meta: { good: i }, messageKey: `m-${id}` })).toBe(true);
      id++;
      if (i % 3 === 1 && bad.length > 0) {
        const [bytes, reason] = bad.shift()!;
        badIds.set(id, reason);
        s.push(bytes, { frameId: id, meta: { bad: reason } });
        id++;
      }
    }
    s.end();
    const got = await results;
    expect(got.map((r) => r.frameId)).toEqual(goodIds);
    got.forEach((r, i) => {
      expect(r.metadata).toEqual({ good: i });
      expect(r.messageKey).toBe(`m-${goodIds[i]}`);
    });
    // frameIndex is the push's sequence number: the bad frames leave gaps.
    expect(got.map((r) => r.frameIndex)).toEqual(goodIds.map((g) => g - 100));
    expect(warnings.map((w) => [w.frame.frameId, w.reason])).toEqual([...badIds]);
    for (const w of warnings) {
      expect(w).toBeInstanceOf(CamtrackError);
      expect(w.code).toBe('ERR_CAMTRACK_DECODE');
      expect(w.frame.seq).toBe(w.frame.frameId! - 100);
      expect(w.frame.metadata).toEqual({ bad: w.reason });
      expect(w.message).toContain(`pushed frame ${w.frame.seq}`);
    }
    const st = s.stats();
    expect(st.push!.rejected).toEqual({ empty: 1, wrongCodec: 1, truncated: 1, corrupt: 1, tooLarge: 0, unsupported: 0, noKeyframe: 0 });
    expect(st.push).toMatchObject({ pushed: 16, refused: 0, queued: 0, dropped: { queue: 0, untilKeyframe: 0 }, warningsSuppressed: 0 });
    expect([st.framesDecoded, st.framesCorrupt, st.framesDelivered, st.packets]).toEqual([12, 4, 12, 16]);
    expect(s._tagCounts).toMatchObject({ delivered: 12, dropped: 4, size: 0 });
  });

  it('a frame over maxPixels is rejected from its header (too_large), the stream goes on', async () => {
    const s = pipeline.addStream({ id: 'limit', input: 'push', codec: 'jpeg', live: false, maxPixels: 1280 * 720 - 1 });
    const zidane = readFileSync(assetPath('images/zidane.jpg')); // 1280 x 720: one pixel too many
    const warnings: PushedFrameError[] = [];
    s.on('warning', (e: PushedFrameError) => warnings.push(e));
    const results = collect(s.results());
    s.push(zidane, { frameId: 1 });
    s.push(readFileSync(assetPath('images/zidane.jpg')).subarray(0), { frameId: 2 });
    s.end();
    expect(await results).toEqual([]);
    expect(warnings.map((w) => w.reason)).toEqual(['too_large', 'too_large']);
    expect(s.stats().push!.rejected.tooLarge).toBe(2);
    expect(await s.whenEnded()).toBe('ended');
  });

  it('lossless: a producer faster than the pipeline is slowed by push() false / drain; the queue and the memory stay bounded', async () => {
    const QUEUE = 4;
    const FRAMES = 1200;
    // fpsLimit keeps inference out of it (frames are decoded, then most are dropped by the limit): decode is the
    // bottleneck, and the producer is still far faster.
    const s = pipeline.addStream({ id: 'bp', input: 'push', codec: 'jpeg', live: false, pushQueueSize: QUEUE, fpsLimit: 2 });
    let delivered = 0;
    s.on('result', () => delivered++);
    const rss0 = process.memoryUsage().rss;
    let maxQueued = 0;
    let maxRss = rss0;
    let waits = 0;
    let bytes = 0;
    for (let i = 0; i < FRAMES; i++) {
      // A fresh buffer per frame, as a network producer has: if any were kept, memory would grow by all of them.
      const frame = Buffer.from(jpegs[i % jpegs.length]!);
      bytes += frame.length;
      if (!s.push(frame)) {
        waits++;
        await once(s, 'drain');
      }
      if (i % 50 === 0) {
        maxQueued = Math.max(maxQueued, s.stats().push!.queued);
        maxRss = Math.max(maxRss, process.memoryUsage().rss);
      }
    }
    s.end();
    await s.whenEnded();
    const st = s.stats();
    expect(waits).toBeGreaterThan(FRAMES / 10);
    expect(maxQueued).toBeLessThanOrEqual(QUEUE);
    expect(st.push).toMatchObject({ pushed: FRAMES, refused: 0, dropped: { queue: 0, untilKeyframe: 0 } });
    // Lossless: every frame decoded; the ones the fps limit let through delivered.
    expect(st.framesDecoded).toBe(FRAMES);
    expect(st.framesDelivered + st.dropped.fpsLimit).toBe(FRAMES);
    expect(delivered).toBe(st.framesDelivered);
    const growthMb = (maxRss - rss0) / 2 ** 20;
    console.log(`[push lossless] ${FRAMES} frames, ${(bytes / 2 ** 20).toFixed(0)} MiB pushed in fresh buffers: waited for 'drain' ${waits} times, ` +
      `max queued ${maxQueued}, RSS growth ${growthMb.toFixed(1)} MiB`);
    expect(growthMb).toBeLessThan(bytes / 2 ** 20 / 2);
  });

  it('live: a producer faster than the pipeline loses the oldest frames, each counted; push() never says wait', async () => {
    const s = pipeline.addStream({ id: 'live', input: 'push', codec: 'jpeg', pushQueueSize: 2 });
    expect(s.delivery).toBe('latest');
    const results = collect(s.results());
    for (let i = 0; i < 120; i++) expect(s.push(jpegs[i % jpegs.length]!, { frameId: i })).toBe(true);
    s.end();
    const got = await results;
    const st = s.stats();
    expect(st.live).toBe(true);
    expect(st.push!.policy).toBe('live');
    expect(st.push!.dropped.queue).toBeGreaterThan(50);
    // Every push accounted for: dropped from the queue, or decoded (then delivered or dropped after decode).
    expect(st.push!.dropped.queue + st.framesDecoded + st.framesCorrupt).toBe(120);
    expect(st.framesDecoded).toBe(st.framesDelivered + st.dropped.busy + st.dropped.fpsLimit + st.dropped.inference);
    expect(got.length).toBe(st.framesDelivered - st.dropped.consumer);
    // The newest frames survive (the very last ones may still be dropped as busy when every batch slot is taken as
    // the stream ends: at most the queue, the slots' images and the frame being letterboxed); results in push order.
    expect(got.at(-1)!.frameId).toBeGreaterThanOrEqual(119 - (2 + pipeline.batchSize * 2 * 2 + 1));
    for (let i = 1; i < got.length; i++) expect(got[i]!.frameId!).toBeGreaterThan(got[i - 1]!.frameId!);
  });

  it('BAD CALL - push into a url stream, bad bytes or options, after end(), lossless into a full queue', async () => {
    const url = pipeline.addStream({ id: 'url', url: assetPath(WALKING), fpsLimit: 1 });
    expect(() => url.push(jpegs[0]!)).toThrow(expect.objectContaining({ code: 'ERR_CAMTRACK_INVALID_STATE' }));
    await url.remove();
    const s = pipeline.addStream({ id: 'bad', input: 'push', codec: 'jpeg', live: false, pushQueueSize: 2 });
    expect(() => s.push('abc' as never)).toThrow(TypeError);
    expect(() => s.push(jpegs[0]!, { frameId: -1 })).toThrow(RangeError);
    expect(() => s.push(jpegs[0]!, { ptsMs: -5 })).toThrow(RangeError);
    expect(() => s.push(jpegs[0]!, { frame: 1 } as never)).toThrow(/Unknown push option "frame"/);
    expect(() => s.push(jpegs[0]!, { priority: 'urgent' } as never)).toThrow(/Expected 'normal' or 'high' for priority/);
    expect(() => s.push(jpegs[0]!, { meta: 'x' } as never)).toThrow(/for meta/);
    // An ArrayBuffer is taken as it is.
    const ab = jpegs[0]!.buffer.slice(jpegs[0]!.byteOffset, jpegs[0]!.byteOffset + jpegs[0]!.length);
    expect(s.push(ab)).toBe(true);
    expect(s._pushed).toBe(1);
    // Full (2 queued, unless the source already took one): the push that fills it says false; pushing on is refused.
    let full = false;
    let refused: unknown;
    for (let i = 0; i < 50 && refused === undefined; i++) {
      try {
        if (!s.push(jpegs[0]!)) full = true;
      } catch (e) {
        refused = e;
      }
    }
    expect(full).toBe(true);
    expect(refused).toBeInstanceOf(CamtrackError);
    expect((refused as CamtrackError).code).toBe('ERR_CAMTRACK_INVALID_STATE');
    expect((refused as CamtrackError).message).toMatch(/push queue is full/);
    expect(s.stats().push!.refused).toBe(1);
    s.end();
    s.end(); // idempotent
    expect(() => s.push(jpegs[0]!)).toThrow(/end\(\) was called/);
    expect(await s.whenEnded()).toBe('ended');
    expect(() => s.push(jpegs[0]!)).toThrow(expect.objectContaining({ code: 'ERR_CAMTRACK_INVALID_STATE' }));
    // Config: a pushed stream names its codec and has no url; a url stream has no codec.
    expect(() => pipeline.addStream({ id: 'x', input: 'push' } as never)).toThrow(/stream\.codec: Expected one of/);
    expect(() => pipeline.addStream({ id: 'x', input: 'push', codec: 'jpeg', url: 'a.mp4' } as never)).toThrow(/stream\.url: url is not used with input 'push'/);
    expect(() => pipeline.addStream({ id: 'x', url: 'a.mp4', codec: 'jpeg' } as never)).toThrow(/stream\.codec: codec is only for input 'push'/);
    expect(() => pipeline.addStream({ id: 'x', input: 'push', codec: 'png', decode: 'gpu' })).toThrow(/stream\.decode/);
  });

  it('a CameraRegistry camera with input push takes frames by camera id; results and stats as from the pipeline', async () => {
    const cameras = await CameraRegistry.create({ model: assetPath(FAST_MODEL), streams: [{ id: 'dock', input: 'push', codec: 'jpeg', live: false }] });
    try {
      const got: FrameResult[] = [];
      cameras.on('result', (r: FrameResult) => got.push(r));
      for (let i = 0; i < 3; i++) if (!cameras.push('dock', jpegs[i]!, { frameId: 10 + i })) await once(cameras.get('dock')!, 'drain');
      cameras.end('dock');
      await cameras.whenAllEnded();
      expect(got.map((r) => [r.streamId, r.frameId])).toEqual([['dock', 10], ['dock', 11], ['dock', 12]]);
      expect(cameras.stats().cameras[0]!.push).toMatchObject({ pushed: 3, codec: 'jpeg' });
      expect(() => cameras.push('nope', jpegs[0]!)).toThrow(/no camera "nope"/);
    } finally {
      await cameras.close();
    }
  });
});
