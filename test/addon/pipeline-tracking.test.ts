/**
 * Trackers inside the pipeline (ByteTrack, SORT, IoU) on the built-in synthetic scene, whose ground truth is
 * known (src/demo: encoded with FFmpeg's mpeg4 encoder, decoded by the addon, detected by the hand-weighted ONNX model), and
 * track lifecycle events delivered with the results. Needs ffmpeg (any build: mpeg4 is FFmpeg's own) but no shared assets.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Pipeline, evaluateMot, parseMotFile, type FrameResult, type TrackEvent } from '../../dist/index.js';
import { ensureDemoAssets, type DemoAssets } from '../../dist/demo/scene-model.js';

const FRAMES = 120;

describe('Pipeline trackers on the built-in scene', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-tracking-'));
  let assets: DemoAssets;
  beforeAll(async () => {
    assets = await ensureDemoAssets(dir, { streams: 1, scene: { frames: FRAMES } });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function run(type: 'bytetrack' | 'sort' | 'iou'): Promise<{ results: FrameResult[]; streamEvents: TrackEvent[] }> {
    await using pipeline = await Pipeline.create({
      model: { path: assets.modelPath, classNames: assets.classNames },
      tracker: { type, trackBufferSeconds: 1 },
    });
    const stream = pipeline.addStream({ id: 'scene', url: assets.streams[0]!.videoPath, resultQueueSize: 10_000 });
    const streamEvents: TrackEvent[] = [];
    stream.on('track', (e: TrackEvent) => streamEvents.push(e));
    const results: FrameResult[] = [];
    for await (const r of stream.results()) results.push(r);
    return { results, streamEvents };
  }

  for (const type of ['bytetrack', 'sort', 'iou'] as const) {
    it(`${type}: tracks every frame against the ground truth and reports each track's lifecycle`, async () => {
      const { results, streamEvents } = await run(type);
      expect(results).toHaveLength(FRAMES);
      const gt = parseMotFile(readFileSync(assets.streams[0]!.gtPath, 'utf8'));
      const hyp = results.flatMap((r) =>
        r.tracks.map((t) => ({ frame: r.frameIndex + 1, id: t.trackId, x: t.x1, y: t.y1, w: t.x2 - t.x1, h: t.y2 - t.y1, conf: t.score })),
      );
      const m = evaluateMot(gt, hyp);
      // The scene's squares are found whenever fully visible (test/unit/scene-model.test.ts); what remains is
      // the tracker's handling of the built-in occlusions.
      expect(m.mota, JSON.stringify(m)).toBeGreaterThan(0.85);
      expect(m.numFalsePositives).toBeLessThanOrEqual(10);

      // Lifecycle: the events in the results and the 'track' events are the same sequence.
      const inResults = results.flatMap((r) => r.trackEvents);
      expect(streamEvents).toEqual(inResults);
      // Every reported track id was announced by a 'new' event in the same or an earlier frame, exactly once.
      const news = new Map<number, number>();
      results.forEach((r, i) => {
        for (const e of r.trackEvents) {
          expect(e.label).toMatch(/square/);
          if (e.kind === 'new') {
            expect(news.has(e.trackId)).toBe(false);
            news.set(e.trackId, i);
          }
        }
        for (const t of r.tracks) expect(news.get(t.trackId), `track ${t.trackId} at frame ${i}`).toBeLessThanOrEqual(i);
      });
      // A 'lost' or 'removed' event only names a track that was announced.
      for (const e of inResults) if (e.kind !== 'new') expect(news.has(e.trackId)).toBe(true);
      console.log(`[tracking] ${type}: MOTA ${m.mota.toFixed(3)} IDF1 ${m.idf1.toFixed(3)} IDsw ${m.numSwitches}, ${news.size} tracks, ${inResults.length} events`);
    }, 120_000);
  }
});
