/**
 * Results of real pipelines into a real redis-server: the sink attached to a CameraRegistry (every result byte for
 * byte the wire JSON its listener saw, per camera in frame order, XRANGE), and `camtrack run --redis` as a user runs
 * it: a file whose Redis is killed and restarted mid-run (nothing lost: the file pauses), a live RTSP camera whose
 * Redis is away (results continue after the restart, drops counted), and a wrong password (exit 1, never printed).
 * The sink's own logic on hand-built results: test/e2e/redis-sink.test.ts.
 */
import { Redis } from 'ioredis';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CameraRegistry, toWireResult, type FrameResult } from '../../dist/index.js';
import { RedisSink } from '../../dist/sinks/redis.js';
import { assetPath, describeWithAssets, isCi, repoRoot } from '../helpers/assets.js';
import { killAllTracked, spawnTracked } from '../helpers/processes.js';
import { describeRedis, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { rtspServerUnavailableReason, startRtspServer, type RtspServer } from '../helpers/rtsp-server.js';
import { lazyTempDir } from '../helpers/temp-dir.js';
import { expectValid, validateWireMetrics, validateWireResult } from '../helpers/wire.js';

const MODEL = 'models/yolo11n_int8_320.onnx';
/** SOURCES.md: H.264 1280x720, 25 fps, 341 frames. */
const WALKING = 'videos/walking.mp4';
const WALKING_FRAMES = 341;
const BUS = 'images/bus.jpg';
const PASSWORD = 'Wh0:le@Camera';
const bin = path.join(repoRoot, 'bin', 'camtrack.js');
const tmp = lazyTempDir('camtrack-redis-run-');

/** `camtrack args…` as a child (`stderr()`: what it printed so far, for failure messages). */
function camtrack(args: string[], timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> & { stderr: () => string } {
  const child = spawnTracked(process.execPath, [bin, ...args], { env: { ...process.env, CAMTRACK_CACHE_DIR: path.join(tmp(), 'cache') } });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))).then((status) => {
    clearTimeout(timer);
    return { status, stdout, stderr };
  });
  return Object.assign(done, { stderr: () => stderr });
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Parsed `data` of every entry of `key`. */
async function messages(client: Redis, key: string): Promise<{ frame_id: number; camera_id: string; raw: string }[]> {
  return (await client.xrange(key, '-', '+')).map(([, f]) => {
    const raw = f[f.indexOf('data') + 1]!;
    return { ...(JSON.parse(raw) as { frame_id: number; camera_id: string }), raw };
  });
}

/** `ids` without repeats, first occurrence kept (a write retried after a lost reply may be there twice). */
const firstOf = (ids: number[]): number[] => [...new Set(ids)];

/** The summary line of a run that wrote to Redis. */
function summary(stderr: string): { written: number; full: number; failed: number; closed: number; retried: number; reconnects: number } {
  const m = /camtrack run: (\d+) results written to (\S+) .*dropped \d+ \(full (\d+), failed (\d+), closed (\d+)\); retried (\d+); reconnects (\d+)/.exec(stderr);
  expect(m, stderr.slice(-2000)).not.toBeNull();
  const [, written, , full, failed, closed, retried, reconnects] = m!;
  return { written: +written!, full: +full!, failed: +failed!, closed: +closed!, retried: +retried!, reconnects: +reconnects! };
}

describeRedis('Redis sink on real pipelines', () => {
  let server: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await startRedisServer({ password: PASSWORD, appendonly: true });
    client = new Redis(server.url(), { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    client.on('error', () => {});
    await client.connect();
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.dispose();
    await killAllTracked();
  });

  describeWithAssets('CameraRegistry → RedisSink', [MODEL, WALKING, BUS], () => {
    it('every result of every camera, byte for byte what toWireResult() gave the listener, in frame order', async () => {
      await client.flushall();
      const sink = await RedisSink.create({ url: server.url(), events: { enabled: ['metrics'], metricsIntervalMs: 300 } });
      const cameras = await CameraRegistry.create({
        model: assetPath(MODEL),
        streams: [
          { id: 'walk', url: assetPath(WALKING) },
          { id: 'bus', url: assetPath(BUS) },
        ],
      });
      const seen: Record<string, string[]> = { walk: [], bus: [] };
      sink.attach(cameras);
      cameras.on('result', (r: FrameResult) => seen[r.streamId]!.push(JSON.stringify(toWireResult(r))));
      await cameras.whenAllEnded();
      await cameras.close();
      await sink.close();
      expect(seen.walk).toHaveLength(WALKING_FRAMES);
      for (const id of ['walk', 'bus']) {
        const got = await messages(client, `camera_${id}_output`);
        expect(got.map((m) => m.raw)).toEqual(seen[id]);
      }
      const walk = await messages(client, 'camera_walk_output');
      expect(walk.map((m) => m.frame_id)).toEqual(Array.from({ length: WALKING_FRAMES }, (_, i) => i));
      expectValid(validateWireResult, JSON.parse(walk[100]!.raw));
      expect(sink.stats()).toMatchObject({ written: WALKING_FRAMES + 1, dropped: { full: 0, failed: 0, closed: 0, fenced: 0 } });
      // The metrics stream: a message per camera every 300 ms while the cameras ran (the run takes seconds).
      const metrics = (await client.xrange('metrics_events', '-', '+')).map(([, f]) => JSON.parse(f[1]!) as { camera_id: string; frames_delivered: number });
      expect(metrics.length).toBeGreaterThanOrEqual(2);
      for (const m of metrics) expectValid(validateWireMetrics, m);
      expect(metrics.some((m) => m.camera_id === 'walk' && m.frames_delivered > 0)).toBe(true);
    });
  });

  describeWithAssets('camtrack run --redis', [MODEL, WALKING], () => {
    it('a file while Redis is killed and restarted: the file pauses, every frame is written once, in order; exit 0', async () => {
      await client.flushall();
      const cfg = path.join(tmp(), 'file.yaml');
      writeFileSync(
        cfg,
        [`model: ${assetPath(MODEL)}`, 'streams:', `  - { id: walk, url: ${assetPath(WALKING)} }`, 'redis:', '  output: { maxPending: 16 }', ''].join('\n'),
      );
      const run = camtrack(['run', '--config', cfg, '--redis', server.url()], 180_000);
      await waitFor('60 results in Redis', async () => (await client.xlen('camera_walk_output').catch(() => 0)) >= 60, 60_000).catch((e: Error) => {
        throw new Error(`${e.message}; camtrack stderr:\n${run.stderr().slice(-3000)}`);
      });
      await server.stop('SIGKILL');
      await new Promise((r) => setTimeout(r, 1500));
      await server.start();
      const r = await run;
      expect(r.status, r.stderr.slice(-3000)).toBe(0);
      expect(r.stdout).toBe('');
      const s = summary(r.stderr);
      expect(s).toMatchObject({ written: WALKING_FRAMES, full: 0, failed: 0, closed: 0, reconnects: 1 });
      expect(r.stderr).toMatch(/"type":"warning","camera_id":null.*ERR_CAMTRACK_REDIS.*connection lost/);
      const ids = (await messages(client, 'camera_walk_output')).map((m) => m.frame_id);
      // appendfsync always: what Redis acknowledged before the kill survived it. A write whose reply the kill cut off
      // is written again, so a frame may be there twice (at most the retried ones), never missing or out of order.
      expect(firstOf(ids)).toEqual(Array.from({ length: WALKING_FRAMES }, (_, i) => i));
      expect(ids.length - WALKING_FRAMES).toBeLessThanOrEqual(s.retried);
      expect(r.stderr).not.toContain(PASSWORD);
      expect(r.stderr).not.toContain(encodeURIComponent(PASSWORD));
    }, 150_000);

    it('EXPECTED FAILURE - a wrong password: exit 1 before any pipeline starts, ERR_CAMTRACK_REDIS, the password never printed', async () => {
      const wrong = 'N0t:the@Password';
      const cfg = path.join(tmp(), 'wrong.yaml');
      writeFileSync(cfg, [`model: ${assetPath(MODEL)}`, 'streams:', `  - { id: walk, url: ${assetPath(WALKING)} }`, ''].join('\n'));
      const r = await camtrack(['run', '--config', cfg, '--redis', server.url(wrong)], 60_000);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`camtrack run: [ERR_CAMTRACK_REDIS] Redis redis://***@127.0.0.1:${server.port}: connect: WRONGPASS`);
      expect(r.stderr).toMatch(/hint: check the user and password/);
      for (const secret of [wrong, encodeURIComponent(wrong)]) expect(r.stderr + r.stdout).not.toContain(secret);
      expect(r.stderr).not.toMatch(/"state":"live"/); // no camera started
    });
  });

  const rtspUnavailable = rtspServerUnavailableReason();
  describe.skipIf(rtspUnavailable !== undefined && !isCi)(`camtrack run --redis, live camera${rtspUnavailable ? ` (skipped: ${rtspUnavailable})` : ''}`, () => {
    let rtsp: RtspServer;
    beforeAll(async () => {
      rtsp = await startRtspServer({ mounts: { '/cam': 'live:320x240@25' } });
    });
    afterAll(async () => {
      await rtsp?.stop();
    });

    describeWithAssets('on the RTSP test server', [MODEL], () => {
      it('Redis away for 3 s: results continue after it is back without a restart; what did not fit is counted as dropped', async () => {
        await client.flushall();
        const cfg = path.join(tmp(), 'live.yaml');
        writeFileSync(
          cfg,
          [`model: ${assetPath(MODEL)}`, 'streams:', `  - { id: cam, url: ${rtsp.url('/cam')}, fpsLimit: 10 }`, 'redis:', '  output: { maxPending: 5 }', ''].join(
            '\n',
          ),
        );
        const run = camtrack(['run', '--config', cfg, '--redis', server.url(), '--duration', '12'], 120_000);
        await waitFor('10 results in Redis', async () => (await client.xlen('camera_cam_output').catch(() => 0)) >= 10, 60_000).catch((e: Error) => {
          throw new Error(`${e.message}; camtrack stderr:\n${run.stderr().slice(-3000)}`);
        });
        const before = await client.xlen('camera_cam_output');
        await server.stop('SIGKILL');
        await new Promise((r) => setTimeout(r, 3000));
        await server.start();
        const r = await run;
        expect(r.status, r.stderr.slice(-3000)).toBe(0);
        const s = summary(r.stderr);
        // ~10 results/s for 3 s, 5 kept: about 25 dropped (fewer when inference is slower than 10 fps here).
        expect(s.full).toBeGreaterThan(0);
        expect(s).toMatchObject({ failed: 0, closed: 0, reconnects: 1 });
        const ids = (await messages(client, 'camera_cam_output')).map((m) => m.frame_id);
        const unique = firstOf(ids);
        expect(unique.length).toBeGreaterThan(before + 5);
        expect([...unique].sort((a, b) => a - b)).toEqual(unique);
        expect(ids.length).toBeGreaterThanOrEqual(s.written);
        expect(ids.length - s.written).toBeLessThanOrEqual(s.retried);
        console.log(`[redis live] written ${s.written}, dropped.full ${s.full}, retried ${s.retried}, entries ${ids.length}, before kill ${before}`);
      }, 150_000);
    });
  });
});
