/**
 * Detection sessions inside `camtrack serve` (buildServer(), the app the CLI runs): the WebSocket and REST routes of
 * docs/sessions.md sit behind the service's token like every other route, a session's frames give detections, the
 * `serve.sessions` limits reach the sessions (a frame over maxFrameBytes is an error message on an open socket), a
 * session's camera is listed with the service's cameras (source `other`), and `serve.sessions.enabled: false` removes the routes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { startServe, type TestServer } from '../helpers/serve.js';
import { clipJpegs, SESSION_MODEL, WALKING, WsClient } from '../helpers/session-server.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const TOKEN = 'serve-sessions-token-0123456789';
const tmp = lazyTempDir('camtrack-serve-sessions-');

describeWithAssets('camtrack serve: detection sessions', [SESSION_MODEL, WALKING], () => {
  let server: TestServer;
  let jpegs: Buffer[];
  const ws = (query: string) => `${server.url!.replace('http', 'ws')}/stream/detection${query}`;

  beforeAll(async () => {
    jpegs = clipJpegs(tmp(), 4);
    server = await startServe({
      model: assetPath(SESSION_MODEL),
      serve: { token: TOKEN, stateFile: `${tmp()}/cameras.json`, sessions: { maxFrameBytes: 200_000, defaultFpsLimit: 0 } },
    });
  }, 120_000);
  afterAll(async () => server?.close());

  it('EXPECTED FAILURE - the upgrade and the REST routes need the token', async () => {
    await expect(WsClient.connect(ws(''))).rejects.toThrow(/upgrade refused: 401/);
    const res = await fetch(`${server.url}/stream/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ERR_CAMTRACK_UNAUTHORIZED');
  });

  it('with the token, frames give detections; an oversized frame is an error message and the socket keeps serving', async () => {
    const c = await WsClient.connect(ws(`?token=${TOKEN}`));
    await c.until(() => c.messages.some((m) => m.type === 'session'), 'the session greeting');
    expect(c.messages[0]).toMatchObject({ type: 'session', config: { fps_limit: 0 } });
    for (let i = 0; i < jpegs.length; i++) {
      c.sendFrame(jpegs[i]!, i);
      await c.until(() => c.results().length + c.errors().length > i, `the result of frame ${i}`);
    }
    expect(c.errors()).toEqual([]);
    expect(c.results().map((r) => r.frame_id)).toEqual([0, 1, 2, 3]);
    expect(c.results().flatMap((r) => r.detections).some((d) => d.label === 'person')).toBe(true);

    // The session's camera is listed with the service's cameras as one another part of the service added.
    const cams = (await server.inject({ method: 'GET', url: '/api/v1/cameras', headers: server.auth })).json() as { cameras: { id: string }[] };
    expect(cams.cameras).toEqual([expect.objectContaining({ id: `session-${c.clientId}`, source: 'other', input: 'push', url: null })]);

    // serve.sessions.maxFrameBytes (200,000) reached the sessions: 300 kB of image is refused, the socket stays open.
    c.sendFrame(Buffer.concat([jpegs[0]!, Buffer.alloc(300_000 - jpegs[0]!.length)]), 99);
    await c.until(() => c.errors().length === 1, 'the error of the oversized frame');
    expect(c.errors()[0]).toMatchObject({ error_code: 'ERR_CAMTRACK_BAD_FRAME', frame_id: 99 });
    c.sendFrame(jpegs[0]!, 100);
    await c.until(() => c.results().some((r) => r.frame_id === 100), 'the result after the error');
    expect(c.closed).toBeUndefined();
    c.close();
  }, 120_000);

  it('serve.sessions.enabled false: no session routes (404), the rest of the service unchanged', async () => {
    const off = await startServe({ model: assetPath(SESSION_MODEL), serve: { token: TOKEN, stateFile: `${tmp()}/off.json`, sessions: { enabled: false } } });
    try {
      const res = await off.inject({ method: 'POST', url: '/stream/sessions', headers: { ...off.auth, 'content-type': 'application/json' }, payload: '{}' });
      expect(res.statusCode).toBe(404);
      expect((await off.inject({ method: 'GET', url: '/api/v1/cameras', headers: off.auth })).statusCode).toBe(200);
    } finally {
      await off.close();
    }
  }, 120_000);

  it('EXPECTED FAILURE - serve.sessions.model naming no model of the config is a config error at start', async () => {
    await expect(startServe({ model: assetPath(SESSION_MODEL), serve: { sessions: { model: 'nope' } } })).rejects.toMatchObject({
      code: 'ERR_CAMTRACK_INVALID_CONFIG',
      path: 'serve.sessions.model',
    });
  });
});
