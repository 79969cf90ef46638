/**
 * The Redis sink (src/sinks/redis.ts) against a real redis-server (test/helpers/redis-server.ts), fed hand-built
 * results so that every count is known: byte-exact wire JSON per camera in frame order (XRANGE), message_key from
 * the frame's tag, MAXLEN ~ trimming, bounded buffering while Redis is away (live: oldest dropped and counted;
 * lossless: the stream paused, nothing dropped), writes continuing after a kill and restart without a new sink, a
 * reply error counted once per key, the event streams, and the password never in errors, warnings or stats.
 * The sink on a real pipeline and `camtrack run --redis`: test/e2e/redis-run.test.ts.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { CamtrackError } from '../../src/errors.js';
import { RedisSink } from '../../src/sinks/redis.js';
import type { Stream } from '../../src/stream.js';
import type { FrameResult } from '../../src/types.js';
import { toWireResult } from '../../src/wire/index.js';
import { killAllTracked } from '../helpers/processes.js';
import { describeRedis, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { expectValid, validateWireEvent, validateWireResult } from '../helpers/wire.js';

const PASSWORD = 'pa:ss@w/rd-4711';

/** Frame `i` of camera `cam`: a person on even frames, nothing on odd ones; tagged with an input id when `key`. */
function result(cam: string, i: number, key?: string): FrameResult {
  const r: FrameResult = {
    streamId: cam,
    frameIndex: i,
    ptsMs: i * 40,
    timestampMs: 1796000000000 + i * 40,
    latencyMs: 10 + (i % 7) * 0.123456,
    width: 1280,
    height: 720,
    inferred: true,
    inferredBy: 'primary',
    detections: i % 2 === 0 ? [{ x1: 10 + i, y1: 20, x2: 110.04, y2: 320.06, score: 0.812345, classId: 0, label: 'person' }] : [],
    tracks: [],
    trackEvents: [],
  };
  if (key !== undefined) {
    r.frameId = 1000 + i;
    r.messageKey = key;
    r.metadata = { seq: i };
  }
  return r;
}

/** A stand-in for a pipeline Stream: the delivery and the two internal calls the sink makes. */
function fakeStream(delivery: 'lossless' | 'latest') {
  const calls: boolean[] = [];
  let drops = 0;
  const stream = {
    delivery,
    _queueFull: (full: boolean) => calls.push(full),
    _countConsumerDrop: () => drops++,
  } as unknown as Stream;
  return { stream, calls, drops: () => drops };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The `data` field of every entry of `key`, oldest first. */
async function payloads(client: Redis, key: string, field = 'data'): Promise<string[]> {
  const entries = await client.xrange(key, '-', '+');
  return entries.map(([, fields]) => {
    const i = fields.indexOf(field);
    expect(i, `field ${field} in ${JSON.stringify(fields).slice(0, 200)}`).toBeGreaterThanOrEqual(0);
    return fields[i + 1]!;
  });
}

describeRedis('RedisSink', () => {
  let server: RedisServer;
  let client: Redis;
  const sinks: RedisSink[] = [];
  const open = async (options: Parameters<typeof RedisSink.create>[0] = {}): Promise<RedisSink> => {
    const sink = await RedisSink.create({ url: server.url(), ...options });
    sinks.push(sink);
    return sink;
  };

  beforeAll(async () => {
    server = await startRedisServer({ password: PASSWORD });
    client = new Redis(server.url(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    await client.connect();
  });
  afterEach(async () => {
    await Promise.all(sinks.splice(0).map((s) => s.close()));
    if (server.process && server.process.exitCode === null) await client.flushall();
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.dispose();
    await killAllTracked();
  });

  it('writes each camera to camera_{id}_output, byte for byte the wire JSON, in frame order', async () => {
    const sink = await open();
    const sent: Record<string, string[]> = { a: [], b: [], 'c:3': [] };
    for (let i = 0; i < 200; i++) {
      for (const cam of Object.keys(sent)) {
        const r = result(cam, i, cam === 'a' ? `1796000000000-${i}` : undefined);
        sent[cam]!.push(JSON.stringify(toWireResult(r)));
        sink.writeResult(r);
      }
    }
    expect(await sink.drain(10_000)).toBe(true);
    for (const cam of Object.keys(sent)) expect(await payloads(client, `camera_${cam}_output`)).toEqual(sent[cam]);
    const first = JSON.parse((await payloads(client, 'camera_a_output'))[0]!) as Record<string, unknown>;
    expectValid(validateWireResult, first);
    expect(first).toMatchObject({ camera_id: 'a', frame_id: 1000, message_key: '1796000000000-0', metadata: { seq: 0 } });
    const s = sink.stats();
    expect(s).toMatchObject({ written: 600, pending: 0, dropped: { full: 0, failed: 0, closed: 0, fenced: 0 }, retried: 0 });
    expect(s.cameras.a).toEqual({ written: 200, pending: 0, dropped: { full: 0, failed: 0, closed: 0, fenced: 0 }, paused: false });
    // Pipelined: far fewer round trips than entries.
    expect(s.pipelines).toBeLessThan(100);
  });

  it('key pattern and field are configurable; MAXLEN ~ keeps each output near maxLen', async () => {
    const sink = await open({ output: { key: 'out:{id}:results', field: 'result', maxLen: 50 } });
    for (let i = 0; i < 1000; i++) sink.writeResult(result('t', i));
    expect(await sink.drain(10_000)).toBe(true);
    const len = await client.xlen('out:t:results');
    // `~` trims whole radix-tree nodes (stream-node-max-entries, 100 by default): at least maxLen, at most ~100 more.
    expect(len).toBeGreaterThanOrEqual(50);
    expect(len).toBeLessThanOrEqual(150);
    const kept = await payloads(client, 'out:t:results', 'result');
    expect(kept.at(-1)).toBe(JSON.stringify(toWireResult(result('t', 999))));
    expect(kept.map((p) => (JSON.parse(p) as { frame_id: number }).frame_id)).toEqual(
      Array.from({ length: len }, (_, k) => 1000 - len + k),
    );
  });

  it('Redis killed: a live camera keeps the newest maxPending results and counts the rest; restarted: they are written, no restart of the sink', async () => {
    const sink = await open({ output: { maxPending: 10 } });
    const warnings: CamtrackError[] = [];
    sink.on('warning', (e: CamtrackError) => warnings.push(e));
    const live = fakeStream('latest');
    sink.writeResult(result('live', 0), live.stream);
    expect(await sink.drain(5000)).toBe(true);
    await server.stop('SIGKILL');
    await waitFor('the sink to see the loss', () => !sink.stats().connected);
    for (let i = 1; i <= 50; i++) sink.writeResult(result('live', i), live.stream);
    expect(sink.stats()).toMatchObject({ connected: false, pending: 10, dropped: { full: 40 } });
    expect(live.drops()).toBe(40); // also the stream's dropped.consumer
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.code).toBe('ERR_CAMTRACK_REDIS');
    expect(warnings[0]!.message).toMatch(/connection lost/);
    await server.start();
    expect(await sink.drain(15_000)).toBe(true);
    const s = sink.stats();
    expect(s).toMatchObject({ connected: true, written: 11, disconnects: 1, reconnects: 1, dropped: { full: 40, failed: 0 } });
    // The server restarted empty (no persistence): exactly the newest 10, in order.
    const ids = (await payloads(client, 'camera_live_output')).map((p) => (JSON.parse(p) as { frame_id: number }).frame_id);
    expect(ids).toEqual([41, 42, 43, 44, 45, 46, 47, 48, 49, 50]);
    for (const w of warnings) expect(`${w.message} ${w.hint}`).not.toContain(PASSWORD);
    expect(JSON.stringify(s)).not.toContain(PASSWORD);
  });

  it('Redis away: a lossless camera pauses its source at maxPending and resumes at half once written; nothing dropped', async () => {
    const sink = await open({ output: { maxPending: 8 } });
    const file = fakeStream('lossless');
    await server.stop('SIGKILL');
    await waitFor('the sink to see the loss', () => !sink.stats().connected);
    for (let i = 0; i < 8; i++) sink.writeResult(result('file', i), file.stream);
    expect(file.calls).toEqual([true]);
    // Results still in flight when it paused are kept, never dropped.
    for (let i = 8; i < 11; i++) sink.writeResult(result('file', i), file.stream);
    expect(sink.stats().cameras.file).toMatchObject({ pending: 11, paused: true, dropped: { full: 0 } });
    await server.start();
    expect(await sink.drain(15_000)).toBe(true);
    expect(file.calls).toEqual([true, false]);
    expect(file.drops()).toBe(0);
    expect(sink.stats().cameras.file).toEqual({ written: 11, pending: 0, dropped: { full: 0, failed: 0, closed: 0, fenced: 0 }, paused: false });
    const ids = (await payloads(client, 'camera_file_output')).map((p) => (JSON.parse(p) as { frame_id: number }).frame_id);
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('EXPECTED FAILURE - a key of another type: its entries are counted as failed with one warning; other cameras go on', async () => {
    await client.set('camera_bad_output', 'not a stream');
    const sink = await open();
    const warnings: CamtrackError[] = [];
    sink.on('warning', (e: CamtrackError) => warnings.push(e));
    for (let i = 0; i < 5; i++) {
      sink.writeResult(result('bad', i));
      sink.writeResult(result('good', i));
    }
    expect(await sink.drain(5000)).toBe(true);
    expect(sink.stats().cameras).toMatchObject({ bad: { written: 0, dropped: { failed: 5 } }, good: { written: 5 } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('WRONGTYPE');
    expect(warnings[0]!.hint).toMatch(/another Redis type/);
  });

  it('event streams: off by default; detection (non-empty results), alert (state/warning/error) when enabled', async () => {
    const off = await open();
    off.writeResult(result('e', 0));
    off.writeEvent({ type: 'state', cameraId: 'e', model: 'default', change: { state: 'live', previous: 'connecting', reason: 'connected' } });
    expect(await off.drain(5000)).toBe(true);
    expect(await client.exists('detection_events', 'alert_events', 'metrics_events', 'analytics_events')).toBe(0);

    const sink = await open({ events: { enabled: ['detection', 'alert'], alertKey: 'ops:alerts' } });
    for (let i = 0; i < 4; i++) sink.writeResult(result('e', i));
    sink.writeEvent({ type: 'state', cameraId: 'e', model: 'default', change: { state: 'live', previous: 'connecting', reason: 'connected' } });
    const err = new CamtrackError(`cannot open rtsp://admin:${encodeURIComponent(PASSWORD)}@cam/1`, 'ERR_CAMTRACK_SOURCE_OPEN', { stage: 'source' });
    sink.writeEvent({ type: 'warning', cameraId: 'e', model: 'default', error: err });
    expect(await sink.drain(5000)).toBe(true);
    const detections = (await payloads(client, 'detection_events')).map((p) => JSON.parse(p) as { frame_id: number });
    expect(detections.map((d) => d.frame_id)).toEqual([0, 2]);
    for (const d of detections) expectValid(validateWireResult, d);
    const alerts = await payloads(client, 'ops:alerts');
    expect(alerts).toHaveLength(2);
    for (const a of alerts) expectValid(validateWireEvent, JSON.parse(a));
    expect(alerts[1]).toContain('rtsp://***@cam/1');
    expect(alerts.join('\n')).not.toContain(encodeURIComponent(PASSWORD));
    expect(sink.stats().events).toEqual({ written: 4, pending: 0, dropped: { full: 0, failed: 0, closed: 0, fenced: 0 } });
  });

  it('EXPECTED FAILURE - a wrong password: ERR_CAMTRACK_REDIS saying to check it, the password nowhere', async () => {
    const wrong = `${PASSWORD}-wrong`;
    const err = await RedisSink.create({ url: server.url(wrong) }).then(
      () => undefined,
      (e: unknown) => e as CamtrackError,
    );
    expect(err).toBeInstanceOf(CamtrackError);
    expect(err!.code).toBe('ERR_CAMTRACK_REDIS');
    expect(err!.message).toContain(`redis://***@127.0.0.1:${server.port}`);
    expect(err!.hint).toMatch(/password/);
    const text = `${err!.message}\n${err!.hint}\n${err!.stack}`;
    for (const secret of [wrong, PASSWORD, encodeURIComponent(PASSWORD)]) expect(text).not.toContain(secret);
  });

  it('EXPECTED FAILURE - no server there: ERR_CAMTRACK_REDIS with the URL redacted; a bad scheme is a ConfigError', async () => {
    const url = `redis://user:${encodeURIComponent(PASSWORD)}@127.0.0.1:1`;
    const err = (await RedisSink.create({ url, connectTimeoutMs: 1000 }).catch((e: unknown) => e)) as CamtrackError;
    expect(err.code).toBe('ERR_CAMTRACK_REDIS');
    expect(err.message).toContain('redis://***@127.0.0.1:1');
    expect(err.message).toContain('ECONNREFUSED');
    expect(`${err.message}${err.hint}`).not.toContain(encodeURIComponent(PASSWORD));
    const bad = (await RedisSink.create({ url: `http://:${encodeURIComponent(PASSWORD)}@h:1` }).catch((e: unknown) => e)) as CamtrackError;
    expect(bad.code).toBe('ERR_CAMTRACK_INVALID_CONFIG');
    expect(bad.message).toContain('redis.url: Expected redis:// or rediss:// URL but received "http://***@h:1"');
  });
});
