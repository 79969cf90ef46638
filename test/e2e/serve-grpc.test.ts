/**
 * `camtrack serve` with serve.grpc (docs/grpc.md): a real @grpc/grpc-js client over loopback against buildServer()
 * with a real model. ProcessFrame on a real JPEG gives the wire result (person detections), ProcessFrameBatch keeps
 * request order, the token is required (UNAUTHENTICATED) on all but health, a malformed image is INVALID_ARGUMENT with
 * camtrack's code, an expired deadline is dropped before inference and counted, health Check follows readiness.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { bearer, grpcClients, unary, type GrpcClients } from '../helpers/grpc.js';
import { startServe, type TestServer } from '../helpers/serve.js';
import { SESSION_MODEL } from '../helpers/session-server.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const TOKEN = 'serve-grpc-token-0123456789abc';
const ZIDANE = 'images/zidane.jpg';
const tmp = lazyTempDir('camtrack-serve-grpc-');

interface Result {
  camera_id: string;
  frame_id: number;
  type: string;
  v: number;
  width: number;
  height: number;
  detections: { label: string; score: number; bbox: { x1: number; y1: number; x2: number; y2: number } }[];
  message_key?: string;
}

describeWithAssets('camtrack serve: gRPC VisionCoreService and grpc.health.v1', [SESSION_MODEL, ZIDANE], () => {
  let server: TestServer;
  let c: GrpcClients;
  let jpeg: Buffer;
  const auth = () => bearer(TOKEN);

  beforeAll(async () => {
    jpeg = readFileSync(assetPath(ZIDANE));
    server = await startServe({
      model: assetPath(SESSION_MODEL),
      serve: { token: TOKEN, stateFile: `${tmp()}/cameras.json`, grpc: { port: 0 } },
    });
    expect(server.grpc?.port).toBeGreaterThan(0);
    c = grpcClients(server.grpc!.port);
  }, 120_000);
  afterAll(async () => {
    c?.close();
    await server?.close();
  });

  it('ProcessFrame: a real JPEG gives the wire result with person detections', async () => {
    const { value, error } = await unary<Result>(c.vision, 'ProcessFrame', { camera_id: 'cam1', frame_id: 7, image: jpeg }, auth());
    expect(error).toBeUndefined();
    expect(value).toMatchObject({ v: 1, type: 'result', camera_id: 'grpc-cam1', frame_id: 7, width: 1280, height: 720 });
    expect(value!.message_key).toBeUndefined();
    const persons = value!.detections.filter((d) => d.label === 'person');
    expect(persons.length).toBeGreaterThanOrEqual(1);
    for (const d of persons) expect(d.bbox.x2).toBeGreaterThan(d.bbox.x1);
  }, 60_000);

  it('EXPECTED FAILURE - every VisionCoreService method needs the token: UNAUTHENTICATED with camtrack-error-code', async () => {
    for (const [method, req] of [
      ['ProcessFrame', { camera_id: 'cam1', frame_id: 1, image: jpeg }],
      ['GetEngineMetrics', {}],
      ['GetEngineHealth', {}],
    ] as const) {
      const { error } = await unary(c.vision, method, req);
      expect(error?.code, method).toBe(grpc.status.UNAUTHENTICATED);
      expect(error!.metadata.get('camtrack-error-code')).toEqual(['ERR_CAMTRACK_UNAUTHORIZED']);
      const wrong = await unary(c.vision, method, req, bearer('not-the-token-0123456789'));
      expect(wrong.error?.code, method).toBe(grpc.status.UNAUTHENTICATED);
    }
  });

  it('EXPECTED FAILURE - a malformed image is INVALID_ARGUMENT with camtrack\'s code and hint', async () => {
    const { error } = await unary(c.vision, 'ProcessFrame', { camera_id: 'cam1', frame_id: 8, image: Buffer.from('not a jpeg at all, just text') }, auth());
    expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error!.metadata.get('camtrack-error-code')[0]).toMatch(/^ERR_CAMTRACK_/);
    expect(error!.details).toMatch(/^\[ERR_CAMTRACK_/);
    // The camera keeps serving after the bad frame.
    const again = await unary<Result>(c.vision, 'ProcessFrame', { camera_id: 'cam1', frame_id: 9, image: jpeg }, auth());
    expect(again.value?.frame_id).toBe(9);
  }, 60_000);

  it('ProcessFrameBatch: one outcome per frame in request order, errors in place', async () => {
    const frames = [
      { camera_id: 'b1', frame_id: 1, image: jpeg },
      { camera_id: 'b1', frame_id: 2, image: Buffer.from('garbage') },
      { camera_id: 'b2', frame_id: 3, image: jpeg },
    ];
    const { value, error } = await unary<{ outcomes: { result: Result | null; error: { code: string } | null }[] }>(c.vision, 'ProcessFrameBatch', { frames }, auth());
    expect(error).toBeUndefined();
    expect(value!.outcomes).toHaveLength(3);
    expect(value!.outcomes[0]!.result).toMatchObject({ camera_id: 'grpc-b1', frame_id: 1 });
    expect(value!.outcomes[1]!.error!.code).toMatch(/^ERR_CAMTRACK_/);
    expect(value!.outcomes[2]!.result).toMatchObject({ camera_id: 'grpc-b2', frame_id: 3 });
  }, 60_000);

  it('EXPECTED FAILURE - a call whose deadline passed before inference is dropped and counted', async () => {
    const before = (await unary<{ deadline_exceeded_dropped: number; results_sent: number }>(c.vision, 'GetEngineMetrics', {}, auth())).value!;
    // Deadlines of 1, 2, … ms on new cameras: one of them passes after the server took the call and before the frame
    // was pushed (a new camera's attach takes a few ms). Every call fails DEADLINE_EXCEEDED, whichever side saw it.
    let dropped = 0;
    for (let i = 1; i <= 60 && dropped === 0; i++) {
      const { error } = await unary(c.vision, 'ProcessFrame', { camera_id: `late${i}`, frame_id: 1, image: jpeg }, auth(), { deadline: Date.now() + i });
      expect(error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      const m = (await unary<{ deadline_exceeded_dropped: number }>(c.vision, 'GetEngineMetrics', {}, auth())).value!;
      dropped = m.deadline_exceeded_dropped - before.deadline_exceeded_dropped;
    }
    expect(dropped).toBeGreaterThanOrEqual(1);
    // The same count on /metrics.
    const now = (await unary<{ deadline_exceeded_dropped: number }>(c.vision, 'GetEngineMetrics', {}, auth())).value!;
    const text = (await server.inject({ method: 'GET', url: '/metrics', headers: server.auth })).body;
    expect(text).toContain(`camtrack_grpc_deadline_exceeded_dropped_total ${now.deadline_exceeded_dropped}\n`);
  }, 60_000);

  it('grpc.health.v1: Check without a token follows readiness; Watch sends the current status; unknown service', async () => {
    const ready = (await server.context.readiness()).ready;
    const check = await unary<{ status: string }>(c.health, 'Check', { service: '' });
    expect(check.value?.status).toBe(ready ? 'SERVING' : 'NOT_SERVING');
    const named = await unary<{ status: string }>(c.health, 'Check', { service: 'camtrack.v1.VisionCoreService' });
    expect(named.value?.status).toBe(check.value?.status);
    const unknown = await unary(c.health, 'Check', { service: 'nope.Service' });
    expect(unknown.error?.code).toBe(grpc.status.NOT_FOUND);

    const call = (c.health.Watch as (r: object) => grpc.ClientReadableStream<{ status: string }>).call(c.health, { service: '' });
    const first = await new Promise<{ status: string }>((resolve, reject) => {
      call.once('data', resolve);
      call.once('error', reject);
    });
    expect(first.status).toBe(check.value?.status);
    call.cancel();
    await new Promise<void>((resolve) => call.once('error', () => resolve()));

    const h = await unary<{ ready: boolean; reasons: string[] }>(c.vision, 'GetEngineHealth', {}, auth());
    expect(h.value).toEqual({ ready, reasons: (await server.context.readiness()).reasons });
  });

  it('ProcessCameraStream: config first, results in frame order, then the call ends', async () => {
    const call = (c.vision.ProcessCameraStream as (m: grpc.Metadata) => grpc.ClientDuplexStream<object, { result?: Result; error?: unknown; dropped: number }>).call(c.vision, auth());
    const got: { result?: Result; error?: unknown; dropped: number }[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (m) => got.push(m));
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write({ config: { camera_id: 'live1', confidence_threshold: 0.3, enable_tracking: true } });
    for (let i = 0; i < 4; i++) call.write({ frame: { frame_id: 10 + i, image: jpeg } });
    call.end();
    await ended;
    expect(got.map((m) => m.result?.frame_id)).toEqual([10, 11, 12, 13]);
    expect(got.every((m) => m.result!.detections.some((d) => d.label === 'person'))).toBe(true);
    expect(got.at(-1)!.dropped).toBe(0);
    // The call's camera is gone with the call.
    expect(server.context.cameras.get('grpc-live1')).toBeUndefined();
  }, 60_000);

  it('ProcessCameraStream: cancelling the call removes its camera at once', async () => {
    const call = (c.vision.ProcessCameraStream as (m: grpc.Metadata) => grpc.ClientDuplexStream<object, { result?: Result }>).call(c.vision, auth());
    const first = new Promise<Result>((resolve, reject) => {
      call.on('data', (m: { result?: Result }) => m.result && resolve(m.result));
      call.on('error', (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED ? undefined : reject(e)));
    });
    call.write({ config: { camera_id: 'live2' } });
    call.write({ frame: { frame_id: 1, image: jpeg } });
    expect((await first).frame_id).toBe(1);
    expect(server.context.cameras.get('grpc-live2')).toBeDefined();
    call.cancel();
    const t0 = Date.now();
    while (server.context.cameras.get('grpc-live2') !== undefined && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    expect(server.context.cameras.get('grpc-live2')).toBeUndefined();
  }, 60_000);

  it('EXPECTED FAILURE - ProcessCameraStream without the token, or with a frame first', async () => {
    for (const [md, code] of [[new grpc.Metadata(), grpc.status.UNAUTHENTICATED], [auth(), grpc.status.INVALID_ARGUMENT]] as const) {
      const call = (c.vision.ProcessCameraStream as (m: grpc.Metadata) => grpc.ClientDuplexStream<object, object>).call(c.vision, md);
      const err = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
      call.on('data', () => {});
      call.write({ frame: { frame_id: 1, image: jpeg } });
      const e = await err;
      expect(e.code).toBe(code);
      expect(e.metadata.get('camtrack-error-code')[0]).toMatch(/^ERR_CAMTRACK_/);
    }
  }, 60_000);
});
