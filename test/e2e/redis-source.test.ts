/**
 * The Redis source and the worker engine (src/sources/redis.ts, src/sources/worker.ts) against a real redis-server,
 * with the null processor (no model: pushed frames, issue 10, are not built yet) or a recording handler: JPEG bytes
 * arrive byte for byte; the seed's message format and a field map; results per camera in frame order with the
 * input id as message_key and every input acknowledged only with its output; stale, malformed and corrupt entries
 * acknowledged and counted (a poison message warned about once); the in-flight bound (the backlog stays in
 * Redis); sharded readers (a few connections for many cameras); own pending entries read again after a restart;
 * a dead consumer's entries claimed (XAUTOCLAIM); XTRIM MINID up to what every group acknowledged; discovery; Redis
 * restarted under a running worker. The CLI (`camtrack publish`, `camtrack worker`): test/e2e/redis-cli.test.ts.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { CamtrackError } from '../../src/errors.js';
import type { InputFrame } from '../../src/redis/frames.js';
import { RedisSource } from '../../src/sources/redis.js';
import { RedisWorker } from '../../src/sources/worker.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { killAllTracked } from '../helpers/processes.js';
import { describeRedis, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const BUS = 'images/bus.jpg';
const ZIDANE = 'images/zidane.jpg';
/** SOURCES.md: bus.jpg 810x1080, zidane.jpg 1280x720. */
const BUS_SIZE = { width: 810, height: 1080 };

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Out {
  id: string;
  frame_id: number;
  message_key: string | null;
  metadata: Record<string, unknown> | null;
  width: number;
  height: number;
}
async function outputs(client: Redis, key: string): Promise<Out[]> {
  return (await client.xrange(key, '-', '+')).map(([id, f]) => ({ id, ...(JSON.parse(f[f.indexOf('data') + 1]!) as Omit<Out, 'id'>) }));
}
async function pendingCount(client: Redis, key: string, group: string): Promise<number> {
  return Number(((await client.xpending(key, group)) as [number])[0]);
}

describeRedis('Redis source', () => {
  let server: RedisServer;
  let client: Redis;
  let url: string;
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    url = server.url();
    client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    client.on('error', () => {});
    await client.connect();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    if (server.process?.exitCode === null) await client.flushall();
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.dispose();
    await killAllTracked();
  });

  const worker = async (redis: Parameters<typeof RedisWorker.create>[0]['redis'], consumer = 'w1'): Promise<RedisWorker> => {
    const w = await RedisWorker.create({ redis: { url, ...redis }, processor: 'null', consumer });
    closers.push(() => w.stop(5000));
    return w;
  };

  describeWithAssets('frames', [BUS, ZIDANE], () => {
    it('JPEG bytes arrive byte for byte (binary field values, no base64), with the seed fields as the frame tag', async () => {
      const bus = readFileSync(assetPath(BUS));
      // Every byte value, NULs and 0xFF runs included.
      const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + (i >> 8)) & 0xff));
      const got: InputFrame[] = [];
      const source = await RedisSource.create({ url, input: { cameras: ['door'] } }, { frame: (_c, f) => got.push({ ...f, frame: Buffer.from(f.frame) }) }, 'r1');
      closers.push(() => source.close());
      const ids = [
        await client.xadd('camera_door_input', '*', 'frame', bus, 'frame_id', '7', 'timestamp', '1796000000.25', 'camera_id', 'door', 'metadata', '{"site":"A"}'),
        await client.xadd('camera_door_input', '*', 'frame', binary),
      ];
      await source.start();
      await waitFor('2 frames', () => got.length === 2);
      expect(got[0]!.frame.equals(bus)).toBe(true);
      expect(got[1]!.frame.equals(binary)).toBe(true);
      expect(got[0]).toMatchObject({ id: ids[0], frameId: 7, timestampMs: 1796000000250, metadata: { site: 'A' } });
      expect(got[1]).toMatchObject({ id: ids[1] });
      expect(got[1]!.timestampMs).toBe(Number(ids[1]!.split('-')[0])); // no timestamp field: the entry id's time
    });

    it('a field map reads producers that name the fields differently', async () => {
      const got: InputFrame[] = [];
      const source = await RedisSource.create(
        { url, input: { cameras: ['x'], key: 'cams:{id}:frames', fields: { frame: 'jpeg', frameId: 'seq', timestamp: 'ts', metadata: 'meta' } } },
        { frame: (_c, f) => got.push(f) },
        'r2',
      );
      closers.push(() => source.close());
      await client.xadd('cams:x:frames', '*', 'jpeg', readFileSync(assetPath(ZIDANE)), 'seq', '41', 'ts', '1796000001000', 'meta', '{"k":1}');
      await source.start();
      await waitFor('1 frame', () => got.length === 1);
      // A timestamp above 1e11 is taken as milliseconds.
      expect(got[0]).toMatchObject({ frameId: 41, timestampMs: 1796000001000, metadata: { k: 1 } });
    });

    it('worker: each camera\'s results in frame order, message_key = its input id, every input acknowledged with its output', async () => {
      const bus = readFileSync(assetPath(BUS));
      const inputs: Record<string, string[]> = { a: [], b: [], c: [] };
      for (let i = 0; i < 60; i++) {
        for (const cam of Object.keys(inputs)) {
          inputs[cam]!.push((await client.xadd(`camera_${cam}_input`, '*', 'frame', bus, 'frame_id', String(i), 'camera_id', cam))!);
        }
      }
      const w = await worker({ input: { cameras: ['a', 'b', 'c'], maxInFlight: 4 } });
      await w.start();
      await waitFor('180 results', () => Object.values(w.stats().cameras).reduce((n, c) => n + c.written, 0) === 180);
      for (const cam of Object.keys(inputs)) {
        const out = await outputs(client, `camera_${cam}_output`);
        expect(out.map((o) => o.frame_id)).toEqual(Array.from({ length: 60 }, (_, i) => i));
        expect(out.map((o) => o.message_key)).toEqual(inputs[cam]);
        expect(out[0]).toMatchObject(BUS_SIZE);
        expect(await pendingCount(client, `camera_${cam}_input`, `inference_consumer_${cam}`)).toBe(0);
      }
      expect(w.stats().cameras.a).toEqual({
        read: 60,
        claimed: 0,
        written: 60,
        inFlight: 0,
        leased: 1,
        dropped: { stale: 0, malformed: 0, decode: 0, pipeline: 0, unwritten: 0, deleted: 0, fenced: 0 },
      });
    });

    it('EXPECTED FAILURE - stale, malformed and corrupt entries are acknowledged and counted; a poison message is warned about once', async () => {
      const bus = readFileSync(assetPath(BUS));
      const old = String(Date.now() / 1000 - 60);
      await client.xadd('camera_p_input', '*', 'frame', bus, 'timestamp', old); // 60 s old
      await client.xadd('camera_p_input', '*', 'frame', Buffer.from('GIF89a not a jpeg')); // poison
      await client.xadd('camera_p_input', '*', 'frame', bus.subarray(0, 3)); // cut before its header: poison again
      await client.xadd('camera_p_input', '*', 'image', bus); // no frame field
      await client.xadd('camera_p_input', '*', 'frame', bus, 'frame_id', 'seven'); // bad frame id
      const fresh = await client.xadd('camera_p_input', '*', 'frame', bus, 'timestamp', String(Date.now() / 1000));
      const w = await worker({ input: { cameras: ['p'], maxFrameAgeMs: 10_000 } });
      const warnings: CamtrackError[] = [];
      w.on('warning', (e: CamtrackError) => warnings.push(e));
      await w.start();
      await waitFor('6 entries settled', async () => (await pendingCount(client, 'camera_p_input', 'inference_consumer_p')) === 0 && w.stats().cameras.p?.read === 6);
      await waitFor('the result', async () => (await client.xlen('camera_p_output')) === 1);
      expect((await outputs(client, 'camera_p_output')).map((o) => o.message_key)).toEqual([fresh]);
      expect(w.stats().cameras.p!.dropped).toEqual({ stale: 1, malformed: 2, decode: 2, pipeline: 0, unwritten: 0, deleted: 0, fenced: 0 });
      expect(warnings.map((e) => e.code).sort()).toEqual(['ERR_CAMTRACK_DECODE', 'ERR_CAMTRACK_INVALID_ARGUMENT']);
      expect(warnings.find((e) => e.code === 'ERR_CAMTRACK_DECODE')!.message).toMatch(/is not a JPEG/);
    });
  });

  it('a result written again (its reply lost with the connection) is not written twice: the script sees its input acknowledged', async () => {
    const { RedisSink } = await import('../../src/sinks/redis.js');
    await client.xgroup('CREATE', 'camera_x_input', 'g', '0', 'MKSTREAM');
    const id = (await client.xadd('camera_x_input', '*', 'frame', 'jpeg'))!;
    await client.xreadgroup('GROUP', 'g', 'w', 'STREAMS', 'camera_x_input', '>');
    const sink = await RedisSink.create({ url });
    closers.push(() => sink.close());
    const r = { streamId: 'x', frameIndex: 0, ptsMs: 0, timestampMs: 1796000000000, latencyMs: 1, width: 2, height: 2, inferred: true, inferredBy: 'primary' as const, detections: [], tracks: [], trackEvents: [], messageKey: id };
    const outcomes: string[] = [];
    // The same write twice, as a retry after a lost reply sends it.
    for (let k = 0; k < 2; k++) sink.writeResult(r, undefined, { ack: { key: 'camera_x_input', group: 'g', ids: [id] }, done: (o) => outcomes.push(o) });
    expect(await sink.drain(5000)).toBe(true);
    expect(outcomes).toEqual(['written', 'written']);
    expect(await client.xlen('camera_x_output')).toBe(1);
    expect(await pendingCount(client, 'camera_x_input', 'g')).toBe(0);
    expect(sink.stats().duplicatesSkipped).toBe(1);
  });

  it('the in-flight bound: a camera nobody settles is read maxInFlight entries deep; the rest waits in Redis', async () => {
    const got: string[] = [];
    const source = await RedisSource.create({ url, input: { cameras: ['slow'], maxInFlight: 3, blockMs: 100 }, leases: { enabled: false } }, { frame: (_c, f) => got.push(f.id) }, 'r3');
    closers.push(() => source.close());
    for (let i = 0; i < 20; i++) await client.xadd('camera_slow_input', '*', 'frame', 'x');
    await source.start();
    await waitFor('3 frames', () => got.length === 3);
    await new Promise((r) => setTimeout(r, 400));
    expect(got).toHaveLength(3);
    expect(await pendingCount(client, 'camera_slow_input', 'inference_consumer_slow')).toBe(3);
    // Settling one (as the worker does once its result is written) lets exactly one more in.
    const ack = source.settle('slow', got[0]!);
    await client.xack(ack.key, ack.group, ...ack.ids);
    source.written('slow', ack.ids, 'written');
    await waitFor('4 frames', () => got.length === 4);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toHaveLength(4);
  });

  it('a few reader connections for many cameras (never one per camera)', async () => {
    const before = String(await client.client('LIST')).trim().split('\n').length;
    const cams = Array.from({ length: 40 }, (_, i) => `cam${i}`);
    const w = await worker({ input: { cameras: cams, readers: 2 } });
    await w.start();
    const after = String(await client.client('LIST')).trim().split('\n').length;
    // 2 readers + the source's command connection + the sink's.
    expect(after - before).toBe(4);
    for (const cam of cams) await client.xadd(`camera_${cam}_input`, '*', 'frame', readFileSync(assetPath(BUS)));
    await waitFor('40 results', () => Object.values(w.stats().cameras).reduce((n, c) => n + c.written, 0) === 40);
  });

  it("a restarted worker (same consumer name) reads its own pending entries again first; a dead consumer's are claimed", async () => {
    const bus = readFileSync(assetPath(BUS));
    await client.xgroup('CREATE', 'camera_r_input', 'inference_consumer_r', '0', 'MKSTREAM');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await client.xadd('camera_r_input', '*', 'frame', bus, 'frame_id', String(i)))!);
    // w1 read 0..2 and died before acknowledging them; 'dead' read 3..5 and died too.
    await client.xreadgroup('GROUP', 'inference_consumer_r', 'w1', 'COUNT', 3, 'STREAMS', 'camera_r_input', '>');
    await client.xreadgroup('GROUP', 'inference_consumer_r', 'dead', 'COUNT', 3, 'STREAMS', 'camera_r_input', '>');
    await new Promise((r) => setTimeout(r, 300));
    // Without leases (a worker that owns its cameras by configuration): own entries by re-reading, others' by idle claims.
    const w = await worker({ input: { cameras: ['r'], claimIdleMs: 250 }, leases: { enabled: false } }, 'w1');
    await w.start();
    await waitFor('6 results', () => w.stats().cameras.r?.written === 6);
    const out = await outputs(client, 'camera_r_output');
    // Own pending entries first (at start), the claimed ones once idle past claimIdleMs.
    expect(out.map((o) => o.message_key)).toEqual(ids);
    expect(w.stats().cameras.r).toMatchObject({ read: 6, claimed: 3, written: 6 });
    expect(await pendingCount(client, 'camera_r_input', 'inference_consumer_r')).toBe(0);
  });

  it('XTRIM MINID: inputs trimmed up to what every group has acknowledged, never past a lagging group', async () => {
    const bus = readFileSync(assetPath(BUS));
    await client.xgroup('CREATE', 'camera_t_input', 'other_service', '0', 'MKSTREAM');
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await client.xadd('camera_t_input', '*', 'frame', bus))!);
    // The other group read 6 and acknowledged the first 4: its oldest pending entry is ids[4].
    await client.xreadgroup('GROUP', 'other_service', 'o', 'COUNT', 6, 'STREAMS', 'camera_t_input', '>');
    await client.xack('camera_t_input', 'other_service', ...ids.slice(0, 4));
    const w = await worker({ input: { cameras: ['t'], trimIntervalMs: 0 } });
    await w.start();
    await waitFor('10 results', () => w.stats().cameras.t?.written === 10);
    expect(await w.source.trimInputs()).toBe(4);
    expect((await client.xrange('camera_t_input', '-', '+')).map(([id]) => id)).toEqual(ids.slice(4));
    // It catches up: everything both groups acknowledged goes.
    await client.xreadgroup('GROUP', 'other_service', 'o', 'COUNT', 10, 'STREAMS', 'camera_t_input', '>');
    await client.xack('camera_t_input', 'other_service', ...ids);
    expect(await w.source.trimInputs()).toBe(6);
    expect(await client.xlen('camera_t_input')).toBe(0);
    // The periodic trim runs too (every trimIntervalMs) — counted in the stats.
    expect(w.stats().source.trimmed).toBe(10);
  });

  it('discovery: streams matching the key pattern are read, also those created later', async () => {
    await client.xadd('camera_d1_input', '*', 'frame', readFileSync(assetPath(BUS)));
    await client.set('camera_notastream_input', 'x');
    const w = await worker({ input: { discover: true, discoverIntervalMs: 200 } });
    await w.start();
    await waitFor('d1', () => w.stats().cameras.d1?.written === 1);
    await client.xadd('camera_d2_input', '*', 'frame', readFileSync(assetPath(BUS)));
    await waitFor('d2', () => w.stats().cameras.d2?.written === 1);
    expect(Object.keys(w.stats().cameras).sort()).toEqual(['d1', 'd2']);
  });

  it('Redis killed and restarted under a running worker: it reconnects, creates its groups again and goes on', async () => {
    const bus = readFileSync(assetPath(BUS));
    const w = await worker({ input: { cameras: ['k'], blockMs: 200 } });
    const warnings: CamtrackError[] = [];
    w.on('warning', (e: CamtrackError) => warnings.push(e));
    await w.start();
    await client.xadd('camera_k_input', '*', 'frame', bus);
    await waitFor('1 result', () => w.stats().cameras.k?.written === 1);
    await server.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    await server.start();
    await waitFor('the client back', async () => (await client.ping().catch(() => '')) === 'PONG');
    // An empty Redis: no stream, no group. The producer starts again; the worker creates its group again.
    for (let i = 0; i < 5; i++) await client.xadd('camera_k_input', '*', 'frame', bus, 'frame_id', String(100 + i));
    await waitFor('5 more results', () => w.stats().cameras.k?.written === 6, 20_000);
    expect((await outputs(client, 'camera_k_output')).map((o) => o.frame_id)).toEqual([100, 101, 102, 103, 104]);
    expect(w.stats().sink.reconnects).toBe(1);
    expect(warnings.some((e) => /connection lost/.test(e.message))).toBe(true);
  });
});
