/**
 * REST + SSE detection sessions (docs/sessions.md) on a real fastify server: POST /stream/sessions, frames uploaded
 * as JSON (base64) and as raw image/jpeg bodies, results read by an SSE reader over fetch (event ids, keep-alive
 * comments, Last-Event-ID resume within the replay window), stats / config / delete / health routes, error bodies
 * with codes, and idle expiry (of an SSE and of a WebSocket session).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { describeWithAssets } from '../helpers/assets.js';
import { clipJpegs, eventually, getJson, SESSION_MODEL, SseReader, startSessionServer, WALKING, WsClient, type SessionServer } from '../helpers/session-server.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const tmp = lazyTempDir('camtrack-sessions-sse-');

interface Created {
  client_id: string;
  sse_endpoint: string;
  upload_endpoint: string;
  config: Record<string, unknown>;
}
type Data = { frame_id: number; detections: { label: string; score: number }[]; tracks: unknown[] };

describeWithAssets('REST + SSE detection sessions', [SESSION_MODEL, WALKING], () => {
  let server: SessionServer;
  let jpegs: Buffer[];
  const post = (path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    getJson<Record<string, unknown>>(`${server.url}${path}`, { method: 'POST', headers, body: Buffer.isBuffer(body) ? body : JSON.stringify(body) });
  const create = async (body: unknown = {}) => {
    const r = await post('/stream/sessions', body);
    expect(r.status).toBe(201);
    return r.body as unknown as Created;
  };
  const upload = (s: Created, jpeg: Buffer, frameId: number) =>
    post(s.upload_endpoint, { image_data: jpeg.toString('base64'), frame_id: frameId, timestamp: Date.now() / 1000, metadata: { n: frameId } });
  const produced = async (s: Created) =>
    (await getJson<{ results_produced: number }>(`${server.url}/stream/sessions/${s.client_id}/stats`)).body.results_produced;
  /** Uploads one frame and waits for its result to be produced (one frame in flight: a live session drops none). */
  const uploadOne = async (s: Created, jpeg: Buffer, frameId: number) => {
    const before = await produced(s);
    expect((await upload(s, jpeg, frameId)).status).toBe(202);
    await eventually(async () => (await produced(s)) === before + 1, `the result of frame ${frameId}`);
  };
  const results = (r: SseReader) => r.events.filter((e) => e.data.type === 'detection_result').map((e) => ({ id: Number(e.id), data: e.data.data as Data }));

  beforeAll(async () => {
    jpegs = clipJpegs(tmp(), 16);
    server = await startSessionServer({ keepAliveMs: 300, outboxSize: 8, defaultFpsLimit: 0, maxFrameBytes: 1_000_000 });
  });
  afterAll(async () => server?.close());

  it('POST /stream/sessions → endpoints; JSON and raw image/jpeg uploads → detection results on SSE with event ids and keep-alives', async () => {
    const s = await create({ confidence_threshold: 0.25 });
    expect(s.sse_endpoint).toBe(`/stream/events/${s.client_id}`);
    expect(s.upload_endpoint).toBe(`/stream/process/${s.client_id}`);
    expect(s.config).toMatchObject({ confidence_threshold: 0.25, enable_tracking: true });
    const sse = await SseReader.open(`${server.url}${s.sse_endpoint}`);
    expect(sse.status).toBe(200);
    for (let i = 0; i < 4; i++) {
      const ack = await upload(s, jpegs[i]!, 10 + i);
      expect(ack).toMatchObject({ status: 202, body: { client_id: s.client_id, frame_id: 10 + i, queued: true, dropped: null } });
      await sse.until(() => results(sse).length > i, `result ${i}`);
    }
    const raw = await post(`${s.upload_endpoint}?frame_id=99`, jpegs[4]!, { 'content-type': 'image/jpeg' });
    expect(raw).toMatchObject({ status: 202, body: { frame_id: 99, queued: true } });
    await sse.until(() => results(sse).length === 5, 'the raw upload result');
    const got = results(sse);
    expect(got.map((r) => r.data.frame_id)).toEqual([10, 11, 12, 13, 99]);
    expect(got.map((r) => r.id)).toEqual([...got.map((r) => r.id)].sort((a, b) => a - b)); // ids increase
    expect(new Set(got.map((r) => r.id)).size).toBe(5);
    expect(got.flatMap((r) => r.data.detections).filter((d) => d.label === 'person').length).toBeGreaterThanOrEqual(5);
    expect(got.flatMap((r) => r.data.detections).every((d) => d.score >= 0.25)).toBe(true);
    await sse.until(() => sse.comments.includes('keep-alive'), 'a keep-alive comment', 10_000);
    sse.close();
  });

  it('Last-Event-ID resumes after the last event seen, within the replay window', async () => {
    const s = await create();
    const first = await SseReader.open(`${server.url}${s.sse_endpoint}`);
    for (let i = 0; i < 3; i++) {
      await upload(s, jpegs[i]!, i);
      await first.until(() => results(first).length > i, `result ${i}`);
    }
    first.close();
    const seen = results(first);
    // Results produced while no reader is connected wait in the window.
    await eventually(async () => (await getJson<{ connected: boolean }>(`${server.url}/stream/sessions/${s.client_id}/stats`)).body.connected === false, 'the reader to go');
    for (let i = 3; i < 6; i++) await uploadOne(s, jpegs[i]!, i);
    // Resume after the 2nd event: the 3rd is replayed, then the three produced while away.
    const second = await SseReader.open(`${server.url}${s.sse_endpoint}`, { 'last-event-id': String(seen[1]!.id) });
    await second.until(() => results(second).length === 4, 'the replayed and the missed results');
    expect(results(second).map((r) => r.data.frame_id)).toEqual([2, 3, 4, 5]);
    expect(results(second)[0]!.id).toBe(seen[2]!.id);
    second.close();
    // An id older than the window (outboxSize 8): what is held is replayed and a comment says so.
    for (let i = 6; i < 14; i++) await uploadOne(s, jpegs[i]!, i);
    const third = await SseReader.open(`${server.url}${s.sse_endpoint}`, { 'last-event-id': String(seen[0]!.id) });
    await third.until(() => results(third).length === 8, 'the window');
    expect(results(third).map((r) => r.data.frame_id)).toEqual([6, 7, 8, 9, 10, 11, 12, 13]);
    expect(third.comments.some((c) => c.includes('no longer held'))).toBe(true);
    third.close();
  });

  it('stats, PATCH config, errors with codes, DELETE, health and /stream/stats', async () => {
    const s = await create({ fps_limit: 5 });
    const patched = await getJson(`${server.url}/stream/sessions/${s.client_id}/config`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ confidence_threshold: 0.4, enable_tracking: false }),
    });
    expect(patched).toMatchObject({ status: 200, body: { config: { fps_limit: 5, confidence_threshold: 0.4, enable_tracking: false } } });
    const bad = await getJson<Record<string, unknown>>(`${server.url}/stream/sessions/${s.client_id}/config`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fps_limit: 'fast' }),
    });
    expect(bad).toMatchObject({ status: 400, body: { type: 'error', error_code: 'ERR_CAMTRACK_INVALID_CONFIG' } });
    expect(bad.body.error).toContain('body.fps_limit');

    expect(await post(s.upload_endpoint, { image_data: '***', frame_id: 3 })).toMatchObject({ status: 400, body: { error_code: 'ERR_CAMTRACK_BAD_FRAME', frame_id: 3 } });
    expect(await post(s.upload_endpoint, Buffer.from('not a jpeg'), { 'content-type': 'image/jpeg' })).toMatchObject({ status: 400, body: { error_code: 'ERR_CAMTRACK_BAD_FRAME' } });
    expect(await post(s.upload_endpoint, Buffer.from('{"image_data": '), { 'content-type': 'application/json' })).toMatchObject({ status: 400, body: { error_code: 'ERR_CAMTRACK_BAD_FRAME' } });
    // Over maxFrameBytes (1 MB): 400; over the route's body limit (4/3 of it for base64, plus 64 KiB): 413 unread.
    const big = await post(s.upload_endpoint, Buffer.concat([jpegs[0]!, Buffer.alloc(1_000_000)]), { 'content-type': 'image/jpeg' });
    expect(big).toMatchObject({ status: 400, body: { error_code: 'ERR_CAMTRACK_BAD_FRAME' } });
    expect(big.body.error).toMatch(/over the limit of 1000000/);
    const tooBig = await post(s.upload_endpoint, Buffer.alloc(1_500_000, 0xff), { 'content-type': 'image/jpeg' });
    expect(tooBig).toMatchObject({ status: 413, body: { error_code: 'ERR_CAMTRACK_BAD_FRAME' } });
    expect(await post(s.upload_endpoint, Buffer.from('x'), { 'content-type': 'text/plain' })).toMatchObject({ status: 400, body: { error_code: 'ERR_CAMTRACK_BAD_FRAME' } });
    expect(await post(s.upload_endpoint, Buffer.from('GIF89a'), { 'content-type': 'image/gif' })).toMatchObject({ status: 415, body: { error_code: 'ERR_CAMTRACK_BAD_FRAME' } });
    const st = await getJson<{ frames_received: number; dropped: { invalid: number } }>(`${server.url}/stream/sessions/${s.client_id}/stats`);
    expect(st.body).toMatchObject({ frames_received: 7, dropped: { invalid: 7 } });

    const health = await getJson<{ status: string; sessions: number }>(`${server.url}/stream/health`);
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    const all = await getJson<{ sessions: number; clients: { client_id: string }[]; totals: { frames_received: number } }>(`${server.url}/stream/stats`);
    expect(all.body.clients.map((c) => c.client_id)).toContain(s.client_id);
    expect(all.body.totals.frames_received).toBeGreaterThanOrEqual(5);

    expect((await getJson(`${server.url}/stream/sessions/${s.client_id}`, { method: 'DELETE' })).status).toBe(204);
    expect(server.registry.get(`session-${s.client_id}`)).toBeUndefined();
    for (const r of [
      await getJson(`${server.url}/stream/sessions/${s.client_id}/stats`),
      await getJson(`${server.url}/stream/sessions/${s.client_id}`, { method: 'DELETE' }),
      await upload(s, jpegs[0]!, 1),
      await getJson(`${server.url}${s.sse_endpoint}`),
    ]) {
      expect(r).toMatchObject({ status: 404, body: { error_code: 'ERR_CAMTRACK_SESSION_NOT_FOUND' } });
    }
    expect(await post('/stream/sessions', { enable_tracking: 'yes' })).toMatchObject({ status: 400, body: { error_code: 'ERR_CAMTRACK_INVALID_CONFIG' } });
    expect(await post('/stream/sessions', { codec: 'gif' })).toMatchObject({ status: 400, body: { error_code: 'ERR_CAMTRACK_INVALID_CONFIG' } });
  });
});

describeWithAssets('idle detection sessions expire', [SESSION_MODEL], () => {
  let server: SessionServer;
  beforeAll(async () => {
    server = await startSessionServer({ idleTimeoutMs: 1500 });
  });
  afterAll(async () => server?.close());

  it('an SSE session and a WebSocket session with no frames for idleTimeoutMs are closed and their cameras removed', async () => {
    const created = (await getJson<Created>(`${server.url}/stream/sessions`, { method: 'POST' })).body;
    const ws = await WsClient.connect(`${server.url.replace('http', 'ws')}/stream/detection`);
    await ws.until(() => ws.messages.some((m) => m.type === 'session'), 'the greeting');
    const t0 = Date.now();
    expect(server.registry.get(`session-${created.client_id}`)).toBeDefined();
    await ws.until(() => ws.closed !== undefined, 'the idle socket to close', 30_000);
    expect(ws.closed!.code).toBe(1000);
    expect(ws.closed!.reason).toMatch(/idle/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    await eventually(async () => (await getJson(`${server.url}/stream/sessions/${created.client_id}/stats`)).status === 404, 'the SSE session to expire');
    await eventually(() => server.registry.list().length === 0, 'the cameras to be removed');
    const stats = await getJson<{ expired: number; sessions: number }>(`${server.url}/stream/stats`);
    expect(stats.body).toMatchObject({ expired: 2, sessions: 0 });
  });
});
