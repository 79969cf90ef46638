/**
 * Bounds of the detection sessions (docs/sessions.md, "Limits"): a WebSocket client that stops reading holds at
 * most maxBufferedBytes in the server's socket buffer plus outboxSize messages (the oldest go, counted as
 * dropped.outbox) while another session keeps getting every result; a client that vanishes without a close ends its
 * session; the cap on sessions answers 503 ERR_CAMTRACK_SESSION_LIMIT to REST and to the WebSocket upgrade.
 */
import type { Socket } from 'node:net';

import v8 from 'node:v8';
import vm from 'node:vm';

import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';

import { describeWithAssets } from '../helpers/assets.js';
import { clipJpegs, eventually, getJson, SESSION_MODEL, startSessionServer, WALKING, WsClient, type SessionServer } from '../helpers/session-server.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

// A full GC before each heap reading, so the reading is what is retained (not garbage not yet collected).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const tmp = lazyTempDir('camtrack-sessions-limits-');
const MAX_BUFFERED = 256 * 1024;
const OUTBOX = 8;
const PAD = 256 * 1024; // metadata per frame, echoed on its result: results far larger than the bounds

type Stats = {
  frames_received: number;
  results_produced: number;
  results_sent: number;
  in_flight: number;
  outbox: number;
  buffered_bytes: number;
  dropped: Record<string, number>;
};

describeWithAssets('detection session limits', [SESSION_MODEL, WALKING], () => {
  let server: SessionServer;
  let jpegs: Buffer[];
  const wsUrl = () => `${server.url.replace('http', 'ws')}/stream/detection`;
  const stats = async (id: string) => (await getJson<Stats>(`${server.url}/stream/sessions/${id}/stats`)).body;

  beforeAll(async () => {
    jpegs = clipJpegs(tmp(), 30, '640:360');
    server = await startSessionServer({ maxBufferedBytes: MAX_BUFFERED, outboxSize: OUTBOX, defaultFpsLimit: 0, maxSessions: 3 });
  });
  afterAll(async () => server?.close());

  it('a reader that stops reading: bounded server buffers, outbox drops counted, another session still served', async () => {
    const slow = await WsClient.connect(wsUrl());
    const fast = await WsClient.connect(wsUrl());
    await slow.until(() => slow.messages.length > 0, 'the greeting');
    await fast.until(() => fast.messages.length > 0, 'the greeting');
    const slowId = slow.clientId;
    // The slow client stops reading its socket (its kernel buffers fill, then the server's).
    (slow.socket as unknown as { _socket: Socket })._socket.pause();
    onTestFinished(() => {
      slow.socket.terminate();
      fast.socket.terminate();
    });
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const pad = 'x'.repeat(PAD);
    let maxBuffered = 0;
    let maxOutbox = 0;
    const frames = 160;
    {
      // ~12 frames/s into the slow session, within this machine's capacity (no busy drops needed to keep up); every
      // 8th frame the other session sends one and waits until it is settled (a result, or a counted drop).
      for (let i = 0; i < frames; i++) {
        slow.sendFrame(jpegs[i % jpegs.length]!, i, { pad });
        if (i % 8 === 0) {
          fast.sendFrame(jpegs[i % jpegs.length]!, i);
          await eventually(async () => (await stats(fast.clientId)).in_flight === 0, `fast frame ${i} to settle`);
          const s = await stats(slowId);
          maxBuffered = Math.max(maxBuffered, s.buffered_bytes);
          maxOutbox = Math.max(maxOutbox, s.outbox);
        }
        await new Promise((r) => setTimeout(r, 80));
      }
    }
    await eventually(async () => (await stats(slowId)).in_flight === 0, 'the slow session to settle');
    const s = await stats(slowId);
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heap0;
    const producedBytes = s.results_produced * PAD;
    console.log(JSON.stringify({ slow: s, maxBuffered, maxOutbox, heapGrowthMiB: heapGrowth / 2 ** 20, producedMiB: producedBytes / 2 ** 20 }));
    // The other session lost none of its results to the slow reader: each one produced was sent to it.
    const f = await stats(fast.clientId);
    await fast.until(() => fast.results().length === f.results_produced, 'every fast result');
    expect(f).toMatchObject({ frames_received: frames / 8, results_sent: f.results_produced, dropped: { outbox: 0 } });
    expect(f.results_produced).toBeGreaterThanOrEqual(frames / 16);
    expect(s.frames_received).toBe(frames);
    // The results the slow reader was owed are far more than the bounds hold...
    expect(producedBytes).toBeGreaterThan(20 * 2 ** 20);
    // ...and the server held no more than its bounds: one message over maxBufferedBytes, outboxSize messages.
    expect(maxBuffered).toBeLessThanOrEqual(MAX_BUFFERED + PAD + 64 * 1024);
    expect(maxOutbox).toBeLessThanOrEqual(OUTBOX);
    expect(s.dropped.outbox).toBeGreaterThan(0);
    expect(s.results_produced).toBe(s.results_sent + s.dropped.outbox + s.outbox);
    const { outbox: _resultDrops, ...frameDrops } = s.dropped;
    expect(s.frames_received).toBe(s.results_produced + Object.values(frameDrops).reduce((a, b) => a + b, 0));
    // Memory retained (heap after a full GC; this process is server and clients): about the server's outbox (8
    // results of 256 KiB; 5 MiB measured in all), far below the 135 results of 256 KiB it dropped (34 MiB) that an
    // unbounded outbox would hold.
    const retainedBound = 10 * 2 ** 20;
    expect(heapGrowth).toBeLessThan(retainedBound);
    expect(s.dropped.outbox * PAD).toBeGreaterThan(2 * retainedBound);

    // When it reads again it gets the newest results, not the oldest ones.
    (slow.socket as unknown as { _socket: Socket })._socket.resume();
    await slow.until(() => slow.results().some((r) => r.frame_id >= frames - 8), 'the newest results', 30_000);
    expect(slow.results().length).toBeLessThan(s.results_produced);
    slow.close();
    fast.close();
  });

  it('a client that vanishes (no close frame) ends its session; the cap answers 503 to REST and to the upgrade', async () => {
    const gone = await WsClient.connect(wsUrl());
    await gone.until(() => gone.messages.length > 0, 'the greeting');
    const goneId = gone.clientId;
    (gone.socket as unknown as { _socket: Socket })._socket.destroy();
    await eventually(async () => (await getJson(`${server.url}/stream/sessions/${goneId}/stats`)).status === 404, 'the vanished session to end');
    await eventually(() => server.registry.list().length === 0, 'every earlier session to be gone');

    const open = [];
    for (let i = 0; i < 3; i++) open.push((await getJson<{ client_id: string }>(`${server.url}/stream/sessions`, { method: 'POST' })).body.client_id);
    const refused = await getJson<{ error_code: string; hint: string }>(`${server.url}/stream/sessions`, { method: 'POST' });
    expect(refused).toMatchObject({ status: 503, body: { error_code: 'ERR_CAMTRACK_SESSION_LIMIT' } });
    expect(refused.body.hint).toMatch(/DELETE/);
    await expect(WsClient.connect(wsUrl())).rejects.toThrow(/503/);
    expect((await getJson(`${server.url}/stream/sessions/${open[0]}`, { method: 'DELETE' })).status).toBe(204);
    const ws = await WsClient.connect(wsUrl());
    await ws.until(() => ws.messages.length > 0, 'the greeting');
    ws.close();
    for (const id of open.slice(1)) await getJson(`${server.url}/stream/sessions/${id}`, { method: 'DELETE' });
  });
});
