/**
 * Inputs that are not what they should be (issue 8, items 2, 5 and the open-timeout wording of 6). Clips are made
 * in a temporary folder from the shared assets:
 *
 * - walking-half.mp4: the first half of walking.mp4's bytes (`head -c`; moov at the front, mdat cut: 153 of 341
 *   frames decode); walking-100k.mp4: its first 100 000 bytes (the index and one partial frame: nothing decodes);
 *   mmt-half.mp4: the first half of mmtracking-demo.mp4 (moov at the end: cut away, the open fails).
 * - walking-damaged.mp4: walking.mp4 with 4 kB overwritten at 30 % and 65 % of its media data, size kept (two
 *   damaged places, 5 s apart); damaged.ts: a 6 s 640x360 MPEG-TS (1 s GOP) with two 4 kB regions XOR-ed, TS sync
 *   bytes kept, served by the RTSP helper to a live stream (the helper sends a TS file faster than real time: most
 *   frames are dropped as busy, all are decoded).
 * - notes.txt: a text file (FFmpeg's `tty` demuxer reads it as ANSI-art video).
 * - a TCP listener that accepts and never answers (open timeout).
 *
 * Checked: a truncated file ends with a 'warning' + lastError (reason 'truncated'), or fails when nothing could be
 * read; complete files (also looped) end without any warning; damaged frames give one warning per burst, not per
 * frame, and every counted one is reported; a text file fails at open (reason 'format') unless inputFormats lets
 * it in; an open that times out says so instead of FFmpeg's "Invalid data found when processing input".
 */
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Pipeline, type CamtrackError, type FrameResult, type Stream, type StreamOptions } from '../../dist/index.js';
import type { StateChange } from '../../dist/types.js';
import { assetPath, describeWithAssets, isCi } from '../helpers/assets.js';
import { killAllTracked, runBounded } from '../helpers/processes.js';
import { rtspServerUnavailableReason, startRtspServer } from '../helpers/rtsp-server.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const WALKING = 'videos/walking.mp4';
const CAR = 'videos/car-detection.mp4';
const MMT = 'videos/mmtracking-demo.mp4';
const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
/** SOURCES.md: walking.mp4 341 frames at 25 fps (13.64 s), car-detection.mp4 377, mmtracking-demo.mp4 8. */
const WALKING_FRAMES = 341;
const WALKING_MS = 13_640;
/** Measured with FFmpeg 5.1: the first half of walking.mp4's bytes holds 154 video packets, 153 decode whole. */
const WALKING_HALF_MIN_FRAMES = 150;
/** Inference on every 5th frame or so: every frame is still demuxed, decoded and checked for damage. */
const FPS_LIMIT = 5;
const DAMAGED_PLACES = 2;
const TRUNCATED_HINT = /the file is truncated or unreadable/;

interface Run {
  results: FrameResult[];
  states: StateChange[];
  warnings: CamtrackError[];
  errors: CamtrackError[];
  final: string;
}

/** Consumes a stream to its end (or until `until` says stop: the stream is then removed). */
async function consume(p: Pipeline, stream: Stream, until?: (r: FrameResult) => boolean): Promise<Run> {
  const run: Run = { results: [], states: [], warnings: [], errors: [], final: '' };
  stream.on('state', (_s: string, _p: string, c: StateChange) => run.states.push(c));
  stream.on('warning', (e: CamtrackError) => run.warnings.push(e));
  stream.on('error', (e: CamtrackError) => run.errors.push(e));
  for await (const r of stream.results()) {
    run.results.push(r);
    if (until?.(r)) {
      await p.removeStream(stream.id);
      break;
    }
  }
  run.final = await stream.whenEnded();
  return run;
}

async function runOne(options: StreamOptions, until?: (r: FrameResult) => boolean): Promise<Run & { stats: ReturnType<Stream['stats']> }> {
  await using p = await Pipeline.create({ model: assetPath(FAST_MODEL), inference: { workers: 1 } });
  const s = p.addStream({ resultQueueSize: 100_000, ...options });
  const run = await consume(p, s, until);
  return { ...run, stats: s.stats() };
}

/** The damage warnings (ERR_CAMTRACK_DECODE) and the corrupt count each one reports ("N damaged packets/frames …"). */
function damageReports(warnings: CamtrackError[]): number[] {
  return warnings
    .filter((w) => w.code === 'ERR_CAMTRACK_DECODE')
    .map((w) => Number(/^(\d+) damaged packets\/frames /.exec(w.message)?.[1] ?? NaN));
}

/** Start of an mp4's mdat payload and its size (top-level boxes only). */
function mdatOf(buf: Buffer): { start: number; size: number } {
  for (let off = 0; off + 8 <= buf.length; ) {
    let size = buf.readUInt32BE(off);
    let header = 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(off + 8));
      header = 16;
    } else if (size === 0) {
      size = buf.length - off;
    }
    if (buf.toString('latin1', off + 4, off + 8) === 'mdat') return { start: off + header, size: size - header };
    off += size;
  }
  throw new Error('no mdat box');
}

const unavailable = rtspServerUnavailableReason();
if (unavailable !== undefined && !isCi) console.warn(`[camtrack tests] skipping the live damaged-stream case: ${unavailable}`);
const itRtsp = unavailable !== undefined && !isCi ? it.skip : it;

describeWithAssets('Source faults: truncated, damaged and non-video inputs, open timeouts', [WALKING, CAR, MMT, FAST_MODEL], () => {
  const tmp = lazyTempDir('camtrack-source-faults-');
  const clip = (name: string) => path.join(tmp(), name);

  beforeAll(async () => {
    const walking = readFileSync(assetPath(WALKING));
    writeFileSync(clip('walking-half.mp4'), walking.subarray(0, Math.floor(walking.length / 2)));
    writeFileSync(clip('walking-100k.mp4'), walking.subarray(0, 100_000));
    const mmt = readFileSync(assetPath(MMT));
    writeFileSync(clip('mmt-half.mp4'), mmt.subarray(0, Math.floor(mmt.length / 2)));
    const damaged = Buffer.from(walking);
    const mdat = mdatOf(damaged);
    for (const at of [0.3, 0.65]) damaged.fill(0xa5, mdat.start + Math.floor(mdat.size * at), mdat.start + Math.floor(mdat.size * at) + 4096);
    writeFileSync(clip('walking-damaged.mp4'), damaged);
    writeFileSync(clip('notes.txt'), 'camtrack notes\n'.repeat(400) + '\x1b[31mred\x1b[0m\n'.repeat(100));
    const ts = clip('clean.ts');
    const enc = await runBounded('ffmpeg', ['-v', 'error', '-y', '-i', assetPath(WALKING), '-t', '6', '-an', '-vf', 'scale=640:360', '-c:v', 'libx264',
      '-preset', 'ultrafast', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-f', 'mpegts', ts], 120);
    if (enc.code !== 0) throw new Error(`ffmpeg failed (${enc.code}): ${enc.stderr}`);
    const bad = readFileSync(ts);
    for (const at of [0.3, 0.6]) {
      const s0 = Math.floor(bad.length * at) - (Math.floor(bad.length * at) % 188);
      for (let i = s0; i < s0 + 4096; i++) if (i % 188 > 3) bad[i] = bad[i]! ^ 0x5a;
    }
    writeFileSync(clip('damaged.ts'), bad);
  }, 120_000);

  afterAll(async () => {
    await killAllTracked();
  });

  describe('truncated files', () => {
    it('EXPECTED FAILURE - a file cut inside its media data delivers the frames before the cut, then ends with a warning and lastError (truncated)', async () => {
      const run = await runOne({ id: 'half', url: clip('walking-half.mp4'), fpsLimit: FPS_LIMIT });
      console.log(`[source faults] half file: ${run.stats.framesDecoded}/${WALKING_FRAMES} frames, ${run.final}; ${run.stats.lastError}`);
      expect(run.errors).toEqual([]);
      expect(run.final).toBe('ended');
      expect(run.states.at(-1)!.reason).toBe('truncated');
      expect(run.stats.framesDecoded).toBeGreaterThanOrEqual(WALKING_HALF_MIN_FRAMES);
      expect(run.stats.framesDecoded).toBeLessThan(WALKING_FRAMES);
      // The results reach the cut: the last one within one fpsLimit interval of frame 150 (40 ms per frame).
      expect(run.results.at(-1)!.ptsMs).toBeGreaterThanOrEqual(WALKING_HALF_MIN_FRAMES * 40 - 1000 / FPS_LIMIT);
      expect(run.stats.framesDelivered).toBe(run.results.length);
      const warning = run.warnings.find((w) => w.code === 'ERR_CAMTRACK_SOURCE_READ');
      expect(warning?.message).toMatch(/^the file ends early \(truncated\): 154 video packets read of the 341 its index lists/);
      expect(warning?.hint).toMatch(TRUNCATED_HINT);
      expect(run.stats).toMatchObject({ lastErrorCode: 'ERR_CAMTRACK_SOURCE_READ', lastErrorReason: 'truncated', lastError: warning!.message });
    }, 120_000);

    it('EXPECTED FAILURE - a file cut before its first whole frame fails (truncated)', async () => {
      const run = await runOne({ id: 'cut', url: clip('walking-100k.mp4') });
      expect(run.final).toBe('failed');
      expect(run.results).toEqual([]);
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]!.code).toBe('ERR_CAMTRACK_SOURCE_READ');
      expect(run.errors[0]!.hint).toMatch(TRUNCATED_HINT);
      expect(run.states.at(-1)!.reason).toBe('truncated');
      expect(run.stats.lastErrorReason).toBe('truncated');
    }, 60_000);

    it('EXPECTED FAILURE - an MP4 cut before its index (moov at the end) fails at open, and the hint says it may be truncated', async () => {
      const run = await runOne({ id: 'nomoov', url: clip('mmt-half.mp4') });
      expect(run.final).toBe('failed');
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]!.code).toBe('ERR_CAMTRACK_SOURCE_OPEN');
      expect(run.errors[0]!.hint).toMatch(/truncated/);
    }, 60_000);

    it('complete files end cleanly without any warning, also when looped', async () => {
      await using p = await Pipeline.create({ model: assetPath(FAST_MODEL), inference: { workers: 1 } });
      // fpsLimit spares inference; every frame is still demuxed and decoded.
      const opts = { fpsLimit: 2, resultQueueSize: 100_000 };
      const runs = await Promise.all([
        consume(p, p.addStream({ id: 'walking', url: assetPath(WALKING), ...opts })),
        consume(p, p.addStream({ id: 'car', url: assetPath(CAR), ...opts })),
        consume(p, p.addStream({ id: 'mmt', url: assetPath(MMT), ...opts })),
        // Two and a half passes of walking.mp4, then removed.
        consume(p, p.addStream({ id: 'loop', url: assetPath(WALKING), loop: true, ...opts }), (r) => r.ptsMs > 2.5 * WALKING_MS),
      ]);
      for (const [i, id] of ['walking', 'car', 'mmt', 'loop'].entries()) {
        const run = runs[i]!;
        expect(run.warnings, id).toEqual([]);
        expect(run.errors, id).toEqual([]);
        expect(run.results.length, id).toBeGreaterThan(0);
        expect(run.final, id).toBe(id === 'loop' ? 'stopped' : 'ended');
        expect(run.states.at(-1)!.reason, id).toBe(id === 'loop' ? 'removed' : 'eof');
      }
    }, 180_000);
  });

  describe('damaged data in the middle', () => {
    it('a file damaged in two places: one warning per damaged place (not per frame), every counted frame reported, the good frames delivered', async () => {
      const run = await runOne({ id: 'damaged', url: clip('walking-damaged.mp4'), fpsLimit: FPS_LIMIT });
      const reports = damageReports(run.warnings);
      console.log(`[source faults] damaged file: ${run.stats.framesDecoded}/${WALKING_FRAMES} frames, corrupt ${run.stats.framesCorrupt}, warnings [${reports.join(', ')}]`);
      expect(run.errors).toEqual([]);
      expect(run.final).toBe('ended');
      expect(run.states.at(-1)!.reason).toBe('eof');
      expect(reports.length).toBeGreaterThanOrEqual(1);
      expect(reports.length).toBeLessThanOrEqual(DAMAGED_PLACES);
      expect(reports.reduce((a, b) => a + b, 0)).toBe(run.stats.framesCorrupt);
      expect(run.stats.framesDecoded).toBeGreaterThanOrEqual(WALKING_FRAMES - 10);
      // Results continue after both damaged places, to the end of the clip.
      expect(run.results.at(-1)!.ptsMs).toBeGreaterThanOrEqual(WALKING_MS - 1000);
      expect(run.results.length).toBeGreaterThanOrEqual((WALKING_MS / 1000) * FPS_LIMIT - 5);
      expect(run.stats.lastError).toBeUndefined(); // damage is counted and warned, it is not a failure
    }, 120_000);

    itRtsp('a live RTSP camera sending damaged data: one warning per burst, every counted frame reported', async () => {
      const server = await startRtspServer({ mounts: { '/bad': `file:${clip('damaged.ts')}` } });
      try {
        const run = await runOne({ id: 'bad', url: server.url('/bad'), reconnect: false });
        const reports = damageReports(run.warnings);
        console.log(`[source faults] damaged live: decoded ${run.stats.framesDecoded}, delivered ${run.results.length}, corrupt ${run.stats.framesCorrupt}, warnings [${reports.join(', ')}]`);
        expect(run.stats.live).toBe(true);
        expect(run.stats.framesCorrupt).toBeGreaterThan(0);
        expect(reports.length).toBeGreaterThanOrEqual(1);
        expect(reports.length).toBeLessThanOrEqual(DAMAGED_PLACES);
        expect(reports.reduce((a, b) => a + b, 0)).toBe(run.stats.framesCorrupt);
        expect(run.results.length).toBeGreaterThan(0);
      } finally {
        await server.stop();
      }
    }, 120_000);
  });

  describe('inputFormats', () => {
    it('EXPECTED FAILURE - a text file fails at open (ERR_CAMTRACK_UNSUPPORTED, reason format), also as a live source: not retried', async () => {
      for (const live of [false, true]) {
        const run = await runOne({ id: `text-${live}`, url: clip('notes.txt'), live });
        expect(run.final, `live ${live}`).toBe('failed');
        expect(run.results).toEqual([]);
        expect(run.errors).toHaveLength(1);
        expect(run.errors[0]!.code).toBe('ERR_CAMTRACK_UNSUPPORTED');
        expect(run.errors[0]!.message).toMatch(/^input format 'tty' of .*notes\.txt is not an accepted video format \(inputFormats\)/);
        expect(run.errors[0]!.hint).toMatch(/add 'tty' to the stream's inputFormats/);
        expect(run.states.at(-1)!.reason).toBe('format');
        expect(run.stats.reconnectAttempts).toBe(0);
      }
    }, 60_000);

    it('inputFormats overrides the default: with tty in it the text file is read', async () => {
      const run = await runOne({ id: 'text', url: clip('notes.txt'), inputFormats: ['tty'] });
      expect(run.errors).toEqual([]);
      expect(run.final).toBe('ended');
      expect(run.results.length).toBeGreaterThan(0);
    }, 60_000);

    it('EXPECTED FAILURE - a list without mov refuses an MP4, naming its format', async () => {
      const run = await runOne({ id: 'mp4', url: assetPath(MMT), inputFormats: ['mpegts'] });
      expect(run.final).toBe('failed');
      expect(run.errors[0]!.code).toBe('ERR_CAMTRACK_UNSUPPORTED');
      expect(run.errors[0]!.message).toMatch(/^input format 'mov' of /);
    }, 60_000);
  });

  describe('open timeout', () => {
    it('EXPECTED FAILURE - a server that accepts and never answers: the error says it timed out, not FFmpeg\'s "Invalid data found"', async () => {
      const sockets = new Set<net.Socket>();
      const silent = net.createServer((sock) => sockets.add(sock));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
      const port = (silent.address() as net.AddressInfo).port;
      try {
        const run = await runOne({ id: 'silent', url: `rtsp://admin:secret@127.0.0.1:${port}/cam`, openTimeoutMs: 500, reconnect: false });
        expect(run.final).toBe('failed');
        expect(run.errors).toHaveLength(1);
        const error = run.errors[0]!;
        expect(error.code).toBe('ERR_CAMTRACK_SOURCE_OPEN');
        expect(error.message).toBe(`no answer within openTimeoutMs (500 ms) from rtsp://***@127.0.0.1:${port}/cam`);
        expect(error.hint).toMatch(/openTimeoutMs/);
        expect(run.states.at(-1)!.reason).toBe('timeout');
        expect(run.stats.lastErrorReason).toBe('timeout');
      } finally {
        for (const sock of sockets) sock.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    }, 60_000);
  });
});
