/**
 * A stream whose frames cannot be preprocessed must not cost other streams their results. A raw uyyvyy411 video
 * (a pixel format swscale cannot read; made here with the real ffmpeg CLI) decodes fine, then its letterbox throws
 * after the frame took a batch position. That position is committed empty, so the batch it shares with healthy
 * streams still runs: every healthy frame is delivered and every stream ends. Before, the slot never dispatched:
 * the healthy streams lost the frames in it and never ended (reproduced: delivered 57 of 60, no 'end').
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { Pipeline, type CamtrackError } from '../../dist/index.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
const WALKING = 'videos/walking.mp4';
/** The healthy streams' clip: the first HEALTHY_FRAMES frames of walking.mp4 (enough to share many batches with the bad streams, whose first frame fails). */
const HEALTHY_FRAMES = 100;
const tmp = lazyTempDir('camtrack-faults-');

/** The first HEALTHY_FRAMES frames of walking.mp4, re-encoded (H.264, all of them decodable) by the real ffmpeg CLI. */
function healthyClip(): string {
  const out = path.join(tmp(), 'walking-100.mp4');
  const r = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-y', '-i', assetPath(WALKING), '-frames:v', String(HEALTHY_FRAMES), '-an', '-c:v', 'libx264', '-preset', 'ultrafast', out],
    { timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`ffmpeg could not cut walking.mp4: ${r.stderr?.toString() ?? r.error}`);
  return out;
}

/** 30 frames of 320x240 uyyvyy411 (zeros) in NUT, stream-copied so the format survives. */
function unreadablePixelFormatClip(): string {
  const out = path.join(tmp(), 'uyyvyy411.nut');
  const frameBytes = 320 * 240 * 1.5;
  const r = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'uyyvyy411', '-s', '320x240', '-r', '25', '-i', '-', '-c:v', 'copy', out],
    { input: Buffer.alloc(30 * frameBytes), timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`ffmpeg could not make the uyyvyy411 clip: ${r.stderr?.toString() ?? r.error}`);
  return out;
}

describeWithAssets('Pipeline: a stream whose frames cannot be letterboxed', [FAST_MODEL, WALKING], () => {
  describe('shares batches with healthy streams', () => {
    it('EXPECTED FAILURE - fails with ERR_CAMTRACK_UNSUPPORTED and a hint; the healthy streams deliver every frame and end', async () => {
      const bad = unreadablePixelFormatClip();
      const good = healthyClip();
      // Small batches that fill from every stream: the bad streams' first frames land in slots with healthy ones.
      await using p = await Pipeline.create({
        model: assetPath(FAST_MODEL),
        inference: { workers: 1 },
        batching: { maxBatchSize: 4, maxWaitMs: 50 },
      });
      const healthy = ['good0', 'good1'].map((id) => p.addStream({ id, url: good }));
      const broken = ['bad0', 'bad1'].map((id) => p.addStream({ id, url: bad }));
      const counts = new Map<string, number>(healthy.map((s) => [s.id, 0]));
      for (const s of healthy) s.on('result', () => counts.set(s.id, counts.get(s.id)! + 1));
      const errors = new Map<string, CamtrackError[]>(broken.map((s) => [s.id, []]));
      for (const s of broken) s.on('error', (e: CamtrackError) => errors.get(s.id)!.push(e));

      let timer: NodeJS.Timeout | undefined;
      const finals = await Promise.race([
        Promise.all([...healthy, ...broken].map((s) => s.whenEnded())),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`streams did not end within 60 s: ${healthy.map((s) => `${s.id} ${s.state} ${JSON.stringify(s.stats())}`).join('; ')}`)),
            60_000,
          );
        }),
      ]).finally(() => clearTimeout(timer));

      expect(finals).toEqual(['ended', 'ended', 'failed', 'failed']);
      for (const s of healthy) {
        expect(counts.get(s.id), s.id).toBe(HEALTHY_FRAMES);
        const st = s.stats();
        expect(st.framesDelivered, s.id).toBe(HEALTHY_FRAMES);
        expect(st.dropped.inference, s.id).toBe(0);
      }
      for (const s of broken) {
        const errs = errors.get(s.id)!;
        expect(errs, s.id).toHaveLength(1);
        expect(errs[0]!.code).toBe('ERR_CAMTRACK_UNSUPPORTED');
        expect(errs[0]!.message).toContain('swscale cannot read pixel format uyyvyy411');
        expect(errs[0]!.hint).toMatch(/yuv420p/);
        expect(s.stats().framesSubmitted).toBe(0);
      }
      expect(p.stats().inFlight).toBe(0);
    }, 120_000);
  });
});
