/**
 * Cumulative analytics counts kept in Redis (redis.counts, src/sinks/analytics-store.ts) with a real redis-server:
 * - `camtrack serve --redis`: walking.mp4 with the counting segment of test/e2e/analytics-walking.test.ts (hand count
 *   4 in / 1 out, see its header) runs to its end; the server stops (the hash holds 4 / 1); a new server runs the same
 *   camera again and its counts continue: 8 in / 2 out, in GET …/analytics and in the hash after it stops.
 * - the Redis sink's `analytics_events` stream (redis.events.enabled ['analytics']) gets one analytics event message
 *   per event of the results, nothing for frames without events;
 * - a camera of RedisWorker (what `camtrack worker` runs) whose hash already holds counts (another worker's) starts
 *   from them: its results carry them.
 */
import { readFileSync } from 'node:fs';

import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';

import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { killAllTracked } from '../helpers/processes.js';
import { describeRedis, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startServe, waitFor, type TestServer } from '../helpers/serve.js';
import { RedisWorker } from '../../dist/sources/worker.js';
import { CameraRegistry } from '../../dist/cameras/registry.js';
import { RedisSink } from '../../dist/sinks/redis.js';
import type { FrameResult } from '../../dist/types.js';
import { expectValid, validateWireAnalyticsEvent } from '../helpers/wire.js';

const MODEL = 'models/yolov8n_int8.onnx';
const FAST_MODEL = 'models/yolo11n_int8_320.onnx';
const CLIP = 'videos/walking.mp4';
/** SOURCES.md: people next to a bus, 810x1080 JPEG. */
const BUS = 'images/bus.jpg';
const ANALYTICS = {
  lines: [{ id: 'crossing', start: [680, 400], end: [960, 400] }],
  zones: [{ id: 'plaza', polygon: [[720, 250], [960, 250], [960, 400], [720, 400]] }],
};

type Json = Record<string, any>;

describeWithAssets('analytics counts kept in Redis', [MODEL, FAST_MODEL, CLIP, BUS], () => {
  describeRedis('with a real redis-server', () => {
    let redis: RedisServer | undefined;
    const servers: TestServer[] = [];
    afterAll(async () => {
      for (const s of servers) await s.close();
      await redis?.dispose();
      await killAllTracked();
    });

    it('serve --redis: run to the end, stop, run again: the counts continue (4/1, then 8/2)', async () => {
      redis = await startRedisServer();
      const client = new Redis(redis.url());
      const runOnce = async (): Promise<Json> => {
        const s = await startServe({
          model: assetPath(MODEL),
          tracker: { type: 'bytetrack' },
          redis: { url: redis!.url(), counts: { intervalMs: 200 } },
          streams: [{ id: 'walk', url: assetPath(CLIP), analytics: ANALYTICS }],
        });
        servers.push(s);
        await s.context.booted;
        await waitFor('walking.mp4 to end', () => s.context.cameras.get('walk')?.state === 'ended', 240_000);
        const counts = JSON.parse((await s.inject({ method: 'GET', url: '/api/v1/cameras/walk/analytics' })).body) as Json;
        await s.close();
        servers.pop();
        return counts;
      };
      const first = await runOnce();
      expect(first.lines.crossing).toMatchObject({ in: 4, out: 1 });
      const stored1 = JSON.parse((await client.hget('camera_walk_analytics', 'crossing'))!) as Json;
      expect(stored1).toEqual(first.lines.crossing);

      const second = await runOnce();
      expect(second.lines.crossing).toMatchObject({ in: 8, out: 2 });
      // Per class too: every class's counts doubled.
      for (const c of second.lines.crossing.per_class as Json[]) {
        const before = (first.lines.crossing.per_class as Json[]).find((x) => x.class_id === c.class_id)!;
        expect(c).toEqual({ ...before, in: before.in * 2, out: before.out * 2 });
      }
      const stored2 = JSON.parse((await client.hget('camera_walk_analytics', 'crossing'))!) as Json;
      expect(stored2).toMatchObject({ in: 8, out: 2 });
      client.disconnect();
    }, 600_000);

    it("the sink's analytics_events stream carries one wire analytics event message per event", async () => {
      redis ??= await startRedisServer();
      const client = new Redis(redis.url());
      const sink = await RedisSink.create({ url: redis.url(), events: { enabled: ['analytics'] } });
      const cameras = await CameraRegistry.create({ model: assetPath(FAST_MODEL), tracker: { type: 'bytetrack' } });
      sink.attach(cameras);
      const events: Json[] = [];
      cameras.on('result', (r: FrameResult) => events.push(...(r.analytics?.events ?? [])));
      const zone = { id: 'all', polygon: [[0, 0], [1280, 0], [1280, 720], [0, 720]] };
      const stream = await cameras.add({ id: 'walk', url: assetPath(CLIP), analytics: { ...ANALYTICS, zones: [zone] } });
      await stream.whenEnded();
      await cameras.close();
      await sink.close();
      expect(events.length).toBeGreaterThan(3);
      const entries = (await client.xrange('analytics_events', '-', '+')).map(([, f]) => JSON.parse(f[f.indexOf('data') + 1]!) as Json);
      expect(entries.length).toBe(events.length);
      for (const m of entries) expectValid(validateWireAnalyticsEvent, m);
      expect(entries.map((m) => [m.event, m.track_id ?? null])).toEqual(events.map((e) => [e.type, e.trackId ?? null]));
      expect(entries.find((m) => m.event === 'zone-enter')).toMatchObject({ v: 1, type: 'analytics', camera_id: 'walk', zone: 'all', label: expect.any(String) });
      client.disconnect();
    }, 240_000);

    it('a camtrack worker camera starts from the counts its hash holds', async () => {
      redis ??= await startRedisServer();
      const client = new Redis(redis.url());
      const stored = { in: 7, out: 3, per_class: [{ class_id: 0, label: 'person', in: 7, out: 3 }] };
      await client.hset('camera_dock_analytics', 'door', JSON.stringify(stored), 'gone', JSON.stringify({ in: 1, out: 1, per_class: [] }));
      const worker = await RedisWorker.create({
        redis: { url: redis.url(), input: { cameras: ['dock'] } },
        processor: { model: assetPath(FAST_MODEL), streams: [{ id: 'dock', input: 'push', analytics: { lines: [{ id: 'door', start: [0, 5], end: [10, 5] }] } }] },
      });
      const warnings: string[] = [];
      worker.on('warning', (e: Error) => warnings.push(e.message));
      worker.on('event', (e: Json) => e.error && warnings.push(`${e.type}: ${e.error.message}`));
      await worker.start();
      const bus = readFileSync(assetPath(BUS));
      let results: Json[] = [];
      for (let i = 0; i < 6; i++) {
        await client.xadd('camera_dock_input', '*', 'frame', bus, 'frame_id', String(i));
        await waitFor(`result ${i}`, async () => (await client.xlen('camera_dock_output')) > i, 120_000).catch((err: Error) => {
          throw new Error(`${err.message}; warnings: ${warnings.join('; ')}`);
        });
        results = (await client.xrange('camera_dock_output', '-', '+')).map(([, f]) => JSON.parse(f[f.indexOf('data') + 1]!) as Json);
        if (results.at(-1)!.analytics.lines.door.in === 7) break;
      }
      // The seed is added at the stream's next frame after the hash was read: the newest result has it.
      expect(results.at(-1)!.analytics.lines.door).toMatchObject({ in: 7, out: 3, per_class: [{ class_id: 0, in: 7, out: 3 }] });
      // A line the config no longer has ('gone') is left alone.
      expect(JSON.parse((await client.hget('camera_dock_analytics', 'gone'))!)).toEqual({ in: 1, out: 1, per_class: [] });
      await worker.stop(5000);
      client.disconnect();
    }, 240_000);
  });
});
