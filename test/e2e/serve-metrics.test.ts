/**
 * `camtrack serve`'s /metrics and readiness with real parts: the Prometheus text of running cameras passes
 * `promtool check metrics` (Debian's prometheus package), a removed camera's series disappear, result readers are
 * counted and a vanished one (socket destroyed, request aborted) is removed; /health/ready says
 * 'loading' while the boot camera's model loads and 200 after; a bad model file keeps it 503 naming the model; with
 * --redis it flips with a real redis-server stopped and started again, the REST cameras are kept in Redis, and the
 * Redis cameras are worked as `camtrack worker` works them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { assetPath, describeWithAssets, isCi } from '../helpers/assets.js';
import { killAllTracked } from '../helpers/processes.js';
import { redisServerUnavailableReason, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { readSse, startServe, waitFor, type TestServer } from '../helpers/serve.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const MODEL = 'models/yolo11n_int8_320.onnx';
const WALKING = 'videos/walking.mp4';
/** SOURCES.md: people next to a bus, 810x1080 JPEG. */
const BUS = 'images/bus.jpg';
const PROMTOOL = '/usr/bin/promtool';
const tmp = lazyTempDir('camtrack-serve-metrics-');

type Json = Record<string, any>;

const promtoolReason = existsSync(PROMTOOL) ? undefined : `${PROMTOOL} not found (Debian package prometheus: scripts/install-system-deps.sh --with-test-deps)`;

describeWithAssets('camtrack serve: /metrics and readiness', [MODEL, WALKING, BUS], () => {
  const servers: TestServer[] = [];
  let redis: RedisServer | undefined;
  afterAll(async () => {
    for (const s of servers) await s.close();
    await redis?.dispose();
    await killAllTracked();
  });
  const start = async (config: Parameters<typeof startServe>[0]) => {
    const s = await startServe(config);
    servers.push(s);
    return s;
  };
  const ready = async (s: TestServer) => {
    const r = await s.inject({ method: 'GET', url: '/health/ready' });
    return { status: r.statusCode, body: JSON.parse(r.body) as Json };
  };

  it.skipIf(promtoolReason && !isCi)('serves Prometheus text that promtool accepts; a removed camera\'s series disappear', async () => {
    const s = await start({ model: assetPath(MODEL), streams: [{ id: 'a', url: assetPath(WALKING), live: true }, { id: 'b', url: assetPath(WALKING), live: true }] });
    await s.context.booted;
    await waitFor('results of both cameras', () => s.context.cameras.stats().cameras.every((c) => c.framesDelivered > 0), 60_000);
    const text = (await s.inject({ method: 'GET', url: '/metrics' })).body;
    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    for (const name of [
      'camtrack_frames_in_total',
      'camtrack_frames_decoded_total',
      'camtrack_frames_delivered_total',
      'camtrack_frames_dropped_total',
      'camtrack_fps',
      'camtrack_latency_seconds_bucket',
      'camtrack_reconnects_total',
      'camtrack_stream_state',
      'camtrack_batch_fill_images',
      'camtrack_inference_seconds_mean',
    ]) {
      expect(text, name).toMatch(new RegExp(`^${name}\\{[^}]*(camera="a"|model="default")`, 'm'));
    }
    expect(text).toMatch(/^camtrack_frames_dropped_total\{camera="a",cause="busy"\} \d+/m);
    expect(text).toMatch(/^camtrack_latency_seconds_bucket\{camera="a",le="\+Inf"\} [1-9]/m);
    const delivered = Number(/^camtrack_frames_delivered_total\{camera="a"\} (\d+)/m.exec(text)![1]);
    expect(delivered).toBeGreaterThan(0);
    expect(text).toMatch(/^camtrack_model_ready\{model="default"\} 1$/m);

    // Result readers are counted, and a reader that vanishes (socket destroyed, request aborted) is removed.
    const readers = async () => Number(/^camtrack_result_readers (\d+)$/m.exec((await s.inject({ method: 'GET', url: '/metrics' })).body)![1]);
    expect(await readers()).toBe(0);
    const ws = new WebSocket(`${s.url!.replace('http', 'ws')}/api/v1/results?cameras=b`);
    const got: Json[] = [];
    ws.on('message', (d) => got.push(JSON.parse(String(d)) as Json));
    await new Promise<void>((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    const sse = await readSse(`${s.url}/api/v1/cameras/b/events`);
    await sse.next((m) => m.type === 'result');
    await waitFor('a result on the WebSocket', () => got.some((m) => m.type === 'result' && m.camera_id === 'b'), 30_000);
    expect(await readers()).toBe(2);
    ws.terminate();
    sse.close();
    await waitFor('the readers removed', async () => (await readers()) === 0, 10_000);
    expect(Number(/^camtrack_result_messages_total (\d+)$/m.exec((await s.inject({ method: 'GET', url: '/metrics' })).body)![1])).toBeGreaterThanOrEqual(2);

    expect((await s.inject({ method: 'DELETE', url: '/api/v1/cameras/a' })).statusCode).toBe(204);
    const after = (await s.inject({ method: 'GET', url: '/metrics' })).body;
    expect(after).not.toContain('camera="a"');
    expect(after).toContain('camera="b"');
    const check2 = spawnSync(PROMTOOL, ['check', 'metrics'], { input: after, encoding: 'utf8' });
    expect(check2.status, `${check2.stdout}${check2.stderr}`).toBe(0);
  }, 90_000);

  it('is not ready while the boot camera\'s model loads, then ready', async () => {
    const s = await start({ model: assetPath(MODEL), streams: [{ id: 'boot', url: assetPath(WALKING), live: true }] });
    const first = await ready(s);
    expect(first.status).toBe(503);
    expect(first.body.reasons).toEqual(['model default is loading']);
    expect(first.body.models.default.state).toBe('loading');
    await waitFor('ready', async () => (await ready(s)).status === 200, 60_000);
    expect((await ready(s)).body).toMatchObject({ status: 'ready', reasons: [], models: { default: { state: 'loaded' } }, redis: null });
    // /health/live answered all along.
    expect((await s.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
  }, 90_000);

  it('EXPECTED FAILURE - a bad model file keeps it 503, naming the model; its cameras are 503 ERR_CAMTRACK_MODEL', async () => {
    const bad = path.join(tmp(), 'broken.onnx');
    writeFileSync(bad, 'this is not an ONNX model\n');
    const s = await start({ models: { people: assetPath(MODEL), broken: bad } });
    const r = await ready(s);
    expect(r.status).toBe(503);
    expect(r.body.models.people.state).toBe('available');
    expect(r.body.models.broken).toMatchObject({ state: 'failed', error: { code: 'ERR_CAMTRACK_MODEL' } });
    expect(r.body.reasons).toHaveLength(1);
    expect(r.body.reasons[0]).toMatch(/^model broken failed: /);
    const add = await s.inject({ method: 'POST', url: '/api/v1/cameras', payload: { id: 'x', url: assetPath(WALKING), model: 'broken' } });
    expect(add.statusCode).toBe(503);
    expect(JSON.parse(add.body).error.code).toBe('ERR_CAMTRACK_MODEL');
    expect((await ready(s)).status).toBe(503);
  }, 60_000);

  describe.skipIf(redisServerUnavailableReason() && !isCi)('with --redis', () => {
    it('flips with Redis (stopped: 503 naming it; back: 200) and keeps the REST cameras in Redis across a restart', async () => {
      redis = await startRedisServer({ appendonly: true }); // the hash must survive the stop and start
      const s = await start({ model: assetPath(MODEL), redis: { url: redis.url(), connectTimeoutMs: 1000, commandTimeoutMs: 1000 } });
      expect(await ready(s)).toMatchObject({ status: 200, body: { redis: { ok: true, error: null } } });
      const add = await s.inject({ method: 'POST', url: '/api/v1/cameras', payload: { id: 'kept', url: assetPath(WALKING), live: true } });
      expect(add.statusCode).toBe(201);
      const client = new Redis(redis.url());
      expect(Object.keys(await client.hgetall('camtrack:serve:cameras'))).toEqual(['kept']);
      client.disconnect();

      await redis.stop();
      const down = await ready(s);
      expect(down.status).toBe(503);
      expect(down.body.redis.ok).toBe(false);
      expect(down.body.reasons.some((x: string) => x.startsWith('redis: '))).toBe(true);
      await redis.start();
      await waitFor('ready again after Redis is back', async () => (await ready(s)).status === 200, 30_000);

      await s.close();
      const s2 = await start({ model: assetPath(MODEL), redis: { url: redis.url() } });
      await s2.context.booted;
      const list = JSON.parse((await s2.inject({ method: 'GET', url: '/api/v1/cameras' })).body).cameras as Json[];
      expect(list.map((c) => c.id)).toEqual(['kept']);
      await s2.close(); // its camera would compete with the next test's for the CPU
    }, 90_000);

    it('works the Redis cameras as camtrack worker does: frames from camera_{id}_input, results to camera_{id}_output, acknowledged', async () => {
      redis ??= await startRedisServer({ appendonly: true });
      const client = new Redis(redis.url());
      const bus = readFileSync(assetPath(BUS));
      await client.del('camtrack:serve:cameras'); // no REST cameras from the test before
      // The Redis camera's own options, as in `camtrack worker`'s config: a push entry with its id (here: analytics).
      const zone = { id: 'all', polygon: [[0, 0], [100_000, 0], [100_000, 100_000], [0, 100_000]] };
      const s = await start({
        model: assetPath(MODEL),
        streams: [{ id: 'dock', input: 'push', codec: 'jpeg', analytics: { zones: [zone] } }],
        redis: { url: redis.url(), input: { cameras: ['dock'] } },
      });
      for (let i = 0; i < 3; i++) await client.xadd('camera_dock_input', '*', 'frame', bus, 'frame_id', String(i), 'camera_id', 'dock');
      await waitFor('3 results in camera_dock_output', async () => (await client.xlen('camera_dock_output')) >= 3, 120_000);
      const results = (await client.xrange('camera_dock_output', '-', '+')).map(([, f]) => JSON.parse(f[f.indexOf('data') + 1]!) as Json);
      expect(results.map((r) => r.frame_id)).toEqual([0, 1, 2]);
      expect(results.every((r) => r.camera_id === 'dock' && r.detections.some((d: Json) => d.label === 'person'))).toBe(true);
      expect(results.every((r) => typeof r.analytics?.zones?.all?.occupancy === 'number'), JSON.stringify(results[0]?.analytics)).toBe(true);
      await waitFor('the entries acknowledged', async () => ((await client.xpending('camera_dock_input', 'inference_consumer_dock')) as [number])[0] === 0, 30_000);
      // Listed with the service's cameras (source 'redis'), measured, with snapshots; REST cannot change or remove them.
      const listed = JSON.parse((await s.inject({ method: 'GET', url: '/api/v1/cameras' })).body).cameras as Json[];
      expect(listed.map((c) => [c.id, c.source, c.input])).toEqual([['dock', 'redis', 'push']]);
      expect(listed[0]!.stats.frames_delivered).toBeGreaterThanOrEqual(3);
      expect(JSON.parse((await s.inject({ method: 'GET', url: '/api/v1/cameras/dock' })).body).source).toBe('redis');
      for (const req of [
        { method: 'PATCH' as const, url: '/api/v1/cameras/dock', payload: { fps_limit: 5 } },
        { method: 'DELETE' as const, url: '/api/v1/cameras/dock' },
      ]) {
        const r = await s.inject(req);
        expect(r.statusCode, req.method).toBe(409);
        expect(JSON.parse(r.body).error).toMatchObject({ code: 'ERR_CAMTRACK_CONFLICT', hint: expect.stringContaining('Redis') });
      }
      const conflict = await s.inject({ method: 'POST', url: '/api/v1/cameras', payload: { id: 'dock', url: assetPath(WALKING) } });
      expect(conflict.statusCode).toBe(409);
      const text = (await s.inject({ method: 'GET', url: '/metrics' })).body;
      expect(Number(/^camtrack_frames_delivered_total\{camera="dock"\} (\d+)/m.exec(text)?.[1])).toBeGreaterThanOrEqual(3);
      expect(text).toMatch(/^camtrack_batch_fill_images\{model="redis:default"\}/m);
      if (!promtoolReason) {
        const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
        expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
      }
      // A snapshot of a Redis camera: the next frame published after the request.
      const shot = s.inject({ method: 'GET', url: '/api/v1/cameras/dock/snapshot.jpg' });
      const publish = setInterval(() => void client.xadd('camera_dock_input', '*', 'frame', bus, 'frame_id', '9', 'camera_id', 'dock'), 300);
      try {
        const r = await shot;
        expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
        expect(r.headers['content-type']).toBe('image/jpeg');
        expect([...r.rawPayload.subarray(0, 2)]).toEqual([0xff, 0xd8]);
      } finally {
        clearInterval(publish);
      }
      client.disconnect();
    }, 180_000);
  });
});
