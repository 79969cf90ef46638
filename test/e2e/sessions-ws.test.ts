/**
 * WebSocket detection sessions (`/stream/detection`, docs/sessions.md) on a real fastify server with a real `ws`
 * client: JPEG frames of walking.mp4 give person detections in the wire format; config_update takes effect; bad
 * frames and messages get error messages with codes while the socket stays open and keeps serving; fps_limit drops
 * are counted; every frame sent is accounted for (a result or a drop with its cause).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Ajv } from 'ajv';

import { WireDetectionResultMessageSchema, WireSessionErrorMessageSchema, WireSessionStatsSchema } from '../../dist/wire/index.js';
import { describeWithAssets } from '../helpers/assets.js';
import { clipJpegs, eventually, getJson, SESSION_MODEL, startSessionServer, WALKING, WsClient, type SessionServer } from '../helpers/session-server.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const tmp = lazyTempDir('camtrack-sessions-ws-');
const ajv = new Ajv({ allErrors: true });
const validResult = ajv.compile(JSON.parse(JSON.stringify(WireDetectionResultMessageSchema)) as object);
const validError = ajv.compile(JSON.parse(JSON.stringify(WireSessionErrorMessageSchema)) as object);
const validStats = ajv.compile(JSON.parse(JSON.stringify(WireSessionStatsSchema)) as object);

type Stats = { frames_received: number; results_produced: number; in_flight: number; messages_rejected: number; dropped: Record<string, number>; config: Record<string, unknown> };

const MAX_FRAME = 400_000;

describeWithAssets('WebSocket detection sessions', [SESSION_MODEL, WALKING], () => {
  let server: SessionServer;
  let jpegs: Buffer[];
  const wsUrl = (query = '') => `${server.url.replace('http', 'ws')}/stream/detection${query}`;
  const stats = async (id: string) => (await getJson<Stats>(`${server.url}/stream/sessions/${id}/stats`)).body;
  /** Once nothing is in flight: every frame received is a result or a counted drop (outbox: a drop of a result). */
  const settled = async (id: string): Promise<Stats> => {
    let s!: Stats;
    await eventually(async () => (s = await stats(id)).in_flight === 0 && s.frames_received > 0, 'the session to settle');
    const { outbox: _resultDrops, ...frameDrops } = s.dropped;
    expect(s.frames_received).toBe(s.results_produced + Object.values(frameDrops).reduce((a, b) => a + b, 0));
    return s;
  };

  beforeAll(async () => {
    jpegs = clipJpegs(tmp(), 40);
    server = await startSessionServer({ maxFrameBytes: MAX_FRAME, defaultFpsLimit: 0 });
  });
  afterAll(async () => server?.close());

  it('frames of a real clip give person detections in the wire format, frame_id and metadata echoed', async () => {
    const c = await WsClient.connect(wsUrl());
    await c.until(() => c.messages.some((m) => m.type === 'session'), 'the session greeting');
    expect(c.messages[0]).toMatchObject({ type: 'session', config: { fps_limit: 0, enable_tracking: true } });
    // One frame at a time (the session is live: frames pushed faster than it decodes are dropped, counted).
    for (let i = 0; i < 12; i++) {
      c.sendFrame(jpegs[i]!, 100 + i, { seq: i });
      await c.until(() => c.results().length + c.errors().length > i, `the result of frame ${100 + i}`);
    }
    const results = c.results();
    expect(c.errors()).toEqual([]);
    expect(results.map((r) => r.frame_id)).toEqual([...Array(12).keys()].map((i) => 100 + i));
    expect(results.map((r) => r.metadata)).toEqual([...Array(12).keys()].map((i) => ({ seq: i })));
    for (const m of c.messages.filter((x) => x.type === 'detection_result')) expect(validResult(m), ajv.errorsText(validResult.errors)).toBe(true);
    const persons = results.flatMap((r) => r.detections).filter((d) => d.label === 'person');
    expect(persons.length).toBeGreaterThanOrEqual(12); // several people walk through every frame
    expect(results.slice(6).some((r) => r.tracks.length > 0)).toBe(true); // ByteTrack confirms tracks after a few frames
    const s = await settled(c.clientId);
    expect(validStats(s), ajv.errorsText(validStats.errors)).toBe(true);
    expect(s.results_produced).toBe(12);
    c.close();
  });

  it('config_update takes effect: a threshold drops weak detections, enable_tracking false empties tracks', async () => {
    const c = await WsClient.connect(wsUrl('?confidence_threshold=0.2&enable_tracking=true'));
    await c.until(() => c.messages.some((m) => m.type === 'session'), 'the greeting');
    let n = 0;
    const one = async () => {
      const want = c.results().length + 1;
      c.sendFrame(jpegs[n % jpegs.length]!, n++);
      await c.until(() => c.results().length >= want, `result ${want}`);
      return c.results()[want - 1]!;
    };
    const before = [];
    for (let i = 0; i < 8; i++) before.push(await one());
    expect(before.some((r) => r.detections.some((d) => d.score < 0.5))).toBe(true);
    expect(before.slice(4).some((r) => r.tracks.length > 0)).toBe(true);

    c.sendJson({ type: 'config_update', config: { confidence_threshold: 0.5, enable_tracking: false } });
    await c.until(() => c.messages.filter((m) => m.type === 'session').length === 2, 'the config echo');
    expect(c.messages.filter((m) => m.type === 'session')[1]).toMatchObject({ config: { confidence_threshold: 0.5, enable_tracking: false } });
    const after = [];
    for (let i = 0; i < 4; i++) after.push(await one());
    expect(after.every((r) => r.tracks.length === 0)).toBe(true);
    expect(after.flatMap((r) => r.detections).every((d) => d.score >= 0.5)).toBe(true);
    expect(after.flatMap((r) => r.detections).length).toBeGreaterThan(0);

    // A bad value is an error naming the wire field; nothing changes.
    c.sendJson({ type: 'config_update', config: { confidence_threshold: 1.5 } });
    await c.until(() => c.errors().length === 1, 'the config error');
    expect(c.errors()[0]).toMatchObject({ error_code: 'ERR_CAMTRACK_INVALID_CONFIG' });
    expect(c.errors()[0]!.error).toContain('config.confidence_threshold');
    expect((await stats(c.clientId)).config).toMatchObject({ confidence_threshold: 0.5, enable_tracking: false });

    c.sendJson({ type: 'config_update', config: { enable_tracking: true, confidence_threshold: 0.2 } });
    // The clip's first frames again (people there score over ByteTrack's 0.6 to start a track; a new tracker starts).
    n = 0;
    const again = [];
    for (let i = 0; i < 8; i++) again.push(await one());
    expect(again.slice(4).some((r) => r.tracks.length > 0)).toBe(true);
    c.close();
  });

  it('bad base64, a non-image, an oversized frame, a PNG, malformed JSON, an unknown type, a corrupt JPEG: errors, socket open, still serving', async () => {
    const c = await WsClient.connect(wsUrl());
    await c.until(() => c.messages.some((m) => m.type === 'session'), 'the greeting');
    const oversized = Buffer.concat([jpegs[0]!, Buffer.alloc(MAX_FRAME)]);
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const corrupt = Buffer.concat([jpegs[0]!.subarray(0, 4), Buffer.alloc(2000, 0x5a)]);
    c.sendJson({ type: 'frame', image_data: '%%% not base64 %%%', frame_id: 1 });
    c.sendJson({ type: 'frame', image_data: Buffer.from('hello, this is text').toString('base64'), frame_id: 2 });
    c.sendFrame(oversized, 3);
    c.sendFrame(png, 4);
    c.socket.send('{"type": "frame", "image_data": ');
    c.sendJson({ type: 'subscribe', frame_id: 6 });
    c.sendJson({ type: 'frame', image_data: jpegs[0]!.toString('base64'), frame_id: -1 });
    c.socket.send(Buffer.from('binary, but no image'));
    c.sendFrame(corrupt, 9);
    await c.until(() => c.errors().length >= 9, 'nine error messages', 20_000);
    const errors = c.errors();
    for (const m of c.messages.filter((x) => x.type === 'error')) expect(validError(m), ajv.errorsText(validError.errors)).toBe(true);
    expect(errors.map((e) => e.error_code)).toEqual([
      'ERR_CAMTRACK_BAD_FRAME', 'ERR_CAMTRACK_BAD_FRAME', 'ERR_CAMTRACK_BAD_FRAME', 'ERR_CAMTRACK_BAD_FRAME', 'ERR_CAMTRACK_BAD_FRAME',
      'ERR_CAMTRACK_BAD_FRAME', 'ERR_CAMTRACK_BAD_FRAME', 'ERR_CAMTRACK_BAD_FRAME', 'ERR_CAMTRACK_DECODE',
    ]);
    expect(errors.map((e) => e.frame_id)).toEqual([1, 2, 3, 4, null, 6, null, null, 9]);
    expect(errors[0]!.error).toMatch(/base64/);
    expect(errors[1]!.error).toMatch(/not a JPEG/);
    expect(errors[2]!.error).toMatch(/over the limit/);
    expect(errors[3]!.error).toMatch(/PNG/);
    expect(errors[4]!.error).toMatch(/malformed JSON/);
    expect(errors[5]!.error).toMatch(/unknown message type "subscribe"/);
    expect(errors[6]!.error).toMatch(/frame_id/);
    expect(errors.every((e) => typeof e.hint === 'string' && e.hint.length > 0)).toBe(true);
    expect(c.closed).toBeUndefined();

    c.sendFrame(jpegs[3]!, 10);
    await c.until(() => c.results().length === 1, 'a result after the bad frames');
    expect(c.results()[0]!.frame_id).toBe(10);
    expect(c.results()[0]!.detections.length).toBeGreaterThan(0);
    const s = await settled(c.clientId);
    expect(s.dropped).toMatchObject({ invalid: 6, decode: 1 });
    expect(s.messages_rejected).toBe(2); // the malformed JSON and the unknown type
    expect(s.frames_received).toBe(8); // the malformed JSON and the unknown type are messages, not frames
    c.close();
  });

  it('fps_limit: frames over it are dropped and counted (cause rate); every frame is accounted for', async () => {
    const c = await WsClient.connect(wsUrl('?fps_limit=2'));
    await c.until(() => c.messages.some((m) => m.type === 'session'), 'the greeting');
    expect(c.messages[0]).toMatchObject({ config: { fps_limit: 2 } });
    for (let i = 0; i < 20; i++) c.sendFrame(jpegs[i]!, i);
    const s = await settled(c.clientId);
    expect(s.frames_received).toBe(20);
    // A bucket of 2 frames refilled at 2/s: a 20-frame burst passes 2 plus what the refill adds while it arrives.
    expect(s.dropped.rate).toBeGreaterThanOrEqual(14);
    expect(s.results_produced).toBeGreaterThanOrEqual(1);
    await c.until(() => c.results().length === s.results_produced, 'every produced result');
    c.close();
  });

  it('a bad query is refused before the upgrade (400 with the field); closing the socket ends its session', async () => {
    await expect(WsClient.connect(wsUrl('?confidence_threshold=abc'))).rejects.toThrow(/400/);
    await expect(WsClient.connect(wsUrl('?fps_limit=-1'))).rejects.toThrow(/400/);
    await expect(WsClient.connect(wsUrl('?codec=gif'))).rejects.toThrow(/400/);
    const c = await WsClient.connect(wsUrl());
    await c.until(() => c.messages.some((m) => m.type === 'session'), 'the greeting');
    const id = c.clientId;
    expect((await getJson(`${server.url}/stream/sessions/${id}/stats`)).status).toBe(200);
    c.close();
    await eventually(async () => (await getJson(`${server.url}/stream/sessions/${id}/stats`)).status === 404, 'the session to be gone');
    expect(server.registry.get(`session-${id}`)).toBeUndefined();
  });
});
