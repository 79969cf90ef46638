/**
 * The hand-weighted demo detector, run for real with onnxruntime-node (CPU) on frames of the synthetic scene:
 * rendered frames, and frames that went through the demo's encoding (mpeg4 + yuv420p) and back (ffmpeg CLI). Letterbox,
 * Ultralytics decode and NMS are small JS reference implementations local to this file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelInfo } from '../../src/models/model-info.js';
import { encodeScene, findFfmpeg, generateScene, SCENE_COLOURS, type GtBox } from '../../src/demo/scene.js';
import {
  buildSceneDetectorOnnx,
  ensureDemoAssets,
  sceneDetectorGeometry,
  sceneDetectorOptionsFor,
} from '../../src/demo/scene-model.js';

/** Expected geometry for the default scene (640x360, 40 px squares) at S = 320: K = 20, stride 2. */
const S = 320;
const GRID = 151; // (320 - 20) / 2 + 1
const ANCHORS = GRID * GRID; // 22801
const NC = 6;
const MATCH_IOU = 0.7;
const SCORE = 0.5;

const ffmpeg = findFfmpeg();
const haveFfmpeg = spawnSync(ffmpeg, ['-version']).status === 0;
if (!haveFfmpeg) {
  if (process.env['CI'] === 'true') throw new Error(`CI=true but ffmpeg cannot be run (${ffmpeg})`);
  console.warn(`[scene-model.test] SKIP encoded-video cases: cannot run ${ffmpeg} (apt-get install -y ffmpeg)`);
}

// ---- small reference pre/post-processing (Ultralytics conventions) -----------------------------------------

interface Letterboxed {
  data: Float32Array;
  r: number;
  left: number;
  top: number;
}

/** Ultralytics LetterBox: centred, bilinear (half-pixel centres), pad 114, RGB /255, NCHW. */
function letterbox(rgb: Uint8Array, W: number, H: number): Letterboxed {
  const r = Math.min(S / W, S / H);
  const nw = Math.round(W * r);
  const nh = Math.round(H * r);
  const left = Math.round((S - nw) / 2 - 0.1);
  const top = Math.round((S - nh) / 2 - 0.1);
  const data = new Float32Array(3 * S * S).fill(114 / 255);
  for (let y = 0; y < nh; y++) {
    const fy = Math.max(0, (y + 0.5) * (H / nh) - 0.5);
    const y0 = Math.min(Math.floor(fy), H - 1);
    const y1 = Math.min(y0 + 1, H - 1);
    const wy = fy - y0;
    for (let x = 0; x < nw; x++) {
      const fx = Math.max(0, (x + 0.5) * (W / nw) - 0.5);
      const x0 = Math.min(Math.floor(fx), W - 1);
      const x1 = Math.min(x0 + 1, W - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const p = (yy: number, xx: number): number => rgb[(yy * W + xx) * 3 + c]!;
        const v = (p(y0, x0) * (1 - wx) + p(y0, x1) * wx) * (1 - wy) + (p(y1, x0) * (1 - wx) + p(y1, x1) * wx) * wy;
        data[c * S * S + (y + top) * S + x + left] = v / 255;
      }
    }
  }
  return { data, r, left, top };
}

interface Det {
  x: number;
  y: number;
  w: number;
  h: number;
  score: number;
  cls: number;
}

function iou(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const i = ix * iy;
  return i / (a.w * a.h + b.w * b.h - i);
}

/** [4+nc, N] channel-major → boxes in frame pixels, class-aware NMS (Ultralytics default IoU 0.7). */
function decode(out: Float32Array, offset: number, nc: number, n: number, lb: Letterboxed, conf = 0.25, nmsIou = 0.7): Det[] {
  const d = out.subarray(offset, offset + (4 + nc) * n);
  const cand: Det[] = [];
  for (let k = 0; k < n; k++) {
    let score = -1;
    let cls = 0;
    for (let c = 0; c < nc; c++) {
      const v = d[(4 + c) * n + k]!;
      if (v > score) [score, cls] = [v, c];
    }
    if (score < conf) continue;
    const [cx, cy, w, h] = [d[k]!, d[n + k]!, d[2 * n + k]!, d[3 * n + k]!];
    cand.push({ x: (cx - w / 2 - lb.left) / lb.r, y: (cy - h / 2 - lb.top) / lb.r, w: w / lb.r, h: h / lb.r, score, cls });
  }
  cand.sort((a, b) => b.score - a.score);
  const keep: Det[] = [];
  for (const c of cand) if (!keep.some((k) => k.cls === c.cls && iou(k, c) > nmsIou)) keep.push(c);
  return keep;
}

/** Greedy one-to-one matching of detections to objects of the same class; returns the IoU per object. */
function match(objects: GtBox[], dets: Det[]): { ious: number[]; unmatched: Det[] } {
  const used = new Set<number>();
  const ious = objects.map((o) => {
    let best = -1;
    let bestIou = 0;
    dets.forEach((d, i) => {
      if (used.has(i) || d.cls !== o.classId) return;
      const v = iou(d, o);
      if (v > bestIou) [best, bestIou] = [i, v];
    });
    if (best >= 0 && bestIou >= 0.5) used.add(best);
    return bestIou;
  });
  return { ious, unmatched: dets.filter((_, i) => !used.has(i)) };
}

// ---------------------------------------------------------------------------------------------------------

describe('buildSceneDetectorOnnx()', () => {
  let session: ort.InferenceSession;
  let dir = '';
  beforeAll(async () => {
    session = await ort.InferenceSession.create(buildSceneDetectorOnnx());
    dir = await mkdtemp(path.join(tmpdir(), 'camtrack-scene-model-'));
  });
  afterAll(async () => {
    await session?.release();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function detect(rgb: Uint8Array, W = 640, H = 360): Promise<Det[]> {
    const lb = letterbox(rgb, W, H);
    const res = await session.run({ images: new ort.Tensor('float32', lb.data, [1, 3, S, S]) });
    const out = res['output0']!;
    expect(out.dims).toEqual([1, 4 + NC, ANCHORS]);
    return decode(out.data as Float32Array, 0, NC, ANCHORS, lb);
  }

  it('derives K = 20 px and a 151x151 anchor grid from the default scene', () => {
    const opts = sceneDetectorOptionsFor({});
    expect(opts).toEqual({ inputSize: 320, boxSize: 20, stride: 2 });
    expect(sceneDetectorGeometry(opts)).toMatchObject({ grid: GRID, anchors: ANCHORS, classNames: SCENE_COLOURS.map((c) => c.name) });
  });

  it('is an Ultralytics-layout model that readModelInfo understands', async () => {
    const file = path.join(dir, 'det.onnx');
    await writeFile(file, buildSceneDetectorOnnx());
    const info = await readModelInfo(file);
    expect(info).toMatchObject({
      inputName: 'images',
      inputShape: [1, 3, 320, 320],
      inputType: 'float32',
      outputName: 'output0',
      outputShape: [1, 10, ANCHORS],
      fixedBatch: 1,
      imgsz: [320, 320],
      irVersion: 8,
      opsetVersion: 13,
      classNames: ['red square', 'green square', 'blue square', 'yellow square', 'magenta square', 'cyan square'],
    });
    expect(info.metadata['description']).toBe('camtrack built-in demo detector, hand-set weights');
    expect(info.metadata['stride']).toBe('2');
    // Deterministic bytes.
    expect(Buffer.from(buildSceneDetectorOnnx()).equals(readFileSync(file))).toBe(true);
  });

  it('finds every square of a fully visible frame with IoU >= 0.7 and no false positives', async () => {
    const scene = generateScene({ seed: 1 });
    const objects = scene.objectsAt(1);
    expect(objects.every((o) => o.visibility === 1)).toBe(true);
    const dets = await detect(scene.renderFrame(1));
    const { ious, unmatched } = match(objects, dets);
    for (const v of ious) expect(v).toBeGreaterThanOrEqual(MATCH_IOU);
    expect(unmatched.filter((d) => d.score > SCORE)).toEqual([]);
    expect(dets.filter((d) => d.score > SCORE)).toHaveLength(objects.length);
    // Sub-pixel box regression: the boxes are much tighter than the 2-px anchor stride alone would give.
    expect(Math.min(...ious)).toBeGreaterThan(0.9);
  });

  it('never misses a fully visible square and never reports a square that is not there (3 seeds, 45 frames)', async () => {
    let fully = 0;
    for (const seed of [2, 3, 4]) {
      const scene = generateScene({ seed, frames: 150 });
      for (let f = 1; f <= 150; f += 10) {
        const objects = scene.objectsAt(f);
        const dets = await detect(scene.renderFrame(f));
        const { ious, unmatched } = match(objects, dets);
        objects.forEach((o, i) => {
          if (o.visibility === 1) {
            fully++;
            expect(ious[i], `seed ${seed} frame ${f} id ${o.id}`).toBeGreaterThanOrEqual(MATCH_IOU);
          }
        });
        // An unmatched confident detection may only sit on a (partly) hidden square.
        for (const d of unmatched.filter((u) => u.score > SCORE)) {
          expect(objects.some((o) => o.visibility < 1 && iou(d, o) > 0.3), `seed ${seed} frame ${f}`).toBe(true);
        }
      }
    }
    expect(fully).toBeGreaterThan(200);
  });

  it('works with a dynamic batch: batch of 2 equals two single runs', async () => {
    const dyn = await ort.InferenceSession.create(buildSceneDetectorOnnx({ batch: 'dynamic' }));
    try {
      const scene = generateScene({ seed: 9, frames: 40 });
      const a = letterbox(scene.renderFrame(1), 640, 360);
      const b = letterbox(scene.renderFrame(40), 640, 360);
      const both = new Float32Array(2 * 3 * S * S);
      both.set(a.data, 0);
      both.set(b.data, 3 * S * S);
      const out = (await dyn.run({ images: new ort.Tensor('float32', both, [2, 3, S, S]) }))['output0']!;
      expect(out.dims).toEqual([2, 10, ANCHORS]);
      const single = (await session.run({ images: new ort.Tensor('float32', b.data, [1, 3, S, S]) }))['output0']!;
      const second = (out.data as Float32Array).subarray((4 + NC) * ANCHORS);
      let maxDiff = 0;
      const s1 = single.data as Float32Array;
      for (let k = 0; k < s1.length; k++) maxDiff = Math.max(maxDiff, Math.abs(s1[k]! - second[k]!));
      expect(maxDiff).toBeLessThan(1e-3);
      const dets = decode(out.data as Float32Array, (4 + NC) * ANCHORS, NC, ANCHORS, b).filter((d) => d.score > SCORE);
      expect(dets.length).toBeGreaterThanOrEqual(scene.objectsAt(40).filter((o) => o.visibility === 1).length);
    } finally {
      await dyn.release();
    }
  });

  it.skipIf(!haveFfmpeg)('detects the squares after the demo encoding and decoding (mpeg4, yuv420p round trip)', async () => {
    const { videoPath, scene } = await encodeScene({ seed: 11, frames: 50 }, path.join(dir, 'enc.mp4'));
    const raw = execFileSync(ffmpeg, ['-v', 'error', '-i', videoPath, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
      maxBuffer: 64 << 20,
      timeout: 60_000,
    });
    const frameBytes = 640 * 360 * 3;
    expect(raw.length).toBe(50 * frameBytes);
    let fully = 0;
    for (let f = 1; f <= 50; f += 7) {
      const rgb = new Uint8Array(raw.buffer, raw.byteOffset + (f - 1) * frameBytes, frameBytes);
      const objects = scene.objectsAt(f);
      const dets = await detect(rgb);
      const { ious, unmatched } = match(objects, dets);
      objects.forEach((o, i) => {
        if (o.visibility === 1) {
          fully++;
          expect(ious[i], `frame ${f} id ${o.id}`).toBeGreaterThanOrEqual(MATCH_IOU);
        }
      });
      for (const d of unmatched.filter((u) => u.score > SCORE)) {
        expect(objects.some((o) => o.visibility < 1 && iou(d, o) > 0.3), `frame ${f}`).toBe(true);
      }
    }
    expect(fully).toBeGreaterThan(30);
  });

  it('BAD CALL - rejects bad geometry with RangeError', () => {
    expect(() => buildSceneDetectorOnnx({ inputSize: 16 })).toThrow(RangeError);
    expect(() => buildSceneDetectorOnnx({ boxSize: 2 })).toThrow(/boxSize/);
    expect(() => buildSceneDetectorOnnx({ stride: 0 })).toThrow(/stride/);
    expect(() => buildSceneDetectorOnnx({ batch: 0 })).toThrow(/batch/);
    expect(() => buildSceneDetectorOnnx({ colours: [{ name: 'grey', rgb: [128, 128, 128] }] })).toThrow(/grey/);
  });
});

describe('ensureDemoAssets()', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'camtrack-demo-assets-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!haveFfmpeg)('creates the model and one video + ground truth per stream, then reuses them', async () => {
    const first = await ensureDemoAssets(dir, { streams: 2, scene: { frames: 30 } });
    expect(first.classNames).toHaveLength(6);
    expect(first.streams.map((s) => s.spec.seed)).toEqual([1, 2]);
    expect(new Set(first.streams.map((s) => s.videoPath)).size).toBe(2);
    const gts = first.streams.map((s) => readFileSync(s.gtPath, 'utf8'));
    expect(gts[0]).not.toBe(gts[1]);
    expect(gts[0]!.trim().split('\n')).toHaveLength(generateScene({ frames: 30, seed: 1 }).groundTruth.length);
    expect((await readModelInfo(first.modelPath)).outputShape).toEqual([1, 10, ANCHORS]);
    const mtimes = [first.modelPath, ...first.streams.map((s) => s.videoPath)].map((p) => statSync(p).mtimeMs);
    const second = await ensureDemoAssets(dir, { streams: 2, scene: { frames: 30 } });
    expect(second).toEqual(first);
    expect([second.modelPath, ...second.streams.map((s) => s.videoPath)].map((p) => statSync(p).mtimeMs)).toEqual(mtimes);
    // Different settings never reuse a stale file.
    const other = await ensureDemoAssets(dir, { streams: 1, scene: { frames: 31 } });
    expect(other.streams[0]!.videoPath).not.toBe(first.streams[0]!.videoPath);
    expect(other.modelPath).toBe(first.modelPath);
  });
});
