/**
 * What goes into the decoder: damaged bitstreams, a resolution change mid-stream, and a pipeline slower than its
 * camera. Clips are made in a temporary folder from walking.mp4 with ffmpeg (libx264, 1 s GOP, MPEG-TS):
 *
 * - a.ts: 150 frames 640x360 (keyframes every 25); b.ts: 100 frames 320x180 with timestamps continuing a.ts;
 *   res.ts = a.ts + b.ts (one stream, the resolution changes at frame 150).
 * - corrupt.ts: a copy of a.ts with two 4 kB regions XOR-ed (TS sync bytes kept, so the damage reaches the
 *   decoder) and the file cut mid-packet at 85 %.
 *
 * Checked: corrupt frames counted, decoding continues after the damage (frames from the last GOPs are delivered),
 * the stream ends normally, no crash — from a file and served over RTSP; the resolution change passes through
 * (sizes and boxes follow it) without a restart — from a file and through the harness's UDP relay mount; a live
 * camera feeding a pipeline several times too slow keeps the age of delivered frames bounded and counts the
 * frames it skipped.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Pipeline, type CamtrackError, type FrameResult, type Stream } from '../../dist/index.js';
import type { StateChange } from '../../dist/types.js';
import { assetPath, describeWithAssets, isCi } from '../helpers/assets.js';
import { freePort, killAllTracked, runBounded, spawnTracked, stopProcess } from '../helpers/processes.js';
import { rtspServerUnavailableReason, startRtspServer } from '../helpers/rtsp-server.js';

const WALKING = 'videos/walking.mp4';
const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
const SLOW_MODEL = 'models/yolov8n_int8.onnx';
const A_FRAMES = 150;
const B_FRAMES = 100;
const A_SIZE = { width: 640, height: 360 };
const B_SIZE = { width: 320, height: 180 };
const GOP = 25;

interface Run {
  results: FrameResult[];
  states: StateChange[];
  errors: CamtrackError[];
  final: string;
}

async function consume(stream: Stream): Promise<Run> {
  const states: StateChange[] = [];
  const errors: CamtrackError[] = [];
  stream.on('state', (_s: string, _p: string, c: StateChange) => states.push(c));
  stream.on('error', (e: CamtrackError) => errors.push(e));
  const results: FrameResult[] = [];
  for await (const r of stream.results()) results.push(r);
  return { results, states, errors, final: await stream.whenEnded() };
}

function expectOrdered(results: FrameResult[], label: string): void {
  for (let i = 1; i < results.length; i++) {
    expect(results[i]!.frameIndex, `${label} frameIndex`).toBeGreaterThan(results[i - 1]!.frameIndex);
    expect(results[i]!.ptsMs, `${label} ptsMs`).toBeGreaterThanOrEqual(results[i - 1]!.ptsMs);
  }
}

async function ffmpeg(args: string[]): Promise<void> {
  const r = await runBounded('ffmpeg', ['-v', 'error', '-y', ...args], 120);
  if (r.code !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
}

const unavailable = rtspServerUnavailableReason();
if (unavailable !== undefined && !isCi) console.warn(`[camtrack tests] skipping ingest RTSP cases: ${unavailable}`);
const itRtsp = unavailable !== undefined && !isCi ? it.skip : it;

describeWithAssets('Ingest: damaged bitstreams, resolution changes, slow pipelines', [WALKING, FAST_MODEL, SLOW_MODEL], () => {
  let dir: string;
  let resTs: string;
  let corruptTs: string;
  let aLength = 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-ingest-'));
    const enc = ['-an', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(GOP), '-keyint_min', String(GOP), '-sc_threshold', '0'];
    const a = path.join(dir, 'a.ts');
    const b = path.join(dir, 'b.ts');
    await ffmpeg(['-i', assetPath(WALKING), '-frames:v', String(A_FRAMES), '-vf', `scale=${A_SIZE.width}:${A_SIZE.height}`, ...enc, '-f', 'mpegts', a]);
    // b continues a's timeline (a: 6 s from the muxer's 1.4 s offset).
    await ffmpeg(['-ss', '6', '-i', assetPath(WALKING), '-frames:v', String(B_FRAMES), '-vf', `scale=${B_SIZE.width}:${B_SIZE.height}`, ...enc, '-output_ts_offset', '6', '-f', 'mpegts', b]);
    const aBytes = readFileSync(a);
    aLength = aBytes.length;
    resTs = path.join(dir, 'res.ts');
    writeFileSync(resTs, Buffer.concat([aBytes, readFileSync(b)]));
    // Damage: XOR two 4 kB regions (keeping every 188-byte packet's sync byte), then cut mid-packet at 85 %.
    const bad = Buffer.from(aBytes);
    for (const start of [Math.floor(aLength * 0.3), Math.floor(aLength * 0.6)]) {
      const s0 = start - (start % 188);
      for (let i = s0; i < s0 + 4096; i++) if (i % 188 > 3) bad[i] = bad[i]! ^ 0x5a;
    }
    corruptTs = path.join(dir, 'corrupt.ts');
    writeFileSync(corruptTs, bad.subarray(0, Math.floor(aLength * 0.85) - (Math.floor(aLength * 0.85) % 188) + 100));
  }, 60_000);

  afterAll(async () => {
    await killAllTracked();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a corrupted, truncated file: corrupt frames counted, decoding resumes at the next keyframe, ends normally', async () => {
    await using p = await Pipeline.create({ model: assetPath(FAST_MODEL), inference: { workers: 1 } });
    const s = p.addStream({ id: 'bad', url: corruptTs });
    const run = await consume(s);
    const st = s.stats();
    const last = run.results.at(-1)!;
    console.log(`[ingest corrupt file] decoded ${st.framesDecoded}, corrupt ${st.framesCorrupt}, delivered ${run.results.length}, last frame ${last.frameIndex}`);
    expect(run.errors).toEqual([]);
    expect(run.final).toBe('ended');
    expect(st.framesCorrupt).toBeGreaterThan(0);
    // The cut is at 85 % of the bytes; frames of the GOPs after both damaged regions (from frame 100) still arrive.
    expect(run.results.some((r) => r.frameIndex >= 100)).toBe(true);
    expect(last.frameIndex).toBeGreaterThanOrEqual(110);
    expect(st.framesDelivered).toBe(run.results.length);
    expect(run.results.length).toBeGreaterThanOrEqual(100);
    expectOrdered(run.results, 'bad');
  }, 60_000);

  itRtsp('the corrupted clip served over RTSP: frames after the damage are delivered, no crash', async () => {
    const server = await startRtspServer({ mounts: { '/bad': `file:${corruptTs}` } });
    try {
      await using p = await Pipeline.create({ model: assetPath(FAST_MODEL), inference: { workers: 1 } });
      const s = p.addStream({ id: 'bad', url: server.url('/bad'), live: false, reconnect: false });
      const run = await consume(s);
      const st = s.stats();
      console.log(`[ingest corrupt rtsp] decoded ${st.framesDecoded}, corrupt ${st.framesCorrupt}, delivered ${run.results.length}, last frame ${run.results.at(-1)?.frameIndex}`);
      expect(run.errors).toEqual([]);
      expect(run.final).toBe('ended');
      expect(st.framesCorrupt).toBeGreaterThan(0);
      expect(run.results.length).toBeGreaterThanOrEqual(90);
      expect(run.results.at(-1)!.frameIndex).toBeGreaterThanOrEqual(100);
      expectOrdered(run.results, 'bad');
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('a resolution change mid-file (640x360 → 320x180) passes through without a restart', async () => {
    await using p = await Pipeline.create({ model: assetPath(FAST_MODEL), inference: { workers: 1 } });
    const s = p.addStream({ id: 'res', url: resTs });
    const run = await consume(s);
    expect(run.errors).toEqual([]);
    expect(run.final).toBe('ended');
    expect(run.states.map((c) => c.state)).toEqual(['live', 'ended']);
    expect(run.results).toHaveLength(A_FRAMES + B_FRAMES);
    expectOrdered(run.results, 'res');
    const sizes = run.results.map((r) => `${r.width}x${r.height}`);
    expect(sizes.slice(0, A_FRAMES).every((x) => x === '640x360')).toBe(true);
    expect(sizes.slice(A_FRAMES).every((x) => x === '320x180')).toBe(true);
    // Boxes follow the new geometry: persons found in both parts, inside each part's frame.
    for (const [part, size] of [[run.results.slice(0, A_FRAMES), A_SIZE], [run.results.slice(A_FRAMES), B_SIZE]] as const) {
      const withPerson = part.filter((r) => r.detections.some((d) => d.label === 'person')).length;
      expect(withPerson / part.length).toBeGreaterThanOrEqual(0.8);
      for (const r of part) for (const d of r.detections) expect(d.x2).toBeLessThanOrEqual(size.width + 1);
    }
    const st = s.stats();
    expect({ width: st.width, height: st.height }).toEqual(B_SIZE);
  }, 60_000);

  itRtsp('a resolution change through the RTSP relay (ffmpeg publisher → udp mount) passes through live', async () => {
    const udpPort = await freePort('udp');
    const server = await startRtspServer({ mounts: { '/relay': `udp:${udpPort}` } });
    const publisher = spawnTracked('ffmpeg', ['-v', 'error', '-re', '-i', resTs, '-c', 'copy', '-f', 'mpegts', `udp://127.0.0.1:${udpPort}?pkt_size=1316`]);
    try {
      await using p = await Pipeline.create({ model: assetPath(FAST_MODEL), inference: { workers: 1 } });
      const s = p.addStream({ id: 'relay', url: server.url('/relay'), reconnect: { stallTimeoutMs: 3000, maxAttempts: 0 } });
      const seen = new Set<string>();
      const errors: CamtrackError[] = [];
      s.on('error', (e: CamtrackError) => errors.push(e));
      const got: FrameResult[] = [];
      for await (const r of s.results()) {
        got.push(r);
        seen.add(`${r.width}x${r.height}`);
        if (seen.has('320x180') && got.filter((x) => x.width === 320).length >= 20) break;
      }
      console.log(`[ingest resolution relay] sizes ${[...seen].join(', ')}, results ${got.length}`);
      expect(errors).toEqual([]);
      expect(seen).toEqual(new Set(['640x360', '320x180']));
      expect(s.state).toBe('live');
      expect(s.stats().reconnectAttempts).toBe(0);
      expectOrdered(got, 'relay');
    } finally {
      await stopProcess(publisher, 'SIGKILL');
      await server.stop();
    }
  }, 60_000);

  itRtsp('a camera faster than the pipeline: delivered frames do not age over time and skipped frames are counted', async () => {
    // One live mount per camera: gst-rtsp-server 1.22 can abort (gst_rtsp_media_get_rates: assertion failed) when
    // two clients set up the same shared live media at the same moment (seen here 1 run in 4); real cameras are
    // separate devices anyway.
    const server = await startRtspServer({ mounts: { '/c0': 'live:320x240@25', '/c1': 'live:320x240@25' } });
    try {
      // yolov8n int8 at 640 on one thread: a few frames per second for two 25 fps cameras.
      await using p = await Pipeline.create({
        model: assetPath(SLOW_MODEL),
        inference: { workers: 1, intraOpThreads: 1 },
        batching: { maxBatchSize: 1 },
      });
      const recs = ['c0', 'c1'].map((id) => {
        const s = p.addStream({ id, url: server.url(`/${id}`) });
        const rec: { r: FrameResult; wall: number }[] = [];
        s.on('result', (r: FrameResult) => rec.push({ r, wall: performance.now() }));
        return { s, rec };
      });
      // Measure from the moment both cameras deliver (the live encoder in the test server may take seconds to
      // start on a loaded 2-core machine), then for 9 s.
      const t0 = performance.now();
      while (recs.some((x) => x.rec.length === 0) && performance.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 100));
      expect(
        recs.map((x) => x.rec.length),
        `first results after ${(performance.now() - t0).toFixed(0)} ms; states ${recs.map((x) => `${x.s.state} (${x.s.stats().lastError ?? ''})`).join(', ')}; server: ${server.stderr().slice(-400)}`,
      ).not.toContain(0);
      for (const x of recs) x.rec.length = 0;
      await new Promise((r) => setTimeout(r, 9000));
      for (const { s, rec } of recs) {
        const st = s.stats();
        // Lag of a delivered frame = wall time of delivery − its presentation time (both relative to the first
        // result). A pipeline that falls behind shows it growing; a bounded one keeps it flat.
        const lag = rec.map((x) => x.wall - rec[0]!.wall - (x.r.ptsMs - rec[0]!.r.ptsMs));
        const third = Math.floor(lag.length / 3);
        const early = Math.max(...lag.slice(0, third));
        const late = Math.max(...lag.slice(-third));
        const latency = rec.map((x) => x.r.latencyMs);
        console.log(
          `[ingest slow pipeline] ${s.id}: decoded ${st.framesDecoded} (input ${st.inputFps.toFixed(1)} fps), delivered ${st.framesDelivered}, ` +
            `busy drops ${st.dropped.busy}, lag early ${early.toFixed(0)} ms late ${late.toFixed(0)} ms, latency max ${Math.max(...latency).toFixed(0)} ms, frame age ${st.frameAgeMs} ms`,
        );
        expect(rec.length).toBeGreaterThanOrEqual(6);
        expect(st.framesDelivered).toBeLessThan(st.framesDecoded / 2); // the pipeline really is the bottleneck
        expect(st.dropped.busy).toBeGreaterThan(st.framesDecoded / 2);
        // Every decoded frame is submitted or counted as dropped. The cameras are still running: one frame can be
        // between its decode and its submission (being letterboxed) when the counters are read.
        const unaccounted = st.framesDecoded - (st.framesSubmitted + st.dropped.busy + st.dropped.fpsLimit);
        expect(unaccounted).toBeGreaterThanOrEqual(0);
        expect(unaccounted).toBeLessThanOrEqual(1);
        expect(st.inputFps).toBeGreaterThan(15);
        expect(late - early).toBeLessThan(500);
        expect(Math.max(...latency)).toBeLessThan(1500);
        expect(st.frameAgeMs).toBeLessThan(500);
      }
    } finally {
      await server.stop();
    }
  }, 60_000);
});
