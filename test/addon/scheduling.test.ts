/**
 * Inference scheduling (docs/scheduling.md): `inference.interval` and motion gating on the built-in synthetic scene
 * (src/demo: rendered with known ground truth, encoded with FFmpeg's mpeg4 encoder, decoded by the addon, detected
 * by the hand-weighted ONNX model on onnxruntime, tracked by ByteTrack).
 *
 * - interval 2: exactly every 3rd frame is inferred; the others are results with `inferred: false`, no detections
 *   and the tracks of the tracker's prediction (the same ids: tracked tracks are carried, not aged); stats count them
 *   as skipped.interval.
 * - a still clip (one scene frame repeated): after the first frame nothing moves, so frames skip inference (counted
 *   as skipped.motion) while every square keeps its track id; maxSkipSeconds forces an inference every second.
 * - the acceptance run: a clip with long empty stretches, ungated and gated in the same test: >= 2/3 of
 *   inferences skipped, unique tracks within ±1 of the ungated run (literally: lost tracks age through the skipped
 *   frames, so none is carried across an empty stretch), MOTA within 2 points; and the main thread's event-loop
 *   delay while the same clip is pushed in real time as JPEGs.
 * - configure(): the interval changes on a running (pushed, lossless) stream from its next frame.
 * Needs ffmpeg (any build: mpeg4 is FFmpeg's own), no shared assets.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Pipeline, evaluateMot, parseMotFile, type FrameResult, type StreamOptions, type StreamStats } from '../../dist/index.js';
import { ensureDemoAssets, type DemoAssets } from '../../dist/demo/scene-model.js';
import { findFfmpeg, generateScene } from '../../dist/demo/scene.js';

const FPS = 25;

interface Run {
  results: FrameResult[];
  stats: StreamStats;
  images: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

async function runClip(modelPath: string, classNames: string[], url: string, extra: Partial<StreamOptions> = {}): Promise<Run> {
  await using pipeline = await Pipeline.create({
    model: { path: modelPath, classNames },
    tracker: { type: 'bytetrack', trackBufferSeconds: 1 },
  });
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const stream = pipeline.addStream({ id: 'scene', url, resultQueueSize: 100_000, ...extra } as StreamOptions);
  const results: FrameResult[] = [];
  for await (const r of stream.results()) results.push(r);
  h.disable();
  return {
    results,
    stats: stream.stats(),
    images: pipeline.stats().images,
    loopDelayP99Ms: h.percentile(99) / 1e6,
    loopDelayMaxMs: h.max / 1e6,
  };
}

/** Pushes `jpegs` into a live pushed stream at 25 fps (real time), ptsMs 40 apart, and collects every result. */
async function runPushedRealtime(modelPath: string, classNames: string[], jpegs: Buffer[], extra: Partial<StreamOptions> = {}): Promise<Run> {
  await using pipeline = await Pipeline.create({
    model: { path: modelPath, classNames },
    tracker: { type: 'bytetrack', trackBufferSeconds: 1 },
  });
  const stream = pipeline.addStream({ id: 'cam', input: 'push', codec: 'jpeg', live: true, resultQueueSize: 100_000, ...extra } as StreamOptions);
  const results: FrameResult[] = [];
  const collected = (async () => {
    for await (const r of stream.results()) results.push(r);
  })();
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const start = performance.now();
  for (let i = 0; i < jpegs.length; i++) {
    const due = start + (i * 1000) / FPS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    stream.push(jpegs[i]!, { ptsMs: (i * 1000) / FPS });
  }
  stream.end();
  await collected;
  h.disable();
  return {
    results,
    stats: stream.stats(),
    images: pipeline.stats().images,
    loopDelayP99Ms: h.percentile(99) / 1e6,
    loopDelayMaxMs: h.max / 1e6,
  };
}

const toHyp = (results: FrameResult[]) =>
  results.flatMap((r) =>
    r.tracks.map((t) => ({ frame: r.frameIndex + 1, id: t.trackId, x: t.x1, y: t.y1, w: t.x2 - t.x1, h: t.y2 - t.y1, conf: t.score })),
  );
/** Tracks seen both before and after one of the `idle` (1-based inclusive) frame ranges. */
function carriedAcross(results: FrameResult[], idle: [number, number][]): number {
  let n = 0;
  for (const [first, last] of idle) {
    const before = new Set(results.filter((r) => r.frameIndex + 1 < first).flatMap((r) => r.tracks.map((t) => t.trackId)));
    const after = new Set(results.filter((r) => r.frameIndex + 1 > last).flatMap((r) => r.tracks.map((t) => t.trackId)));
    for (const id of after) if (before.has(id)) n++;
  }
  return n;
}
const uniqueTracks = (results: FrameResult[]) => new Set(results.flatMap((r) => r.tracks.map((t) => t.trackId))).size;

describe('Inference scheduling on the built-in scene', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-sched-'));
  let assets: DemoAssets;
  beforeAll(async () => {
    assets = await ensureDemoAssets(dir, { streams: 1, scene: { frames: 60, fps: FPS } });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('inference.interval 2: every 3rd frame inferred, the others predicted with the same track ids and counted', async () => {
    const run = await runClip(assets.modelPath, assets.classNames, assets.streams[0]!.videoPath, { inference: { interval: 2 } });
    expect(run.results).toHaveLength(60);
    let lastIds: number[] = [];
    for (const r of run.results) {
      expect(r.inferred, `frame ${r.frameIndex}`).toBe(r.frameIndex % 3 === 0);
      const ids = r.tracks.map((t) => t.trackId).sort((a, b) => a - b);
      if (!r.inferred) {
        expect(r.detections).toEqual([]);
        // Predicted, not aged: the tracks of the last inferred frame go on (same ids) at moved boxes.
        expect(ids, `frame ${r.frameIndex}`).toEqual(lastIds);
      }
      lastIds = ids;
    }
    expect(lastIds.length).toBeGreaterThan(0);
    expect(run.stats.skipped).toEqual({ interval: 40, motion: 0 });
    expect(run.stats.framesDelivered).toBe(60);
    expect(run.images).toBe(20);
    // Tracking quality on the frames that were not inferred: the predicted boxes follow the squares.
    const gt = parseMotFile(readFileSync(assets.streams[0]!.gtPath, 'utf8'));
    const m = evaluateMot(gt, toHyp(run.results));
    console.log(`[sched] interval 2: MOTA ${m.mota.toFixed(3)}, ${uniqueTracks(run.results)} tracks`);
    expect(m.mota).toBeGreaterThan(0.7);
  }, 120_000);

  it('motion gating on a still clip: frames skip inference, every square keeps its id, maxSkipSeconds forces a check', async () => {
    // One frame of the scene (6 squares) repeated for 4 s: nothing moves after the first frame.
    const scene = generateScene({ frames: 1 });
    const frame = scene.renderFrame(1);
    const frames = 100;
    const still = path.join(dir, 'still.mp4');
    const { width, height } = scene.spec;
    const enc = spawnSync(
      findFfmpeg(),
      ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`,
        '-r', String(FPS), '-i', '-', '-c:v', 'mpeg4', '-q:v', '2', '-pix_fmt', 'yuv420p', still],
      { input: Buffer.concat(Array.from({ length: frames }, () => frame)), maxBuffer: 1 << 20 },
    );
    expect(enc.status, enc.stderr?.toString()).toBe(0);
    const run = await runClip(assets.modelPath, assets.classNames, still, { motion: { enabled: true, maxSkipSeconds: 1 } });
    expect(run.results).toHaveLength(frames);
    const inferred = run.results.filter((r) => r.inferred).map((r) => r.frameIndex);
    // The first frame, then one each second of stream time (25 frames at 25 fps): 0, 25, 50, 75.
    expect(inferred).toEqual([0, 25, 50, 75]);
    expect(run.stats.skipped).toEqual({ interval: 0, motion: frames - 4 });
    expect(run.images).toBe(4);
    const ids0 = run.results[0]!.tracks.map((t) => t.trackId).sort((a, b) => a - b);
    expect(ids0).toHaveLength(scene.objectsAt(1).length);
    for (const r of run.results) expect(r.tracks.map((t) => t.trackId).sort((a, b) => a - b), `frame ${r.frameIndex}`).toEqual(ids0);
  }, 120_000);

  it('configure(): the interval and motion gating change on a running stream from its next frame', async () => {
    // One JPEG of the scene pushed again and again into a lossless pushed stream, 40 ms of stream time apart.
    const scene = generateScene({ frames: 1 });
    const enc = spawnSync(
      findFfmpeg(),
      ['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${scene.spec.width}x${scene.spec.height}`,
        '-i', '-', '-frames:v', '1', '-q:v', '3', '-f', 'mjpeg', '-'],
      { input: scene.renderFrame(1), maxBuffer: 16 << 20 },
    );
    expect(enc.status, enc.stderr?.toString()).toBe(0);
    const jpeg = enc.stdout;
    await using pipeline = await Pipeline.create({
      model: { path: assets.modelPath, classNames: assets.classNames },
      tracker: { type: 'bytetrack', trackBufferSeconds: 1 },
    });
    const stream = pipeline.addStream({ id: 'cfg', input: 'push', codec: 'jpeg', live: false, resultQueueSize: 1000 });
    const it = stream.results()[Symbol.asyncIterator]();
    let seq = 0;
    const pushAndTake = async (n: number): Promise<FrameResult[]> => {
      for (let i = 0; i < n; i++) stream.push(jpeg, { ptsMs: 40 * seq++ });
      const out: FrameResult[] = [];
      while (out.length < n) {
        const r = await it.next();
        expect(r.done).toBe(false);
        out.push(r.value as FrameResult);
      }
      return out;
    };
    const marks = (rs: FrameResult[]) => rs.map((r) => (r.inferred ? 'I' : '-')).join('');
    expect(marks(await pushAndTake(4))).toBe('IIII');
    expect(stream.configure({ inference: { interval: 2 } }).inference).toEqual({ interval: 2 });
    // From the next frame, counted from the last inferred one (DeepStream's interval): 2 skipped, then inferred.
    expect(marks(await pushAndTake(7))).toBe('--I--I-');
    stream.configure({ inference: { interval: 0 }, motion: { enabled: true, maxSkipSeconds: 0 } });
    // The first gated frame starts the background (and counts as motion); the same picture again has none.
    expect(marks(await pushAndTake(6))).toBe('I-----');
    stream.configure({ motion: null });
    expect(marks(await pushAndTake(2))).toBe('II');
    expect(stream.stats().skipped).toEqual({ interval: 5, motion: 5 });
    // Bad values are ConfigErrors naming the field; nothing changes.
    expect(() => stream.configure({ inference: { interval: -1 } })).toThrow(/inference\.interval/);
    expect(() => stream.configure({ motion: { minArea: 2 } })).toThrow(/motion\.minArea/);
    expect(() => stream.configure({ motion: { masks: [[[0, 0], [1, 1]]] } })).toThrow(/motion\.masks/);
    expect(marks(await pushAndTake(2))).toBe('II');
    stream.end();
  }, 120_000);

  it('acceptance: long empty stretches, ungated vs gated in the same run', async () => {
    // Ground truth: 450 frames (18 s at 25 fps), 6 squares moving in frames 1-40 and 221-260 only; frames 41-220 and
    // 261-450 (370 frames, 82 %) are the empty background.
    const idle: [number, number][] = [[41, 220], [261, 450]];
    const a = await ensureDemoAssets(dir, { streams: 1, scene: { frames: 450, fps: FPS, idle } });
    const clip = a.streams[0]!;
    const gt = parseMotFile(readFileSync(clip.gtPath, 'utf8'));
    expect(new Set(gt.map((g) => g.frame)).size).toBe(80);

    // What the loaded machine itself adds to the event-loop delay: the same monitor with no pipeline, in this run.
    const idleLoop = monitorEventLoopDelay({ resolution: 1 });
    idleLoop.enable();
    await new Promise((r) => setTimeout(r, 2000));
    idleLoop.disable();
    const idleP99Ms = idleLoop.percentile(99) / 1e6;

    const ungated = await runClip(a.modelPath, a.classNames, clip.videoPath);
    const gated = await runClip(a.modelPath, a.classNames, clip.videoPath, { motion: { enabled: true } });
    expect(ungated.results).toHaveLength(450);
    expect(gated.results).toHaveLength(450);
    const mu = evaluateMot(gt, toHyp(ungated.results));
    const mg = evaluateMot(gt, toHyp(gated.results));
    const skippedShare = 1 - gated.images / ungated.images;
    const figures = {
      inferences: { ungated: ungated.images, gated: gated.images, skippedShare: +skippedShare.toFixed(3) },
      skipped: gated.stats.skipped,
      uniqueTracks: { ungated: uniqueTracks(ungated.results), gated: uniqueTracks(gated.results) },
      mota: { ungated: +mu.mota.toFixed(4), gated: +mg.mota.toFixed(4) },
      idSwitches: { ungated: mu.numSwitches, gated: mg.numSwitches },
      loopDelayP99Ms: { idle: +idleP99Ms.toFixed(2), ungated: +ungated.loopDelayP99Ms.toFixed(2), gated: +gated.loopDelayP99Ms.toFixed(2) },
      loopDelayMaxMs: { ungated: +ungated.loopDelayMaxMs.toFixed(2), gated: +gated.loopDelayMaxMs.toFixed(2) },
    };
    console.log(`[sched] acceptance ${JSON.stringify(figures)}`);
    expect(ungated.images).toBe(450);
    expect(gated.stats.skipped.motion).toBe(450 - gated.images);
    expect(skippedShare).toBeGreaterThanOrEqual(2 / 3);
    // The bounds, literally: unique tracks within ±1 of the ungated run, MOTA within 2 points. A frame that is
    // not inferred carries the tracked tracks (not a miss) but ages the lost ones as any frame of the stream does
    // (Tracker::Predict), so the lost tracks of the gated run time out during an empty stretch as in the ungated run,
    // and no more are carried across it than in the ungated run (the tracks seen both before and after an empty
    // stretch).
    const carried = carriedAcross(gated.results, idle);
    const carriedUngated = carriedAcross(ungated.results, idle);
    console.log(`[sched] acceptance unique tracks: ungated ${uniqueTracks(ungated.results)}, gated ${uniqueTracks(gated.results)} (carried across an empty stretch: ungated ${carriedUngated}, gated ${carried})`);
    expect(Math.abs(uniqueTracks(gated.results) - uniqueTracks(ungated.results))).toBeLessThanOrEqual(1);
    expect(carried).toBeLessThanOrEqual(carriedUngated);
    expect(Math.abs(mg.mota - mu.mota)).toBeLessThanOrEqual(0.02);
    // Every frame with objects in view was inferred: gating only skips the empty stretches.
    const gtFrames = new Set(gt.map((g) => g.frame - 1));
    for (const r of gated.results) if (gtFrames.has(r.frameIndex)) expect(r.inferred, `frame ${r.frameIndex}`).toBe(true);

    // The event loop as a camera loads it: the same clip as JPEG frames pushed in real time (25 fps, live), gated
    // (and ungated when asked, below). (The file runs above read as fast as the two cores allow, so the main thread competes for a core
    // with decode and inference threads; their p99 is reported, not bounded.)
    const jpegDir = path.join(dir, 'jpeg');
    mkdirSync(jpegDir, { recursive: true });
    const dec = spawnSync(findFfmpeg(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', clip.videoPath, '-q:v', '3', path.join(jpegDir, '%04d.jpg')]);
    expect(dec.status, dec.stderr?.toString()).toBe(0);
    const jpegs = readdirSync(jpegDir).sort().map((f) => readFileSync(path.join(jpegDir, f)));
    expect(jpegs).toHaveLength(450);
    // The ungated real-time run is a comparison only (printed, not bounded), so it runs when asked:
    // CAMTRACK_SCHED_REALTIME_UNGATED=1 (18 s more; docs/scheduling.md has its figures).
    const rtUngated = process.env.CAMTRACK_SCHED_REALTIME_UNGATED === '1' ? await runPushedRealtime(a.modelPath, a.classNames, jpegs) : undefined;
    const rtGated = await runPushedRealtime(a.modelPath, a.classNames, jpegs, { motion: { enabled: true } });
    const rt = {
      loopDelayP99Ms: { ungated: rtUngated && +rtUngated.loopDelayP99Ms.toFixed(2), gated: +rtGated.loopDelayP99Ms.toFixed(2) },
      loopDelayMaxMs: { ungated: rtUngated && +rtUngated.loopDelayMaxMs.toFixed(2), gated: +rtGated.loopDelayMaxMs.toFixed(2) },
      delivered: { ungated: rtUngated?.results.length, gated: rtGated.results.length },
      inferences: { ungated: rtUngated?.images, gated: rtGated.images },
    };
    console.log(`[sched] acceptance real time ${JSON.stringify(rt)}`);
    // A live stream may drop a few frames as busy on a loaded machine (counted); most must arrive.
    expect(rtGated.results.length).toBeGreaterThanOrEqual(405);
    expect(1 - rtGated.images / rtGated.results.length).toBeGreaterThanOrEqual(2 / 3);
    // The 5 ms, or, where the loaded machine alone takes part of it (idle p99 measured above, same run),
    // 5 ms on top of the machine's own delay.
    expect(rtGated.loopDelayP99Ms).toBeLessThanOrEqual(Math.max(LOOP_DELAY_P99_BOUND_MS, idleP99Ms + LOOP_DELAY_P99_BOUND_MS));
  }, 300_000);
});

// Main-thread event-loop delay p99 bound (perf_hooks.monitorEventLoopDelay, 1 ms resolution), see docs/scheduling.md.
const LOOP_DELAY_P99_BOUND_MS = 5;
