/**
 * The gRPC service's bounds (docs/grpc.md), with real @grpc/grpc-js clients over loopback against buildServer() and a
 * real model:
 *  - a slow reader of ProcessCameraStream (its readable side paused, a small HTTP/2 window) gets the newest results
 *    in frame order with counted drops, the server's buffered results stay within OUT_QUEUE + grpc-js's 16, and a
 *    second client's ProcessFrame is answered meanwhile;
 *  - a ProcessFrame camera idle for serve.grpc.cameraIdleSeconds is removed (fresh tracker state after), one in use
 *    is kept;
 *  - serve.grpc.maxCameras refuses a new camera with RESOURCE_EXHAUSTED and ERR_CAMTRACK_SESSION_LIMIT.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { OUT_QUEUE } from '../../src/server/grpc/camera-stream.js';
import { loadServices } from '../../src/server/grpc/proto.js';
import { toStruct } from '../../src/server/grpc/struct.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { bearer, grpcClients, unary, type GrpcClients } from '../helpers/grpc.js';
import { startServe, waitFor, type TestServer } from '../helpers/serve.js';
import { SESSION_MODEL } from '../helpers/session-server.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const TOKEN = 'serve-grpc-streams-token-0123456789';
const ZIDANE = 'images/zidane.jpg';
const tmp = lazyTempDir('camtrack-serve-grpc-streams-');
/** grpc-js's writable side of a server call holds this many messages before write() says wait (objectMode default). */
const GRPC_JS_WRITABLE = 16;

interface Track {
  track_id: number;
  age: number;
}
interface Result {
  camera_id: string;
  frame_id: number;
  tracks: Track[];
  track_events: { kind: string; track_id: number }[];
}
interface StreamMessage {
  result?: Result;
  error?: { code: string };
  dropped: number;
}
interface Metrics {
  results_sent: number;
  stream_results_dropped: number;
  stream_results_queued: number;
  active_streams: number;
  cameras_created: number;
  cameras_expired: number;
  cameras_refused: number;
  frames_dropped: number;
}

describeWithAssets('camtrack serve: gRPC slow readers, idle cameras, the camera bound', [SESSION_MODEL, ZIDANE], () => {
  let server: TestServer;
  let c: GrpcClients;
  let jpeg: Buffer;
  const auth = () => bearer(TOKEN);
  const metrics = async () => {
    const { value, error } = await unary<Metrics>(c.vision, 'GetEngineMetrics', {}, auth());
    if (error) throw error;
    return value!;
  };
  const openStream = (client: grpc.Client) =>
    (client as unknown as { ProcessCameraStream(m: grpc.Metadata): grpc.ClientDuplexStream<object, StreamMessage> }).ProcessCameraStream(auth());

  beforeAll(async () => {
    jpeg = readFileSync(assetPath(ZIDANE));
    server = await startServe({
      model: assetPath(SESSION_MODEL),
      tracker: { type: 'bytetrack' },
      serve: { token: TOKEN, stateFile: `${tmp()}/cameras.json`, grpc: { port: 0, cameraIdleSeconds: 1, maxCameras: 3 } },
    });
    c = grpcClients(server.grpc!.port);
  }, 120_000);
  afterAll(async () => {
    c?.close();
    await server?.close();
  });

  it('EXPECTED FAILURE - a slow ProcessCameraStream reader: bounded buffering, counted drops, newest results in order, others served', async () => {
    const N = 100;
    // Its own connection with a 16 KiB HTTP/2 window, and results of ~8 KiB (the frames' metadata comes back in their
    // results), so a paused reader pushes back on the server after a few results.
    const { VisionCoreService } = loadServices();
    const slow = new VisionCoreService(`127.0.0.1:${server.grpc!.port}`, grpc.credentials.createInsecure(), {
      'grpc-node.flow_control_window': 16 * 1024,
      'grpc.use_local_subchannel_pool': 1,
    });
    const metadata = toStruct({ pad: 'x'.repeat(8 * 1024) });
    const before = await metrics();
    const call = openStream(slow);
    const got: StreamMessage[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.on('data', (m: StreamMessage) => got.push(m));
    call.pause(); // the reader reads nothing until resume()
    call.write({ config: { camera_id: 'slow', enable_tracking: false } });

    let maxQueued = 0;
    let unaryMs = -1;
    for (let i = 1; i <= N; i++) {
      call.write({ frame: { frame_id: i, image: jpeg, metadata } });
      // At most two frames in the camera at once (live cameras drop frames pushed faster than they are processed).
      await waitFor(`the result of frame ${i - 2}`, async () => {
        const m = await metrics();
        maxQueued = Math.max(maxQueued, m.stream_results_queued);
        return m.results_sent - before.results_sent >= i - 2;
      }, 60_000);
      if (i === N / 2) {
        // Another client's unary call is answered while the reader holds its results.
        const t0 = Date.now();
        const other = await unary<Result>(c.vision, 'ProcessFrame', { camera_id: 'other', frame_id: 1, image: jpeg }, auth(), { deadline: Date.now() + 30_000 });
        unaryMs = Date.now() - t0;
        expect(other.error).toBeUndefined();
        expect(other.value).toMatchObject({ camera_id: 'grpc-other', frame_id: 1 });
      }
    }
    // Every frame answered by the camera (results_sent counts results as the camera gives them, before the queue);
    // the N/2 unary result is the + 1.
    await waitFor('every result', async () => {
      const m = await metrics();
      maxQueued = Math.max(maxQueued, m.stream_results_queued);
      return m.results_sent - before.results_sent >= N + 1;
    }, 60_000);
    const held = await metrics();
    maxQueued = Math.max(maxQueued, held.stream_results_queued);
    expect(got).toHaveLength(0);
    expect(held.stream_results_dropped - before.stream_results_dropped).toBeGreaterThan(0);
    // Bounded: camtrack's queue plus grpc-js's writable buffer, never more.
    expect(maxQueued).toBeGreaterThanOrEqual(OUT_QUEUE);
    expect(maxQueued).toBeLessThanOrEqual(OUT_QUEUE + GRPC_JS_WRITABLE);
    expect(unaryMs).toBeGreaterThanOrEqual(0);

    call.end();
    call.resume();
    await ended;
    slow.close();
    const ids = got.map((m) => m.result?.frame_id);
    expect(got.every((m) => m.result !== undefined)).toBe(true);
    // Frame order, the newest last: the last OUT_QUEUE results read are the newest ones, contiguous.
    for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
    expect(ids.slice(-OUT_QUEUE)).toEqual(Array.from({ length: OUT_QUEUE }, (_, k) => N - OUT_QUEUE + 1 + k));
    // Every result was either read or dropped and counted; the last message carries the call's total.
    const dropped = got.at(-1)!.dropped;
    expect(dropped).toBeGreaterThan(0);
    expect(got.length + dropped).toBe(N);
    const after = await metrics();
    expect(after.stream_results_dropped - before.stream_results_dropped).toBe(dropped);
    expect(after.stream_results_queued).toBe(0);
    const text = (await server.inject({ method: 'GET', url: '/metrics', headers: server.auth })).body;
    expect(text).toContain(`camtrack_grpc_stream_results_dropped_total ${after.stream_results_dropped}\n`);
    expect(text).toContain('camtrack_grpc_stream_results_queued 0\n');
  }, 300_000);

  it('a ProcessFrame camera idle for cameraIdleSeconds is removed: its id starts fresh tracker state; one in use is kept', async () => {
    const frame = async (camera_id: string, frame_id: number) => {
      const { value, error } = await unary<Result>(c.vision, 'ProcessFrame', { camera_id, frame_id, image: jpeg }, auth());
      expect(error).toBeUndefined();
      return value!;
    };
    const first = await frame('idle1', 1);
    expect(first.tracks.length).toBeGreaterThan(0);
    expect(first.track_events.some((e) => e.kind === 'new')).toBe(true);
    // In use: a call every 300 ms for 3 s (3 × cameraIdleSeconds) keeps the camera and its tracks, which age.
    const created = (await metrics()).cameras_created;
    let last = first;
    const t0 = Date.now();
    for (let i = 2; Date.now() - t0 < 3000; i++) {
      last = await frame('idle1', i);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect((await metrics()).cameras_created).toBe(created);
    const kept = last.tracks.find((t) => t.track_id === first.tracks[0]!.track_id);
    expect(kept, 'the first track is still tracked').toBeDefined();
    expect(kept!.age).toBeGreaterThan(first.tracks[0]!.age);

    // Idle: gone from the registry after about a second, counted.
    const expiredBefore = (await metrics()).cameras_expired;
    await waitFor('the idle camera to expire', async () => (await metrics()).cameras_expired > expiredBefore && server.context.cameras.get('grpc-idle1') === undefined, 30_000);
    // Its next frame starts a fresh camera: the tracks are new again, as young as on the very first frame.
    const fresh = await frame('idle1', 1000);
    expect(fresh.track_events.some((e) => e.kind === 'new')).toBe(true);
    expect(fresh.tracks.map((t) => t.age)).toEqual(first.tracks.map((t) => t.age));
    expect((await metrics()).cameras_created).toBe(created + 1);
    const text = (await server.inject({ method: 'GET', url: '/metrics', headers: server.auth })).body;
    expect(text).toMatch(/camtrack_grpc_cameras_expired_total [1-9]/);
  }, 120_000);

  it('EXPECTED FAILURE - frames a live camera drops fail at once (RESOURCE_EXHAUSTED, counted), not at the 30 s result timeout', async () => {
    const before = await metrics();
    // 16 frames of one new camera pushed at once: its live push queue (4) keeps the newest, the others are dropped.
    const frames = Array.from({ length: 16 }, (_, i) => ({ camera_id: 'burst', frame_id: i + 1, image: jpeg }));
    const t0 = Date.now();
    const { value, error } = await unary<{ outcomes: { result: Result | null; error: { code: string; hint?: string } | null }[] }>(
      c.vision,
      'ProcessFrameBatch',
      { frames },
      auth(),
    );
    const elapsed = Date.now() - t0;
    expect(error).toBeUndefined();
    const outcomes = value!.outcomes;
    expect(outcomes).toHaveLength(16);
    // Every frame is answered or failed as dropped (also the newest ones, which no later result follows: the camera's
    // counters then account for every pushed frame).
    const dropped = outcomes.filter((o) => o.error);
    expect(dropped.length).toBeGreaterThan(0);
    expect(outcomes.some((o) => o.result)).toBe(true);
    for (const o of dropped) expect(o.error!.code).toBe('ERR_CAMTRACK_RATE_LIMITED');
    for (const [i, o] of outcomes.entries()) if (o.result) expect(o.result.frame_id).toBe(i + 1);
    expect(elapsed).toBeLessThan(20_000);
    expect((await metrics()).frames_dropped - before.frames_dropped).toBe(dropped.length);

    // A unary call whose frame is dropped fails RESOURCE_EXHAUSTED with camtrack's code and hint.
    const calls = Array.from({ length: 24 }, (_, i) => unary<Result>(c.vision, 'ProcessFrame', { camera_id: 'burst', frame_id: 100 + i, image: jpeg }, auth()));
    const t1 = Date.now();
    const got = await Promise.all(calls);
    expect(Date.now() - t1).toBeLessThan(20_000);
    expect(got.some((g) => g.value !== undefined)).toBe(true);
    const failed = got.filter((g) => g.error);
    expect(failed.length).toBeGreaterThan(0);
    for (const g of failed) {
      expect(g.error!.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(g.error!.metadata.get('camtrack-error-code')).toEqual(['ERR_CAMTRACK_RATE_LIMITED']);
    }
    const text = (await server.inject({ method: 'GET', url: '/metrics', headers: server.auth })).body;
    expect(text).toMatch(/camtrack_grpc_frames_dropped_total [1-9]/);
  }, 120_000);

  it('EXPECTED FAILURE - over serve.grpc.maxCameras a new camera fails RESOURCE_EXHAUSTED with ERR_CAMTRACK_SESSION_LIMIT', async () => {
    await waitFor('no ProcessFrame camera left', async () => (await metrics()).active_streams === 0, 30_000);
    // Three ProcessCameraStream calls hold the three gRPC cameras (a call's camera never expires while it is open).
    const calls = ['s1', 's2', 's3'].map((id) => {
      const call = openStream(c.vision);
      const first = new Promise<StreamMessage>((resolve, reject) => {
        call.on('data', resolve);
        call.on('error', (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED ? undefined : reject(e)));
      });
      call.write({ config: { camera_id: id } });
      call.write({ frame: { frame_id: 1, image: jpeg } });
      return { call, first };
    });
    for (const { first } of calls) expect((await first).result?.frame_id).toBe(1);
    const refusedBefore = (await metrics()).cameras_refused;

    const { error } = await unary(c.vision, 'ProcessFrame', { camera_id: 'fourth', frame_id: 1, image: jpeg }, auth());
    expect(error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(error!.metadata.get('camtrack-error-code')).toEqual(['ERR_CAMTRACK_SESSION_LIMIT']);
    expect(String(error!.metadata.get('camtrack-error-hint')[0])).toMatch(/serve\.grpc\.maxCameras/);
    const fourthCall = openStream(c.vision);
    fourthCall.on('data', () => {});
    const streamErr = await new Promise<grpc.ServiceError>((resolve) => {
      fourthCall.on('error', resolve);
      fourthCall.write({ config: { camera_id: 's4' } });
    });
    expect(streamErr.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(streamErr.metadata.get('camtrack-error-code')).toEqual(['ERR_CAMTRACK_SESSION_LIMIT']);
    expect((await metrics()).cameras_refused - refusedBefore).toBe(2);
    expect(server.context.cameras.get('grpc-fourth')).toBeUndefined();

    // One call ends: its place is free again.
    calls[0]!.call.cancel();
    await waitFor('the cancelled call to be gone', () => server.context.cameras.get('grpc-s1') === undefined, 30_000);
    const ok = await unary<Result>(c.vision, 'ProcessFrame', { camera_id: 'fourth', frame_id: 1, image: jpeg }, auth());
    expect(ok.error).toBeUndefined();
    expect(ok.value?.camera_id).toBe('grpc-fourth');
    for (const { call } of calls.slice(1)) call.cancel();
    const text = (await server.inject({ method: 'GET', url: '/metrics', headers: server.auth })).body;
    expect(text).toContain(`camtrack_grpc_cameras_refused_total ${refusedBefore + 2}\n`);
  }, 120_000);
});
