/**
 * The per-stream `decode` option ('auto' | 'cpu' | 'gpu') on a machine WITHOUT NVDEC (the dev/CI machines: no
 * NVIDIA driver). 'auto' decodes with libavcodec without a per-stream warning (no NVDEC on the machine is the
 * ordinary CPU path; capabilities() says why — a warning is for a stream NVDEC could not take on a machine that
 * has it, which only a GPU machine can show), 'gpu' fails its stream
 * (and only its stream) without a reconnect loop, 'cpu' never warns. On a machine where NVDEC is available these
 * fallback expectations do not hold: the suite then skips with the reason (the GPU branch, and the fallback of a
 * stream NVDEC cannot take, are test/gpu/pipeline-nvdec.gpu.test.ts).
 */
import { describe, expect, it } from 'vitest';

import {
  CamtrackError,
  ConfigError,
  Pipeline,
  capabilities,
  type FrameResult,
  type StateChange,
  type Stream,
} from '../../dist/index.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { freePort } from '../helpers/processes.js';

const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
const WALKING = 'videos/walking.mp4';
/** SOURCES.md: walking.mp4 is H.264 High 1280x720, 341 frames at 25 fps (13.64 s). */
const WALKING_SIZE = { width: 1280, height: 720 };
const WALKING_FPS_LIMIT = 2; // ≈ 28 frames through the model: enough to see frames flow, fast on 2 cores
const BUS = 'images/bus.jpg';

interface Rec {
  results: FrameResult[];
  states: StateChange[];
  warnings: CamtrackError[];
  errors: CamtrackError[];
}

function record(stream: Stream): Rec {
  const rec: Rec = { results: [], states: [], warnings: [], errors: [] };
  stream.on('result', (r: FrameResult) => rec.results.push(r));
  stream.on('state', (_s: string, _p: string, c: StateChange) => rec.states.push(c));
  stream.on('warning', (e: CamtrackError) => rec.warnings.push(e));
  stream.on('error', (e: CamtrackError) => rec.errors.push(e));
  return rec;
}

const nvdec = capabilities().nvdec;
if (nvdec.available) console.warn('[camtrack tests] skipping decode fallback tests: NVDEC is available on this machine');
const describeNoNvdec = nvdec.available ? describe.skip : describe;

describeWithAssets('StreamOptions.decode', [FAST_MODEL, WALKING, BUS], () => {
  describeNoNvdec('without NVDEC', () => {
    it("'auto' (the default) decodes on the CPU without a warning, and stats().decoder is 'cpu'", async () => {
      const p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      try {
        const s = p.addStream({ id: 'walk', url: assetPath(WALKING), fpsLimit: WALKING_FPS_LIMIT });
        const rec = record(s);
        expect(await s.whenEnded()).toBe('ended');
        const st = s.stats();
        expect(st.decoder).toBe('cpu');
        expect(st.codec).toBe('h264');
        expect(st.framesDecoded).toBe(341);
        expect(rec.results.length).toBe(st.framesDelivered);
        expect(rec.results.length).toBeGreaterThanOrEqual(25);
        expect(rec.results[0]!.width).toBe(WALKING_SIZE.width);
        expect(rec.results[0]!.height).toBe(WALKING_SIZE.height);
        expect(rec.errors).toHaveLength(0);
        expect(rec.warnings).toHaveLength(0);
        // The file goes connecting → live → ended.
        expect(rec.states.map((c) => c.state)).toEqual(['live', 'ended']);
      } finally {
        await p.close();
      }
    });

    it("'cpu' decodes on the CPU without any warning", async () => {
      const p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      try {
        const s = p.addStream({ id: 'walk', url: assetPath(WALKING), fpsLimit: WALKING_FPS_LIMIT, decode: 'cpu' });
        const rec = record(s);
        expect(await s.whenEnded()).toBe('ended');
        expect(s.stats().decoder).toBe('cpu');
        expect(s.stats().framesDecoded).toBe(341);
        expect(rec.results.length).toBeGreaterThanOrEqual(25);
        expect(rec.warnings).toHaveLength(0);
        expect(rec.errors).toHaveLength(0);
      } finally {
        await p.close();
      }
    });

    it("EXPECTED FAILURE - 'gpu' fails its stream with ERR_CAMTRACK_UNSUPPORTED and a hint, without reconnecting; other streams are unaffected", async () => {
      const p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
      try {
        const gpuFile = p.addStream({ id: 'gpu-file', url: assetPath(WALKING), decode: 'gpu' });
        // A live URL (nothing listens there): 'gpu' fails before connecting, so no reconnect loop either.
        const gpuLive = p.addStream({ id: 'gpu-live', url: `rtsp://127.0.0.1:${await freePort()}/cam`, decode: 'gpu' });
        const other = p.addStream({ id: 'bus', url: assetPath(BUS), decode: 'auto' });
        const recs = [record(gpuFile), record(gpuLive)];
        const otherRec = record(other);
        const finals = await Promise.all([gpuFile.whenEnded(), gpuLive.whenEnded(), other.whenEnded()]);
        expect(finals).toEqual(['failed', 'failed', 'ended']);
        for (const [i, s] of [gpuFile, gpuLive].entries()) {
          const rec = recs[i]!;
          const st = s.stats();
          console.log(`[decode gpu] ${s.id}: ${rec.errors[0]?.code} ${st.lastErrorReason} — ${rec.errors[0]?.message}`);
          expect(rec.errors, s.id).toHaveLength(1);
          expect(rec.errors[0]!.code, s.id).toBe('ERR_CAMTRACK_UNSUPPORTED');
          // The same check and words as capabilities().nvdec (camtrack doctor): the two never disagree.
          expect(rec.errors[0]!.message, s.id).toBe(`decode 'gpu': NVDEC is not available: ${nvdec.reason}`);
          expect(rec.errors[0]!.hint, s.id).toContain("decode 'auto'");
          expect(rec.warnings, s.id).toHaveLength(0);
          expect(rec.results, s.id).toHaveLength(0);
          expect(rec.states.map((c) => c.state), s.id).toEqual(['failed']);
          expect(rec.states[0]!.reason, s.id).toBe('nvdec');
          expect(st.lastErrorReason, s.id).toBe('nvdec');
          expect(st.lastErrorCode, s.id).toBe('ERR_CAMTRACK_UNSUPPORTED');
          expect(st.reconnectAttempts, s.id).toBe(0);
          expect(st.packets, s.id).toBe(0); // never opened
        }
        // The image stream next to them: decoded on the CPU (mjpeg is not NVDEC's anyway), one result, ended.
        expect(otherRec.results).toHaveLength(1);
        expect(otherRec.errors).toHaveLength(0);
        expect(otherRec.warnings).toHaveLength(0);
        expect(other.stats().decoder).toBe('cpu');
      } finally {
        await p.close();
      }
    });
  });

  it("BAD CALL - decode: 'nvenc' is a ConfigError with its path", async () => {
    const err = await Pipeline.create({
      model: assetPath(FAST_MODEL),
      streams: [{ id: 'a', url: assetPath(BUS), decode: 'nvenc' as never }],
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe('streams[0].decode');
    expect((err as ConfigError).message).toBe(
      'streams[0].decode: Expected one of "auto", "cpu", "gpu" but received "nvenc" of type string',
    );
    const p = await Pipeline.create({ model: assetPath(FAST_MODEL) });
    try {
      let thrown: unknown;
      try {
        p.addStream({ id: 'b', url: assetPath(BUS), decode: 'GPU' as never });
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).path).toBe('stream.decode');
    } finally {
      await p.close();
    }
  });
});
