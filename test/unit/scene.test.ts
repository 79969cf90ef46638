/**
 * The synthetic demo scene: determinism, ground-truth invariants, rendering, occlusion bookkeeping and the
 * ffmpeg encoder (real ffmpeg + ffprobe; cases needing them fail when CI=true and they are missing, and skip
 * with a printed reason otherwise).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeScene,
  findFfmpeg,
  generateScene,
  groundTruthToMot,
  gtPathFor,
  MIN_VISIBILITY,
  SCENE_COLOURS,
  type GtBox,
} from '../../src/demo/scene.js';

const ffmpeg = findFfmpeg();
const ffprobe = process.env['FFPROBE_PATH'] || (ffmpeg === 'ffmpeg' ? 'ffprobe' : path.join(path.dirname(ffmpeg), 'ffprobe'));
const haveFfmpeg = spawnSync(ffmpeg, ['-version']).status === 0 && spawnSync(ffprobe, ['-version']).status === 0;
if (!haveFfmpeg) {
  if (process.env['CI'] === 'true') throw new Error(`CI=true but ffmpeg/ffprobe cannot be run (${ffmpeg}, ${ffprobe})`);
  console.warn(`[scene.test] SKIP encoder cases: cannot run ${ffmpeg} / ${ffprobe} (apt-get install -y ffmpeg)`);
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const byFrame = (gt: readonly GtBox[], frame: number): GtBox[] => gt.filter((b) => b.frame === frame);

describe('generateScene()', () => {
  const scene = generateScene({ seed: 1 });
  const { width: W, height: H, frames: F, objects: n, objectSize: size } = scene.spec;

  it('uses the documented defaults', () => {
    expect(scene.spec).toEqual({ width: 640, height: 360, fps: 25, frames: 250, objects: 6, seed: 1, objectSize: 40 });
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const again = generateScene({ seed: 1 });
    expect(again.groundTruth).toEqual(scene.groundTruth);
    expect(sha(again.renderFrame(100))).toBe(sha(scene.renderFrame(100)));
    const other = generateScene({ seed: 2 });
    expect(other.objectsAt(1)).not.toEqual(scene.objectsAt(1));
    expect(sha(other.renderFrame(1))).not.toBe(sha(scene.renderFrame(1)));
  });

  it('keeps every square inside the frame, moving at most 4 px per frame per axis', () => {
    for (let f = 1; f <= F; f++) {
      const objs = scene.objectsAt(f);
      expect(objs).toHaveLength(n);
      for (const o of objs) {
        expect(o.x).toBeGreaterThanOrEqual(0);
        expect(o.y).toBeGreaterThanOrEqual(0);
        expect(o.x + o.w).toBeLessThanOrEqual(W);
        expect(o.y + o.h).toBeLessThanOrEqual(H);
        expect([o.w, o.h]).toEqual([size, size]);
        expect(o.classId).toBe((o.id - 1) % SCENE_COLOURS.length);
      }
      if (f > 1) {
        const prev = scene.objectsAt(f - 1);
        for (let i = 0; i < n; i++) {
          expect(Math.abs(objs[i]!.x - prev[i]!.x)).toBeLessThanOrEqual(5); // 4 px/frame + rounding
          expect(Math.abs(objs[i]!.y - prev[i]!.y)).toBeLessThanOrEqual(5);
        }
      }
    }
  });

  it('starts with all squares fully visible and lists only objects at least half visible', () => {
    expect(scene.objectsAt(1).every((o) => o.visibility === 1)).toBe(true);
    expect(byFrame(scene.groundTruth, 1)).toHaveLength(n);
    const visible = scene.groundTruth.every((b) => b.visibility >= MIN_VISIBILITY);
    expect(visible).toBe(true);
    // Ground truth is sorted by frame then id.
    for (let k = 1; k < scene.groundTruth.length; k++) {
      const a = scene.groundTruth[k - 1]!;
      const b = scene.groundTruth[k]!;
      expect(a.frame < b.frame || (a.frame === b.frame && a.id < b.id)).toBe(true);
    }
  });

  it('has occlusions: squares pass over each other and some are hidden from the ground truth', () => {
    let partial = 0;
    let hidden = 0;
    const hiddenIds = new Set<number>();
    for (let f = 1; f <= F; f++) {
      for (const o of scene.objectsAt(f)) {
        if (o.visibility < 1) partial++;
        if (o.visibility < MIN_VISIBILITY) {
          hidden++;
          hiddenIds.add(o.id);
        }
      }
    }
    expect(partial).toBeGreaterThan(10);
    expect(hidden).toBeGreaterThan(0);
    // Ids 2, 4, 6 are put on courses that cross ids 1, 3, 5 and hide them completely for a while.
    expect(hiddenIds.has(1) && hiddenIds.has(3) && hiddenIds.has(5)).toBe(true);
    expect(scene.groundTruth.length).toBe(F * n - hidden);
  });

  it('computes visibility exactly from the squares drawn later', () => {
    for (let f = 1; f <= F; f++) {
      const objs = scene.objectsAt(f);
      const i = objs.findIndex((o) => o.visibility < 1 && o.visibility > 0);
      if (i < 0) continue;
      // Brute force over the pixels of square i.
      const o = objs[i]!;
      let covered = 0;
      for (let y = o.y; y < o.y + size; y++) {
        for (let x = o.x; x < o.x + size; x++) {
          if (objs.slice(i + 1).some((p) => x >= p.x && x < p.x + size && y >= p.y && y < p.y + size)) covered++;
        }
      }
      expect(o.visibility).toBeCloseTo(1 - covered / (size * size), 6);
      return;
    }
    throw new Error('no partially covered square in the scene');
  });

  it('renders each square in its colour over a darker background; later squares hide earlier ones', () => {
    const px = (buf: Uint8Array, x: number, y: number): number[] => Array.from(buf.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
    const frame1 = scene.renderFrame(1);
    expect(frame1).toHaveLength(W * H * 3);
    for (const o of scene.objectsAt(1)) {
      const rgb = SCENE_COLOURS[o.classId]!.rgb;
      for (const [dx, dy] of [[0, 0], [size - 1, 0], [0, size - 1], [size - 1, size - 1], [20, 20]] as const) {
        const got = px(frame1, o.x + dx, o.y + dy);
        for (let c = 0; c < 3; c++) expect(Math.abs(got[c]! - rgb[c]!)).toBeLessThanOrEqual(5);
      }
    }
    // Background: every pixel outside the squares is dark-ish and textured.
    const objs = scene.objectsAt(1);
    const bg = new Set<number>();
    for (let y = 0; y < H; y += 7) {
      for (let x = 0; x < W; x += 7) {
        if (objs.some((o) => x >= o.x && x < o.x + size && y >= o.y && y < o.y + size)) continue;
        const p = px(frame1, x, y);
        expect(Math.max(...p)).toBeLessThan(120);
        bg.add(p[1]!);
      }
    }
    expect(bg.size).toBeGreaterThan(20);
    // Occlusion: in a frame where square i is partly covered, an overlapped pixel has the later colour.
    for (let f = 1; f <= F; f++) {
      const os = scene.objectsAt(f);
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          const a = os[i]!;
          const b = os[j]!;
          const x0 = Math.max(a.x, b.x);
          const y0 = Math.max(a.y, b.y);
          if (x0 >= Math.min(a.x, b.x) + size || y0 >= Math.min(a.y, b.y) + size) continue;
          if (x0 >= a.x + size || y0 >= a.y + size || x0 >= b.x + size || y0 >= b.y + size) continue;
          const frame = scene.renderFrame(f);
          const topmost = os.slice(i).filter((o) => x0 >= o.x && x0 < o.x + size && y0 >= o.y && y0 < o.y + size).pop()!;
          const got = px(frame, x0, y0);
          const want = SCENE_COLOURS[topmost.classId]!.rgb;
          for (let c = 0; c < 3; c++) expect(Math.abs(got[c]! - want[c]!)).toBeLessThanOrEqual(5);
          expect(topmost.id).toBeGreaterThanOrEqual(b.id);
          return;
        }
      }
    }
    throw new Error('no overlapping squares in the scene');
  });

  it('renders into a caller buffer and yields all frames', () => {
    const small = generateScene({ width: 160, height: 96, frames: 5, objects: 2, objectSize: 16, seed: 3 });
    const buf = new Uint8Array(160 * 96 * 3);
    expect(small.renderFrame(2, buf)).toBe(buf);
    expect(sha(buf)).toBe(sha(small.renderFrame(2)));
    expect([...small.frames()].map(sha)).toEqual([1, 2, 3, 4, 5].map((f) => sha(small.renderFrame(f))));
  });

  it('BAD CALL - rejects invalid specs and frame numbers with RangeError naming the field', () => {
    expect(() => generateScene({ width: 641 })).toThrow(RangeError);
    expect(() => generateScene({ frames: 0 })).toThrow(/frames/);
    expect(() => generateScene({ objectSize: 500 })).toThrow(/objectSize/);
    expect(() => generateScene({ fps: 2.5 })).toThrow(/fps/);
    expect(() => scene.renderFrame(0)).toThrow(/frame/);
    expect(() => scene.renderFrame(F + 1)).toThrow(RangeError);
    expect(() => scene.renderFrame(1, new Uint8Array(10))).toThrow(RangeError);
  });
});

describe('groundTruthToMot() / gtPathFor()', () => {
  it('writes MOTChallenge rows and names the file after the video', () => {
    const rows = groundTruthToMot([{ frame: 3, id: 2, x: 10, y: 20, w: 40, h: 40, classId: 1, visibility: 1 }]);
    expect(rows).toBe('3,2,10,20,40,40,1,-1,-1,-1\n');
    expect(gtPathFor('/a/b/scene-1.mp4')).toBe('/a/b/scene-1.gt.txt');
    expect(gtPathFor('clip')).toBe('clip.gt.txt');
  });
});

describe('encodeScene()', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'camtrack-scene-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('EXPECTED FAILURE - a missing ffmpeg gives ERR_CAMTRACK_FFMPEG_MISSING with the install hint', async () => {
    const out = path.join(dir, 'missing.mp4');
    const p = encodeScene({ frames: 3 }, out, { ffmpegPath: path.join(dir, 'no-such-ffmpeg') });
    await expect(p).rejects.toMatchObject({ code: 'ERR_CAMTRACK_FFMPEG_MISSING' });
    await expect(encodeScene({ frames: 3 }, out, { ffmpegPath: path.join(dir, 'no-such-ffmpeg') })).rejects.toThrow(
      /apt-get install -y ffmpeg/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('EXPECTED FAILURE - an ffmpeg that fails gives ERR_CAMTRACK_FFMPEG and leaves no files', async () => {
    const out = path.join(dir, 'fails.mp4');
    await expect(encodeScene({ frames: 50 }, out, { ffmpegPath: '/bin/false' })).rejects.toMatchObject({
      code: 'ERR_CAMTRACK_FFMPEG',
      message: expect.stringContaining('exited with status 1'),
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it.skipIf(!haveFfmpeg)('writes a decodable MPEG-4 Part 2 mp4 (an LGPL encoder) with every frame and the ground truth beside it', async () => {
    const out = path.join(dir, 'scene.mp4');
    const spec = { seed: 5, frames: 60, fps: 25 };
    const res = await encodeScene(spec, out);
    expect(res.videoPath).toBe(out);
    expect(res.gtPath).toBe(path.join(dir, 'scene.gt.txt'));
    const probe = JSON.parse(
      execFileSync(ffprobe, [
        '-v', 'error', '-select_streams', 'v:0', '-count_frames',
        '-show_entries', 'stream=codec_name,width,height,pix_fmt,nb_read_frames,r_frame_rate', '-of', 'json', out,
      ], { encoding: 'utf8', timeout: 60_000 }),
    ) as { streams: Record<string, string | number>[] };
    expect(probe.streams[0]).toMatchObject({
      codec_name: 'mpeg4',
      width: 640,
      height: 360,
      pix_fmt: 'yuv420p',
      nb_read_frames: '60',
      r_frame_rate: '25/1',
    });
    const lines = readFileSync(res.gtPath, 'utf8').trim().split('\n');
    const scene = generateScene(spec);
    expect(lines).toHaveLength(scene.groundTruth.length);
    expect(lines[0]).toBe(groundTruthToMot([scene.groundTruth[0]!]).trim());
    expect(new Set(lines.map((l) => l.split(',')[0])).size).toBe(60);
    expect(existsSync(`${out}.partial-${process.pid}`)).toBe(false);
  });
});
