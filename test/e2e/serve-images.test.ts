/**
 * `camtrack serve`'s images with real clients over loopback (fetch, node:http) against a real server, a real model and
 * a real clip (walking.mp4 looping at its own rate): snapshot.jpg (a 1280x720 JPEG whose X-Camtrack-Frame-Index is a
 * delivered result's frame_id and whose drawn boxes are that result's tracks), the rate limit (429 + code +
 * Retry-After), 503 with a code and a hint for a camera that is reconnecting (6 requests at once sharing one snapshot:
 * one 503 each, no 429), 400/404; stream.mjpeg read by a real HTTP client part by part (frame indexes going up, at the
 * capped rate), a reader that stops reading costing the other nothing (skips counted in /metrics), readers ended when
 * their camera is removed.
 */
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { jpegSize } from '../../dist/sources/jpeg.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { killAllTracked } from '../helpers/processes.js';
import { readSse, startServe, waitFor, type SseReader, type TestServer } from '../helpers/serve.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const MODEL = 'models/yolo11n_int8_320.onnx';
/** SOURCES.md: pedestrians, H.264 1280x720, 25 fps, 341 frames. */
const WALKING = 'videos/walking.mp4';
const TOKEN = 'test-token-images-0123456789';
const tmp = lazyTempDir('camtrack-serve-images-');

type Json = Record<string, any>;

/** A stream.mjpeg reader over node:http: parts parsed as they come (headers + JPEG bytes). */
interface MjpegReader {
  status: number;
  contentType: string;
  parts: { frameIndex: number; jpeg: Buffer; at: number }[];
  ended: Promise<void>;
  pause(): void;
  close(): void;
}

function readMjpeg(url: string, headers: Record<string, string>): Promise<MjpegReader> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      const parts: MjpegReader['parts'] = [];
      let buf = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          const head = buf.indexOf('\r\n\r\n');
          if (head < 0) return;
          const text = buf.subarray(0, head).toString('latin1');
          const len = Number(/Content-Length: (\d+)/i.exec(text)?.[1]);
          const idx = Number(/X-Camtrack-Frame-Index: (\d+)/i.exec(text)?.[1]);
          if (!text.startsWith('--camtrackframe') || !Number.isFinite(len)) throw new Error(`bad part header: ${text}`);
          if (buf.length < head + 4 + len + 2) return;
          parts.push({ frameIndex: idx, jpeg: Buffer.from(buf.subarray(head + 4, head + 4 + len)), at: performance.now() });
          buf = buf.subarray(head + 4 + len + 2);
        }
      });
      const ended = new Promise<void>((r) => {
        res.on('end', () => r());
        res.on('close', () => r());
      });
      resolve({
        status: res.statusCode ?? 0,
        contentType: String(res.headers['content-type']),
        parts,
        ended,
        pause: () => res.pause(),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

describeWithAssets('camtrack serve: snapshot.jpg and stream.mjpeg', [MODEL, WALKING], () => {
  let s: TestServer;
  let sse: SseReader;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const get = (path: string) => fetch(`${s.url}${path}`, { headers: auth });

  beforeAll(async () => {
    s = await startServe({ model: assetPath(MODEL), serve: { token: TOKEN, stateFile: path.join(tmp(), 'cameras.json'), snapshot: { maxFps: 2, timeoutMs: 2500, streamMaxFps: 8 } } });
    // Not live: a live file is not paced at the clip's rate but decoded flat out with most frames dropped ('busy'), and
    // on a loaded machine the tracker then confirms few tracks (test/e2e/snapshot.test.ts says more).
    const r = await s.inject({ method: 'POST', url: '/api/v1/cameras', headers: s.auth, payload: { id: 'walk', url: assetPath(WALKING), live: false, loop: true } });
    expect(r.statusCode).toBe(201);
    sse = await readSse(`${s.url}/api/v1/cameras/walk/events`, auth);
    await sse.next((m) => m.type === 'result' && (m.tracks as unknown[]).length >= 2, 30_000);
  }, 60_000);
  afterAll(async () => {
    sse?.close();
    await s?.close();
    await killAllTracked();
  });

  it("snapshot.jpg: the frame as a JPEG, its index that of a delivered result, that result's tracks drawn", async () => {
    const res = await get('/api/v1/cameras/walk/snapshot.jpg?boxes=1&quality=85');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await res.arrayBuffer());
    expect(jpegSize(jpeg)).toEqual({ width: 1280, height: 720 });
    const frameIndex = Number(res.headers.get('x-camtrack-frame-index'));
    const result = await sse.next((m) => m.type === 'result' && m.frame_id === frameIndex, 10_000, 0);
    expect(Number(res.headers.get('x-camtrack-pts-ms'))).toBe(Math.round((result.pts as number) * 1000));
    const tracks = (result.tracks as unknown[]).length;
    expect(Number(res.headers.get('x-camtrack-boxes'))).toBe(tracks > 0 ? tracks : (result.detections as unknown[]).length);
  });

  it('over serve.snapshot.maxFps: 429 with a code and Retry-After', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // a full bucket
    // 8 requests at once, each with its own quality (so none shares another's snapshot): a burst of 2 goes through,
    // plus at most the tokens refilled (2 per second) while they arrive; the others get 429.
    const t0 = performance.now();
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) => get(`/api/v1/cameras/walk/snapshot.jpg?quality=${50 + i}`)));
    const seconds = (performance.now() - t0) / 1000;
    const statuses = all.map((r) => r.status);
    expect(statuses.every((x) => x === 200 || x === 429), statuses.join(',')).toBe(true);
    const ok = statuses.filter((x) => x === 200).length;
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(ok).toBeLessThanOrEqual(2 + Math.ceil(seconds * 2));
    const limited = all.find((r) => r.status === 429)!;
    expect(limited, statuses.join(',')).toBeDefined();
    expect((await limited.json()).error).toMatchObject({ code: 'ERR_CAMTRACK_RATE_LIMITED', hint: expect.stringMatching(/stream\.mjpeg/) });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('503 with a code and a hint for a camera that gives no frame (reconnecting), concurrent requests sharing it; 404; 400', async () => {
    const add = await s.inject({ method: 'POST', url: '/api/v1/cameras', headers: s.auth, payload: { id: 'nowhere', url: 'rtsp://127.0.0.1:9/none' } });
    expect(add.statusCode).toBe(201);
    // 6 requests while the first waits its 2.5 s for a frame: they share it, so none is over maxFps 2 (burst 2) — each
    // gets the same 503, none a 429.
    const all = await Promise.all(Array.from({ length: 6 }, () => get('/api/v1/cameras/nowhere/snapshot.jpg')));
    expect(all.map((r) => r.status)).toEqual([503, 503, 503, 503, 503, 503]);
    const res = all[0]!;
    const body = (await res.json()) as Json;
    expect(body.error.code).toBe('ERR_CAMTRACK_SNAPSHOT_TIMEOUT');
    expect(body.error.message).toMatch(/camera state: (connecting|reconnecting)/);
    expect(body.error.hint).toMatch(/reconnecting/);
    expect((await s.inject({ method: 'DELETE', url: '/api/v1/cameras/nowhere', headers: s.auth })).statusCode).toBe(204);
    const missing = await get('/api/v1/cameras/nope/snapshot.jpg');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Json).error.code).toBe('ERR_CAMTRACK_NOT_FOUND');
    const bad = await get('/api/v1/cameras/walk/snapshot.jpg?quality=0');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).error.code).toBe('ERR_CAMTRACK_BAD_REQUEST');
    expect((await fetch(`${s.url}/api/v1/cameras/walk/snapshot.jpg`)).status).toBe(401);
  }, 30_000);

  it('stream.mjpeg: parts at the capped rate, frame indexes going up; a reader that stops reading costs the other nothing', async () => {
    const fast = await readMjpeg(`${s.url}/api/v1/cameras/walk/stream.mjpeg?fps=100&boxes=1`, auth);
    expect(fast.status).toBe(200);
    expect(fast.contentType).toBe('multipart/x-mixed-replace; boundary=camtrackframe');
    await waitFor('5 parts', () => fast.parts.length >= 5, 20_000);
    for (const p of fast.parts.slice(0, 5)) expect(jpegSize(p.jpeg)).toEqual({ width: 1280, height: 720 });
    const idx = fast.parts.map((p) => p.frameIndex);
    for (let i = 1; i < idx.length; i++) expect(idx[i]).toBeGreaterThan(idx[i - 1]!);
    // Capped at streamMaxFps 8: parts at least ~1/8 s apart on average (the bound holds on any machine: it is a floor).
    const span = fast.parts[4]!.at - fast.parts[0]!.at;
    expect(span).toBeGreaterThanOrEqual((4 * 1000) / 8 - 60);

    // A reader that stops reading: its socket fills, its frames are skipped (counted), the fast one goes on.
    const slow = await readMjpeg(`${s.url}/api/v1/cameras/walk/stream.mjpeg?fps=8&quality=100`, auth);
    slow.pause();
    const skipped = async (): Promise<number> => {
      const text = await (await get('/metrics')).text();
      return Number(/camtrack_mjpeg_frames_skipped_total\{camera="walk"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    await waitFor('skips counted for the stuck reader', async () => (await skipped()) > 3, 60_000);
    const before = fast.parts.length;
    await waitFor('the fast reader still served', () => fast.parts.length >= before + 4, 20_000);
    slow.close();

    // Removing the camera ends its readers.
    expect((await s.inject({ method: 'DELETE', url: '/api/v1/cameras/walk', headers: s.auth })).statusCode).toBe(204);
    await fast.ended;
  }, 120_000);
});
