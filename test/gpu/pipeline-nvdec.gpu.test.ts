/**
 * GPU tier, through the public API: the pipeline's NVDEC branch (`decode: 'gpu' | 'auto'`, native/core/decode/
 * gpu_frame_source.cpp) end to end — demux → NVDEC → CUDA letterbox → batch slot → onnxruntime → NMS → tracker → JS —
 * against the CPU branch (libavcodec → CPU letterbox) on the same clip, in the same process.
 *
 * Why detections and not pixels: the pixel-level checks (NVDEC frames vs FFmpeg's CPU decode, PSNR ≥ 40 dB; the
 * NVDEC → letterbox kernel chain vs the CPU reference) are native GPU tests (native/tests/gpu, run by
 * preprocess.gpu.test.ts). This file checks that the pipeline wires them up: every frame arrives, in order, with
 * the detections the CPU branch gives for the same frame (the letterbox kernel and the CPU letterbox implement the
 * same half-pixel bilinear maths, so the only differences are float rounding).
 *
 * Where NVDEC is unavailable (no NVIDIA driver, no CUDA build) the whole file SKIPS, loudly, with the reason from
 * capabilities(). The fallback behaviour on such machines is test/addon/decode-option.test.ts. A CUDA build whose
 * CUDA runtime sees a GPU but that has no NVDEC FAILS instead (CAMTRACK_ALLOW_NO_NVDEC=1 skips there too).
 *
 * Inputs: ../shared/assets (CAMTRACK_ASSETS). HEVC: `$CAMTRACK_GPU_TEST_DATA/walking_hevc.mp4` (made with libx265,
 * docs/gpu-verification.md) if present, else made now with the ffmpeg CLI if it has libx265, else that test skips
 * saying so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';

import {
  ConfigError,
  Pipeline,
  capabilities,
  type CamtrackError,
  type Detection,
  type FrameResult,
  type Stream,
  type StreamOptions,
  type StreamStats,
} from '../../dist/index.js';
import { assetPath, describeWithAssets, repoRoot } from '../helpers/assets.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const MODEL = 'models/yolox_nano.onnx';
const WALKING = 'videos/walking.mp4'; // H.264 High 1280x720, 341 frames, 25 fps (SOURCES.md)
const WALKING_FRAMES = 341;
const MPEG4 = 'videos/mmtracking-demo.mp4'; // MPEG-4 Part 2: not an NVDEC codec in camtrack
const MPEG4_FRAMES = 8;

const caps = capabilities();
const nvdec = caps.nvdec;
// A CUDA build on a machine whose GPU the CUDA runtime can use, yet no NVDEC: a missing or broken NVDEC library or a
// regression in camtrack's check, not a machine without a GPU. That fails instead of skipping, so it cannot hide;
// CAMTRACK_ALLOW_NO_NVDEC=1 skips anyway (e.g. a container started without the driver's 'video' capability).
const nvdecMissingOnGpu =
  !nvdec.available && caps.native.cuda === true && caps.cuda.available && process.env['CAMTRACK_ALLOW_NO_NVDEC'] !== '1';
if (!nvdec.available && !nvdecMissingOnGpu) {
  console.warn(`\n[camtrack] GPU pipeline tests SKIPPED: NVDEC is not available: ${nvdec.reason ?? 'no reason given'}\n`);
}
const describeNvdec = nvdec.available ? describe : describe.skip;

describe('NVDEC where the CUDA runtime sees a GPU', () => {
  it.runIf(nvdecMissingOnGpu)('is available to the pipeline (else this fails with the reason)', () => {
    throw new Error(
      `the CUDA runtime sees a GPU but NVDEC is not available: ${nvdec.reason ?? 'no reason given'} ` +
        '(set CAMTRACK_ALLOW_NO_NVDEC=1 to skip the NVDEC tests on such a machine)',
    );
  });
});

interface Run {
  results: FrameResult[];
  warnings: CamtrackError[];
  errors: CamtrackError[];
  final: string;
  stream: Stream;
  /** The stream's stats at its end, taken before the pipeline closes (a closed pipeline's streams are removed). */
  stats: StreamStats;
}

/** Runs one stream per entry through one pipeline to its end; results by stream id. */
async function runStreams(streams: StreamOptions[], model = assetPath(MODEL), device = 0): Promise<Map<string, Run>> {
  const p = await Pipeline.create({ model, detection: { scoreThreshold: 0.25 }, gpu: { device } });
  try {
    const runs = new Map<string, Run>();
    for (const opts of streams) {
      const stream = p.addStream(opts);
      const run = { results: [], warnings: [], errors: [], final: '', stream } as unknown as Run;
      stream.on('result', (r: FrameResult) => run.results.push(r));
      stream.on('warning', (e: CamtrackError) => run.warnings.push(e));
      stream.on('error', (e: CamtrackError) => run.errors.push(e));
      runs.set(opts.id, run);
    }
    await Promise.all(
      [...runs.values()].map(async (r) => {
        r.final = await r.stream.whenEnded();
        r.stats = r.stream.stats();
      }),
    );
    return runs;
  } finally {
    await p.close();
  }
}

function iou(a: Detection, b: Detection): number {
  const iw = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const ih = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = iw * ih;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

interface Agreement {
  cpuDetections: number;
  gpuDetections: number;
  matched: number; // same class, IoU ≥ 0.9, |Δscore| ≤ 0.05
  unmatchedConfident: number; // unmatched detections (either side) with score ≥ 0.5
  minIou: number;
  maxScoreDiff: number;
}

/** Greedy one-to-one matching of each frame's detections, highest IoU first. */
function agreement(cpu: FrameResult[], gpu: FrameResult[]): Agreement {
  const a: Agreement = { cpuDetections: 0, gpuDetections: 0, matched: 0, unmatchedConfident: 0, minIou: 1, maxScoreDiff: 0 };
  for (let f = 0; f < cpu.length; f++) {
    const c = cpu[f]!.detections;
    const g = gpu[f]!.detections;
    a.cpuDetections += c.length;
    a.gpuDetections += g.length;
    const pairs: [number, number, number][] = [];
    c.forEach((dc, i) => g.forEach((dg, j) => dc.classId === dg.classId && pairs.push([iou(dc, dg), i, j])));
    pairs.sort((x, y) => y[0] - x[0]);
    const usedC = new Set<number>();
    const usedG = new Set<number>();
    for (const [v, i, j] of pairs) {
      if (v < 0.9 || usedC.has(i) || usedG.has(j)) continue;
      const ds = Math.abs(c[i]!.score - g[j]!.score);
      if (ds > 0.05) continue;
      usedC.add(i);
      usedG.add(j);
      a.matched++;
      a.minIou = Math.min(a.minIou, v);
      a.maxScoreDiff = Math.max(a.maxScoreDiff, ds);
    }
    a.unmatchedConfident += c.filter((d, i) => !usedC.has(i) && d.score >= 0.5).length;
    a.unmatchedConfident += g.filter((d, j) => !usedG.has(j) && d.score >= 0.5).length;
  }
  return a;
}

function expectAgreement(label: string, cpu: FrameResult[], gpu: FrameResult[]): void {
  expect(gpu.map((r) => r.frameIndex), label).toEqual(cpu.map((r) => r.frameIndex));
  expect(gpu.map((r) => r.ptsMs), label).toEqual(cpu.map((r) => r.ptsMs));
  const a = agreement(cpu, gpu);
  console.log(`[gpu pipeline] ${label}: ${JSON.stringify(a)}`);
  expect(a.cpuDetections, label).toBeGreaterThan(cpu.length); // people in every frame of these clips
  // Float rounding between the kernel and the CPU letterbox may flip a borderline box near the score threshold or
  // NMS; nothing more. ≥ 98 % of the boxes pair up, and no confident box is missing on either side.
  expect(a.matched, label).toBeGreaterThanOrEqual(0.98 * Math.max(a.cpuDetections, a.gpuDetections));
  expect(a.unmatchedConfident, label).toBe(0);
}

describeWithAssets('pipeline NVDEC branch (GPU)', [MODEL, WALKING, MPEG4], () => {
  describeNvdec(`with NVDEC (${nvdec.available ? 'available' : 'unavailable'})`, () => {
    const tmp = lazyTempDir('camtrack-gpu-');

    it("decode 'gpu' on H.264 gives every frame, in order, with the CPU branch's detections", { timeout: 300_000 }, async () => {
      const runs = await runStreams([
        { id: 'gpu', url: assetPath(WALKING), decode: 'gpu' },
        { id: 'cpu', url: assetPath(WALKING), decode: 'cpu' },
      ]);
      const gpu = runs.get('gpu')!;
      const cpu = runs.get('cpu')!;
      for (const r of [gpu, cpu]) {
        expect(r.final).toBe('ended');
        expect(r.errors).toHaveLength(0);
        expect(r.warnings).toHaveLength(0);
        expect(r.results).toHaveLength(WALKING_FRAMES);
        expect(r.results.map((x) => x.frameIndex)).toEqual([...Array(WALKING_FRAMES).keys()]);
      }
      const st = gpu.stats;
      expect(st.decoder).toBe('nvdec');
      expect(cpu.stats.decoder).toBe('cpu');
      expect(st.codec).toBe('h264');
      expect({ w: st.width, h: st.height }).toEqual({ w: 1280, h: 720 });
      expect(st.framesDecoded).toBe(WALKING_FRAMES);
      expect(st.framesDelivered).toBe(WALKING_FRAMES);
      expect(Object.keys(st.dropped)).toEqual(expect.arrayContaining(['busy', 'fpsLimit', 'inference', 'decoderPool', 'consumer']));
      for (const [cause, n] of Object.entries(st.dropped)) expect(n, `dropped.${cause}`).toBe(0);
      expect(gpu.results[0]!.width).toBe(1280);
      expectAgreement('walking h264', cpu.results, gpu.results);
    });

    it("decode 'gpu' on HEVC gives the CPU branch's detections", { timeout: 300_000 }, async (ctx: TestContext) => {
      const hevc = hevcClip(tmp());
      if (typeof hevc !== 'string') {
        console.warn(`[camtrack] HEVC GPU pipeline test SKIPPED: ${hevc.skip}`);
        return ctx.skip(hevc.skip);
      }
      const runs = await runStreams([
        { id: 'gpu', url: hevc, decode: 'gpu' },
        { id: 'cpu', url: hevc, decode: 'cpu' },
      ]);
      const gpu = runs.get('gpu')!;
      const cpu = runs.get('cpu')!;
      expect(gpu.final).toBe('ended');
      expect(gpu.errors).toHaveLength(0);
      expect(gpu.stats.decoder).toBe('nvdec');
      expect(gpu.stats.codec).toBe('hevc');
      expect(gpu.results.length).toBe(cpu.results.length);
      expect(gpu.results.length).toBe(gpu.stats.framesDecoded);
      expectAgreement('walking hevc', cpu.results, gpu.results);
    });

    it("'auto' on a codec NVDEC does not take falls back to the CPU with one warning; 'gpu' fails only its stream", { timeout: 120_000 }, async () => {
      const runs = await runStreams([
        { id: 'auto-mpeg4', url: assetPath(MPEG4), decode: 'auto' },
        { id: 'gpu-mpeg4', url: assetPath(MPEG4), decode: 'gpu' },
        { id: 'auto-h264', url: assetPath(WALKING), decode: 'auto', fpsLimit: 5 },
      ]);
      const fallback = runs.get('auto-mpeg4')!;
      expect(fallback.final).toBe('ended');
      expect(fallback.stats.decoder).toBe('cpu');
      expect(fallback.results).toHaveLength(MPEG4_FRAMES);
      expect(fallback.warnings).toHaveLength(1);
      expect(fallback.warnings[0]!.code).toBe('ERR_CAMTRACK_UNSUPPORTED');
      expect(fallback.warnings[0]!.message).toMatch(/NVDEC cannot decode this stream: .*mpeg4/);
      expect(fallback.errors).toHaveLength(0);

      const failed = runs.get('gpu-mpeg4')!;
      expect(failed.final).toBe('failed');
      expect(failed.errors).toHaveLength(1);
      expect(failed.errors[0]!.code).toBe('ERR_CAMTRACK_UNSUPPORTED');
      expect(failed.errors[0]!.message).toMatch(/^decode 'gpu': NVDEC cannot decode this stream: /);
      expect(failed.results).toHaveLength(0);

      const auto = runs.get('auto-h264')!; // next to both, unaffected, and on NVDEC
      expect(auto.final).toBe('ended');
      expect(auto.stats.decoder).toBe('nvdec');
      expect(auto.errors).toHaveLength(0);
      expect(auto.warnings).toHaveLength(0);
      expect(auto.results.length).toBe(auto.stats.framesDelivered);
      expect(auto.results.length).toBeGreaterThanOrEqual(60); // 13.6 s at fpsLimit 5
    });

    it('a damaged H.264 file (bytes flipped in two places): NVDEC decodes on past the damage, the stream ends normally', { timeout: 300_000 }, async () => {
      const damaged = damagedCopy(assetPath(WALKING), tmp());
      const runs = await runStreams([
        { id: 'gpu', url: damaged, decode: 'gpu' },
        { id: 'cpu', url: damaged, decode: 'cpu' },
        { id: 'clean', url: assetPath(WALKING), decode: 'gpu', fpsLimit: 5 }, // beside it, unaffected
      ], assetPath('models/yolo11n_int8_320.onnx'));
      for (const [id, r] of runs) {
        const st = r.stats;
        console.log(`[gpu pipeline] damaged clip, ${id}: delivered ${r.results.length}, corrupt ${st.framesCorrupt}, decoder ${st.decoder}`);
        expect(r.final, id).toBe('ended');
        expect(r.errors, id).toHaveLength(0);
        for (let i = 1; i < r.results.length; i++) expect(r.results[i]!.frameIndex, id).toBeGreaterThan(r.results[i - 1]!.frameIndex);
      }
      const gpu = runs.get('gpu')!.results;
      // The damage sits in the first and the second GOP (keyframes at frames 0, 128, 256; 25 fps): the last GOP,
      // from 10240 ms, decodes whole. (The CPU branch here: 339 of 341 delivered, 4 counted corrupt, all 85 of the
      // last GOP.) frameIndex counts decoded frames, so compare times, not indices.
      expect(gpu.length).toBeGreaterThanOrEqual(WALKING_FRAMES - 128);
      expect(gpu.filter((r) => r.ptsMs >= 256 * 40).length).toBe(WALKING_FRAMES - 256);
      expect(runs.get('gpu')!.stats.decoder).toBe('nvdec');
      // NVDEC reports the damaged pictures (cuvidGetDecodeStatus), as libavcodec flags them on the CPU branch.
      expect(runs.get('gpu')!.stats.framesCorrupt).toBeGreaterThan(0);
      expect(runs.get('cpu')!.stats.framesCorrupt).toBeGreaterThan(0);
      expect(runs.get('clean')!.stats.framesCorrupt).toBe(0);
      expect(runs.get('clean')!.results.length).toBeGreaterThanOrEqual(60);
    });

    it('gpu.device names the CUDA device; one that is not there is a ConfigError at create()', async () => {
      const devices = (capabilities().cuda as { devices: unknown[] }).devices.length;
      const err = await Pipeline.create({ model: assetPath(MODEL), gpu: { device: devices } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).path).toBe('gpu.device');
      const last = devices - 1; // the last visible device decodes like device 0
      const runs = await runStreams([{ id: 'last', url: assetPath(MPEG4), decode: 'cpu' }], assetPath(MODEL), last);
      expect(runs.get('last')!.final).toBe('ended');
      const onLast = await runStreams([{ id: 'h264', url: assetPath(WALKING), decode: 'gpu', fpsLimit: 5 }], assetPath(MODEL), last);
      expect(onLast.get('h264')!.final).toBe('ended');
      expect(onLast.get('h264')!.stats.decoder).toBe('nvdec');
    });

    it('snapshots of an NVDEC stream: the surface copied down is the frame FFmpeg decodes on the CPU', { timeout: 180_000 }, async () => {
      const p = await Pipeline.create({ model: assetPath(MODEL), detection: { scoreThreshold: 0.25 }, gpu: { device: 0 } });
      try {
        const stream = p.addStream({ id: 'gpu', url: assetPath(WALKING), decode: 'gpu', loop: true });
        await new Promise((resolve) => stream.once('result', resolve));
        expect(stream.stats().decoder).toBe('nvdec');
        const dir = tmp();
        for (let i = 0; i < 3; i++) {
          const shot = await stream.snapshot({ quality: 95, timeoutMs: 20_000 });
          expect([...shot.jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
          expect({ w: shot.width, h: shot.height }).toEqual({ w: 1280, h: 720 });
          const n = shot.frameIndex % WALKING_FRAMES; // display frame of the clip (the stream loops)
          const file = path.join(dir, `shot${i}.jpg`);
          writeFileSync(file, shot.jpeg);
          const got = rgbOf(['-i', file]);
          const same = rgbOf(['-i', assetPath(WALKING), '-vf', `select=eq(n\\,${n})`, '-vsync', '0']);
          const other = rgbOf(['-i', assetPath(WALKING), '-vf', `select=eq(n\\,${(n + 170) % WALKING_FRAMES})`, '-vsync', '0']);
          const psnrSame = psnr(got, same);
          const psnrOther = psnr(got, other);
          console.log(`[gpu pipeline] snapshot of display frame ${n}: PSNR ${psnrSame.toFixed(2)} dB vs FFmpeg's CPU decode of that frame, ${psnrOther.toFixed(2)} dB vs frame ${(n + 170) % WALKING_FRAMES}`);
          expect(psnrSame).toBeGreaterThanOrEqual(30);
          expect(psnrSame).toBeGreaterThan(psnrOther);
        }
        const boxed = await stream.snapshot({ boxes: true, quality: 80, timeoutMs: 20_000 });
        expect(boxed.boxes).toBe(true);
        expect(boxed.numBoxes).toBeGreaterThan(0); // people in every frame of this clip
      } finally {
        await p.close();
      }
    });

    it('8 NVDEC streams and a CPU stream at once: every frame of every stream, in order', { timeout: 600_000 }, async () => {
      const streams: StreamOptions[] = [...Array(8).keys()].map((i) => ({ id: `gpu${i}`, url: assetPath(WALKING), decode: 'gpu' }));
      streams.push({ id: 'cpu', url: assetPath(WALKING), decode: 'cpu' });
      // yolox_nano (float): an int8 model with dynamic quantisation can move a score by ~0.1 for sub-LSB input
      // differences (docs: images test), more than the float rounding between the two letterboxes should cause.
      const runs = await runStreams(streams);
      for (const [id, r] of runs) {
        expect(r.final, id).toBe('ended');
        expect(r.errors, id).toHaveLength(0);
        expect(r.results.map((x) => x.frameIndex), id).toEqual([...Array(WALKING_FRAMES).keys()]);
        expect(r.stats.decoder, id).toBe(id === 'cpu' ? 'cpu' : 'nvdec');
      }
      const ref = runs.get('cpu')!.results;
      for (let i = 0; i < 8; i++) expectAgreement(`gpu${i} vs cpu`, ref, runs.get(`gpu${i}`)!.results);
    });
  });
});

/**
 * A copy of an MP4 with two 4 kB regions of its `mdat` XOR-ed (at 20 % and 55 % of it): the container stays
 * readable, the damage reaches the decoder as broken slices. Top-level boxes are walked to find `mdat`.
 */
function damagedCopy(src: string, tmp: string): string {
  const buf = readFileSync(src);
  let off = 0;
  let mdat: { start: number; size: number } | undefined;
  while (off + 8 <= buf.length) {
    let size = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    let header = 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(off + 8));
      header = 16;
    } else if (size === 0) {
      size = buf.length - off;
    }
    if (type === 'mdat') mdat = { start: off + header, size: size - header };
    off += size;
  }
  if (!mdat) throw new Error(`${src}: no mdat box`);
  for (const at of [0.2, 0.55]) {
    const from = mdat.start + Math.floor(mdat.size * at);
    for (let i = from; i < from + 4096; i++) buf[i] = buf[i]! ^ 0x5a;
  }
  const out = path.join(tmp, 'walking_damaged.mp4');
  writeFileSync(out, buf);
  return out;
}

/** An HEVC copy of walking.mp4: the GPU test data's, or one made now with libx265; else why not. */
function hevcClip(tmp: string): string | { skip: string } {
  const dataDir = process.env['CAMTRACK_GPU_TEST_DATA'] ?? path.join(repoRoot, '.cache', 'gpu-test-data');
  const prepared = path.join(dataDir, 'walking_hevc.mp4');
  if (existsSync(prepared)) return prepared;
  const out = path.join(tmp, 'walking_hevc.mp4');
  const res = spawnSync(
    'ffmpeg',
    ['-hide_banner', '-v', 'error', '-y', '-i', assetPath(WALKING), '-frames:v', '60', '-c:v', 'libx265',
      '-x265-params', 'log-level=error', '-an', out],
    { encoding: 'utf8' },
  );
  if (res.error) return { skip: `no ${prepared} and no ffmpeg CLI to make it (${res.error.message})` };
  if (res.status !== 0) return { skip: `no ${prepared}, and ffmpeg could not encode HEVC: ${res.stderr.trim().split('\n').pop()}` };
  return out;
}

/** The first frame ffmpeg reads with these input/filter args, as packed RGB24 (BT.601, as the snapshot's swscale). */
function rgbOf(args: string[]): Buffer {
  const ffmpeg = process.env['FFMPEG_PATH'] ?? 'ffmpeg';
  const res = spawnSync(ffmpeg, ['-v', 'error', ...args, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`${ffmpeg} ${args.join(' ')}: ${String(res.stderr).trim()}`);
  return res.stdout;
}

function psnr(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}
