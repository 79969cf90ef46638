/**
 * `camtrack publish` and `camtrack worker` as a user runs them, against a real redis-server: a clip and an RTSP
 * camera published as JPEG entries in the input format; a worker (no model: --no-inference, until pushed frames
 * exist) reading what a publisher writes while it runs, stopped with SIGTERM: exit 0, every input entry read,
 * written and acknowledged, the one-line summary (JSON with --json); --max-frame-age; the usage errors; the
 * password never printed. The engine itself: test/e2e/redis-source.test.ts.
 */
import { Redis } from 'ioredis';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { jpegSize } from '../../src/sources/jpeg.js';
import { assetPath, describeWithAssets, isCi, repoRoot } from '../helpers/assets.js';
import { killAllTracked, spawnTracked } from '../helpers/processes.js';
import { describeRedis, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { rtspServerUnavailableReason, startRtspServer } from '../helpers/rtsp-server.js';

const WALKING = 'videos/walking.mp4';
const MODEL = 'models/yolo11n_int8_320.onnx';
const PASSWORD = 'p@ss:W0rd/redis';
const bin = path.join(repoRoot, 'bin', 'camtrack.js');

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}
/** `camtrack args…` as a child; `kill(signal)` while it runs. */
function camtrack(args: string[], timeoutMs: number): { done: Promise<Run>; kill: (s: NodeJS.Signals) => void; stderr: () => string } {
  const child = spawnTracked(process.execPath, [bin, ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Run>((resolve) =>
    child.once('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    }),
  );
  return { done, kill: (s) => child.kill(s), stderr: () => stderr };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeRedis('camtrack publish / worker', () => {
  let server: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await startRedisServer({ password: PASSWORD });
    client = new Redis(server.url(), { lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.dispose();
    await killAllTracked();
  });

  describeWithAssets('on walking.mp4', [WALKING], () => {
    it('publish: JPEG entries in the input format (frame, frame_id, timestamp, camera_id); the summary as JSON', async () => {
      await client.flushall();
      const r = await camtrack(['publish', '--redis', server.url(), '--camera', 'walk', '--source', assetPath(WALKING), '--max-frames', '40', '--no-realtime', '--json'], 120_000).done;
      expect(r.status, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as { camera: string; key: string; url: string; frames: number; dropped: Record<string, number> };
      expect(s).toMatchObject({ camera: 'walk', key: 'camera_walk_input', frames: 40, dropped: { redis: 0, busy: 0, failed: 0 } });
      expect(s.url).toBe(`redis://***@127.0.0.1:${server.port}`);
      const entries = await client.xrangeBuffer('camera_walk_input', '-', '+');
      expect(entries).toHaveLength(40);
      entries.forEach(([, fields], i) => {
        const get = (name: string): Buffer => fields[fields.findIndex((f, k) => k % 2 === 0 && f.toString() === name) + 1]!;
        expect(fields.filter((_, k) => k % 2 === 0).map(String)).toEqual(['frame', 'frame_id', 'timestamp', 'camera_id']);
        expect(jpegSize(get('frame'))).toEqual({ width: 1280, height: 720 });
        expect(get('frame_id').toString()).toBe(String(i));
        expect(Math.abs(Number(get('timestamp').toString()) - Date.now() / 1000)).toBeLessThan(120);
        expect(get('camera_id').toString()).toBe('walk');
      });
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    });

    it('worker (--no-inference) on a live publisher, stopped by SIGTERM: exit 0, every entry read, written and acknowledged', async () => {
      await client.flushall();
      const w = camtrack(['worker', '--redis', server.url(), '--no-inference', '--cameras', 'walk,idle', '--consumer', 'w1', '--json'], 120_000);
      await waitFor('the group', async () => (await client.exists('camera_walk_input')) === 1);
      const pub = await camtrack(['publish', '--redis', server.url(), '--camera', 'walk', '--source', assetPath(WALKING), '--fps', '10', '--duration', '3', '--json'], 60_000).done;
      expect(pub.status, pub.stderr).toBe(0);
      const published = (JSON.parse(pub.stdout) as { frames: number }).frames;
      expect(published).toBeGreaterThanOrEqual(25);
      await waitFor('every result', async () => (await client.xlen('camera_walk_output')) === published);
      w.kill('SIGTERM');
      const r = await w.done;
      expect(r.status, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as { consumer: string; cameras: Record<string, { read: number; written: number; inFlight: number; dropped: Record<string, number> }> };
      expect(s.consumer).toBe('w1');
      expect(s.cameras.walk).toMatchObject({ read: published, written: published, inFlight: 0 });
      expect(Object.values(s.cameras.walk!.dropped).every((n) => n === 0)).toBe(true);
      expect(s.cameras.idle).toMatchObject({ read: 0, written: 0 });
      expect(((await client.xpending('camera_walk_input', 'inference_consumer_walk')) as [number])[0]).toBe(0);
      const inputs = (await client.xrange('camera_walk_input', '-', '+')).map(([id]) => id);
      const out = (await client.xrange('camera_walk_output', '-', '+')).map(([, f]) => JSON.parse(f[1]!) as { frame_id: number; message_key: string; width: number });
      expect(out.map((o) => o.frame_id)).toEqual(Array.from({ length: published }, (_, i) => i));
      // The input stream may already be trimmed (XTRIM MINID every 10 s): what is left is the tail of the keys.
      expect(out.map((o) => o.message_key).slice(published - inputs.length)).toEqual(inputs);
      expect(out[0]!.width).toBe(1280);
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    });

    it('worker --max-frame-age: frames older than that when read are skipped, acknowledged and counted as stale', async () => {
      await client.flushall();
      const pub = await camtrack(['publish', '--redis', server.url(), '--camera', 'old', '--source', assetPath(WALKING), '--max-frames', '10', '--no-realtime'], 60_000).done;
      expect(pub.status, pub.stderr).toBe(0);
      expect(pub.stdout).toMatch(/^camtrack publish: camera old: 10 frames .* to redis:\/\/\*\*\*@127\.0\.0\.1:\d+ camera_old_input in .*dropped 0 \(redis 0, busy 0, failed 0\)\n$/);
      await new Promise((r) => setTimeout(r, 1500));
      const r = await camtrack(['worker', '--redis', server.url(), '--no-inference', '--cameras', 'old', '--max-frame-age', '1', '--duration', '2'], 60_000).done;
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/read 10 \(claimed 0\), written 0, dropped 10 \(stale 10, malformed 0, decode 0, pipeline 0, unwritten 0, deleted 0, fenced 0\), in flight 0/);
      expect(((await client.xpending('camera_old_input', 'inference_consumer_old')) as [number])[0]).toBe(0);
    });
  });

  const rtspUnavailable = rtspServerUnavailableReason();
  it.skipIf(rtspUnavailable !== undefined && !isCi)(`publish from an RTSP camera${rtspUnavailable ? ` (skipped: ${rtspUnavailable})` : ''}`, async () => {
    await client.flushall();
    const rtsp = await startRtspServer({ mounts: { '/cam': 'live:320x240@25' } });
    try {
      const r = await camtrack(['publish', '--redis', server.url(), '--camera', 'live', '--source', rtsp.url('/cam'), '--duration', '2', '--fps', '10', '--json'], 60_000).done;
      expect(r.status, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as { frames: number };
      expect(s.frames).toBeGreaterThanOrEqual(15);
      expect(s.frames).toBeLessThanOrEqual(22);
      const [[, fields]] = await client.xrangeBuffer('camera_live_input', '-', '+', 'COUNT', 1);
      expect(jpegSize(fields[1]!)).toEqual({ width: 320, height: 240 });
    } finally {
      await rtsp.stop();
    }
  });

  it('BAD CALL - worker needs exactly one of --model, --config, --no-inference, and cameras to read (exit 2)', async () => {
    const none = await camtrack(['worker', '--redis', server.url(), '--cameras', 'a'], 30_000).done;
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('[ERR_CAMTRACK_INVALID_ARGUMENT] Expected exactly one of --model, --config or --no-inference');
    const noCams = await camtrack(['worker', '--redis', server.url(), '--no-inference'], 30_000).done;
    expect(noCams.status).toBe(2);
    expect(noCams.stderr).toContain('Expected cameras: --cameras a,b or --discover');
  });

  describeWithAssets('with a model (pushed frames)', [MODEL, WALKING], () => {
    it('worker --model: each frame read from Redis is decoded and inferred; results in order, with their input ids; a corrupt JPEG is acknowledged, counted and reported once', async () => {
      await client.flushall();
      const pub = await camtrack(['publish', '--redis', server.url(), '--camera', 'walk', '--source', assetPath(WALKING), '--max-frames', '20', '--no-realtime'], 60_000).done;
      expect(pub.status, pub.stderr).toBe(0);
      // Two poison messages among them: bytes that are not a JPEG, and a JPEG cut short.
      const jpeg = (await client.xrangeBuffer('camera_walk_input', '-', '+', 'COUNT', 1))[0]![1][1]!;
      const bad = [
        await client.xadd('camera_walk_input', '*', 'frame', Buffer.from('this is not a jpeg'), 'frame_id', '100'),
        await client.xadd('camera_walk_input', '*', 'frame', jpeg.subarray(0, 2000), 'frame_id', '101'),
      ];
      const inputs = (await client.xrange('camera_walk_input', '-', '+')).map(([id]) => id);
      const w = camtrack(['worker', '--redis', server.url(), '--model', assetPath(MODEL), '--cameras', 'walk', '--consumer', 'm1', '--json'], 120_000);
      await waitFor('20 results', async () => (await client.xlen('camera_walk_output')) >= 20, 90_000);
      await waitFor('nothing pending', async () => ((await client.xpending('camera_walk_input', 'inference_consumer_walk')) as [number])[0] === 0, 30_000);
      w.kill('SIGTERM');
      const r = await w.done;
      expect(r.status, r.stderr.slice(-3000)).toBe(0);
      const out = (await client.xrange('camera_walk_output', '-', '+')).map(([, f]) =>
        JSON.parse(f[1]!) as { frame_id: number; message_key: string; width: number; height: number; detections: { label: string }[] },
      );
      expect(out.map((o) => o.frame_id)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(out.map((o) => o.message_key)).toEqual(inputs.filter((id) => !bad.includes(id)));
      expect(out[0]).toMatchObject({ width: 1280, height: 720 });
      // walking.mp4: pedestrians in every frame (SOURCES.md).
      expect(out.every((o) => o.detections.some((d) => d.label === 'person'))).toBe(true);
      const s = JSON.parse(r.stdout) as { cameras: { walk: { read: number; written: number; dropped: Record<string, number> } } };
      expect(s.cameras.walk).toMatchObject({ read: 22, written: 20 });
      expect(s.cameras.walk.dropped.decode + s.cameras.walk.dropped.pipeline).toBe(2);
      // Reported once by the source (the pipeline's own warning per bad frame is on stderr too).
      const sourceWarnings = r.stderr.split('\n').filter((l) => l.includes('"camera_id":null') && l.includes('ERR_CAMTRACK_DECODE'));
      expect(sourceWarnings.length).toBeLessThanOrEqual(1);
    }, 150_000);

    it('worker --config with an analytics section and a webhook: results carry the zone, events reach a real HTTP receiver and the Redis event stream', async () => {
      await client.flushall();
      const pub = await camtrack(['publish', '--redis', server.url(), '--camera', 'walk', '--source', assetPath(WALKING), '--max-frames', '30', '--no-realtime'], 60_000).done;
      expect(pub.status, pub.stderr).toBe(0);
      // A real receiver over loopback: every POST body is kept.
      const received: { path: string; secret: string | undefined; body: Record<string, unknown> }[] = [];
      const receiver = http.createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8').on('data', (d: string) => (body += d));
        req.on('end', () => {
          received.push({ path: req.url ?? '', secret: req.headers['x-camtrack-secret'] as string | undefined, body: JSON.parse(body) as Record<string, unknown> });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const port = (receiver.address() as AddressInfo).port;
      const dir = mkdtempSync(path.join(os.tmpdir(), 'camtrack-worker-cfg-'));
      const cfgFile = path.join(dir, 'worker.json');
      const everywhere = [[0, 0], [100_000, 0], [100_000, 100_000], [0, 100_000]];
      writeFileSync(cfgFile, JSON.stringify({
        model: assetPath(MODEL),
        streams: [{ id: 'walk', input: 'push', codec: 'jpeg', analytics: { zones: [{ id: 'all', polygon: everywhere }] } }],
        outputs: { webhooks: [{ url: `http://127.0.0.1:${port}/hook`, events: ['zone-enter'], secret: 'hook-s3cret' }] },
        redis: { events: { enabled: ['analytics'] } }, // off by default (docs/analytics.md); --redis gives the URL
      }));
      try {
        const w = camtrack(['worker', '--redis', server.url(), '--config', cfgFile, '--cameras', 'walk', '--consumer', 'a1', '--json'], 120_000);
        await waitFor('30 results', async () => (await client.xlen('camera_walk_output')) >= 30, 90_000);
        await waitFor('a zone-enter at the webhook', () => received.length > 0, 30_000);
        w.kill('SIGTERM');
        const r = await w.done;
        expect(r.status, r.stderr.slice(-3000)).toBe(0);
        expect(r.stderr).not.toContain('hook-s3cret');
        const out = (await client.xrange('camera_walk_output', '-', '+')).map(([, f]) => JSON.parse(f[1]!) as { analytics?: { zones: Record<string, { occupancy: number }> } });
        expect(out.every((o) => typeof o.analytics?.zones.all?.occupancy === 'number')).toBe(true);
        expect(Math.max(...out.map((o) => o.analytics!.zones.all!.occupancy))).toBeGreaterThan(0); // pedestrians in every frame
        expect(received.every((x) => x.path === '/hook' && x.secret === 'hook-s3cret')).toBe(true);
        expect(received[0]!.body).toMatchObject({ type: 'analytics', event: 'zone-enter', camera_id: 'walk', zone: 'all' });
        expect(received.every((x) => x.body.event === 'zone-enter')).toBe(true);
        const events = (await client.xrange('analytics_events', '-', '+')).map(([, f]) => JSON.parse(f[f.indexOf('data') + 1]!) as { event: string; camera_id: string });
        expect(events.filter((e) => e.event === 'zone-enter').length).toBeGreaterThanOrEqual(received.length);
        expect(events.every((e) => e.camera_id === 'walk')).toBe(true);
      } finally {
        receiver.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 180_000);
  });

  it('EXPECTED FAILURE - a wrong password: ERR_CAMTRACK_REDIS, exit 1, the password never printed', async () => {
    const wrong = 'Wr0ng:p@ss';
    for (const args of [
      ['publish', '--redis', server.url(wrong), '--camera', 'x', '--source', 'none.mp4'],
      ['worker', '--redis', server.url(wrong), '--no-inference', '--cameras', 'x'],
    ]) {
      const r = await camtrack(args, 30_000).done;
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`[ERR_CAMTRACK_REDIS] Redis redis://***@127.0.0.1:${server.port}: connect: WRONGPASS`);
      for (const s of [wrong, encodeURIComponent(wrong), PASSWORD]) expect(r.stdout + r.stderr).not.toContain(s);
    }
  });

  it('EXPECTED FAILURE - publish of a file that does not exist: ERR_CAMTRACK_SOURCE_OPEN, exit 1', async () => {
    const r = await camtrack(['publish', '--redis', server.url(), '--camera', 'x', '--source', '/nonexistent/clip.mp4'], 30_000).done;
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[ERR_CAMTRACK_SOURCE_OPEN] cannot read /nonexistent/clip.mp4: ffmpeg exited with status 1');
  });
});
