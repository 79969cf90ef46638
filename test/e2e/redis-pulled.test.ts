/**
 * Cameras the workers pull themselves (RTSP from the GStreamer test server), shared by two `camtrack worker
 * --config` processes through the leases (src/sources/pulled.ts, src/sources/leases.ts), with a real model on the CPU:
 * each camera runs on one worker (its lease's holder) and its results go to camera_{id}_output; the worker holding
 * a camera is SIGKILLed and the camera runs on the other one within 10 s (lease TTL 4 s here, then the RTSP session
 * and the first keyframe on the new worker); SIGTERM ends the survivor cleanly and releases its leases.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { assetPath, describeWithAssets, repoRoot } from '../helpers/assets.js';
import { killAllTracked, spawnTracked } from '../helpers/processes.js';
import { describeRedis, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { rtspServerUnavailableReason, startRtspServer, type RtspServer } from '../helpers/rtsp-server.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const bin = path.join(repoRoot, 'bin', 'camtrack.js');
const tmp = lazyTempDir('camtrack-pulled-');
const MODEL = 'models/yolo11n_int8_320.onnx';
const CAMERAS = ['north', 'south'];

describeRedis(
  'camtrack worker --config: pulled RTSP cameras move',
  () => {
    let redis: RedisServer;
    let rtsp: RtspServer;
    let client: Redis;
    beforeAll(async () => {
      redis = await startRedisServer();
      rtsp = await startRtspServer({ mounts: { '/north': 'live:320x240@10', '/south': 'live:320x240@10' } });
      client = new Redis(redis.url());
    });
    afterAll(async () => {
      client?.disconnect();
      await rtsp?.stop();
      await redis?.dispose();
      await killAllTracked();
    });

    describeWithAssets('two workers', [MODEL], () => {
      it('the camera of a SIGKILLed worker runs on the other one within 10 s; its results are written there', async () => {
        const cfg = path.join(tmp(), 'cams.yaml');
        writeFileSync(
          cfg,
          [
            `model: ${assetPath(MODEL)}`,
            'inference: { workers: 1 }',
            // A camera that moves must also open its RTSP session and wait for a keyframe on its new worker (measured
            // here: about 3.5 s from the lease moving to its first result written), so the leases are a little
            // shorter than the default 5 s to keep the issue's 10 s with room on a loaded 2-core machine.
            'redis: { leases: { ttlMs: 4000, heartbeatMs: 500 } }',
            'streams:',
            ...CAMERAS.map((c) => `  - { id: ${c}, url: ${rtsp.url(`/${c}`)}, fpsLimit: 3 }`),
            '',
          ].join('\n'),
        );
        const start = (name: string) => {
          const child = spawnTracked(process.execPath, [bin, 'worker', '--redis', redis.url(), '--config', cfg, '--consumer', name, '--json']);
          let stdout = '';
          let stderr = '';
          child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
          child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
          const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
          return { name, child, exited, stdout: () => stdout, stderr: () => stderr };
        };
        const workers = [start('a'), start('b')];
        const owner = async (c: string): Promise<string | undefined> => (await client.get(`camtrack:lease:${c}`))?.split(' ')[0];
        const lastMs = async (c: string): Promise<number> => {
          const [e] = await client.xrevrange(`camera_${c}_output`, '+', '-', 'COUNT', 1);
          return e ? Number(e[0].split('-')[0]) : 0;
        };
        const waitFor = async (what: string, cond: () => Promise<boolean>, ms: number): Promise<void> => {
          const end = Date.now() + ms;
          while (!(await cond())) {
            if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stderr: ${workers.map((w) => w.stderr().slice(-800)).join('\n---\n')}`);
            await new Promise((r) => setTimeout(r, 100));
          }
        };
        await waitFor('both cameras producing', async () => (await Promise.all(CAMERAS.map((c) => client.xlen(`camera_${c}_output`)))).every((n) => n >= 3), 60_000);
        const camera = CAMERAS[0]!;
        const holder = await owner(camera);
        const dead = workers.find((w) => w.name === holder)!;
        const survivor = workers.find((w) => w !== dead)!;
        const [s, us] = await client.time();
        const killedAt = Number(s) * 1000 + Math.floor(Number(us) / 1000);
        dead.child.kill('SIGKILL');
        await waitFor('the lease moved', async () => (await owner(camera)) === survivor.name, 30_000);
        const [s2, us2] = await client.time();
        const movedAt = Number(s2) * 1000 + Math.floor(Number(us2) / 1000);
        await waitFor(`${camera} producing on ${survivor.name}`, async () => (await owner(camera)) === survivor.name && (await lastMs(camera)) > killedAt, 30_000);
        const back = await client.xrange(`camera_${camera}_output`, `${killedAt + 1}`, '+', 'COUNT', 1);
        const gapMs = Number(back[0]![0].split('-')[0]) - killedAt;
        console.log(`[pulled] ${camera}: lease moved ${movedAt - killedAt} ms and results again ${gapMs} ms after SIGKILL of ${dead.name}, from ${survivor.name}`);
        expect(gapMs).toBeLessThanOrEqual(10_000);
        const last = JSON.parse((await client.xrevrange(`camera_${camera}_output`, '+', '-', 'COUNT', 1))[0]![1][1]!) as { camera_id: string; width: number; message_key: null };
        expect(last).toMatchObject({ camera_id: camera, width: 320, message_key: null });
        survivor.child.kill('SIGTERM');
        expect(await survivor.exited, survivor.stderr().slice(-2000)).toBe(0);
        const summary = JSON.parse(survivor.stdout()) as { pulled: { cameras: Record<string, { leased: number; results: number }> } };
        expect(summary.pulled.cameras[camera]!.leased).toBeGreaterThanOrEqual(1);
        for (const c of CAMERAS) expect(await client.exists(`camtrack:lease:${c}`)).toBe(0);
      });
    });
  },
  rtspServerUnavailableReason(),
);
