/**
 * `camtrack serve`'s analytics over HTTP, Prometheus and gRPC, with real parts and one run of the clip: walking.mp4
 * (shared assets) through yolov8n_int8 and ByteTrack with the counting segment and zone of
 * test/e2e/analytics-walking.test.ts (its header tells how the hand count, 4 in / 1 out, was made), served with a
 * token and the gRPC port. (Two files ran the clip once each before; one run serves both, which saves CI a full run.)
 *
 * gRPC, camtrack.v1.AnalyticsService (proto/camtrack/v1/analytics.proto, docs/grpc.md) with a real @grpc/grpc-js client
 * over loopback: WatchCameraCounts sends the counts at once and on each change up to the hand count; GetCameraCounts
 * equals GET /api/v1/cameras/{id}/analytics (both wire-schema-valid); errors carry camtrack's codes; removing the
 * camera ends the watch NOT_FOUND.
 *
 * HTTP: GET /api/v1/cameras/{id}/analytics gives the counts in the wire format (schema-valid), /metrics has
 * camtrack_line_crossings_total and camtrack_zone_occupancy and passes `promtool check metrics`; DELETE …/analytics
 * zeroes them (also natively: the next run's frames count from zero); removing the camera removes its series.
 */
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { assetPath, describeWithAssets, isCi } from '../helpers/assets.js';
import { bearer, grpcClients, unary, type GrpcClients } from '../helpers/grpc.js';
import { startServe, waitFor, type TestServer } from '../helpers/serve.js';
import { lazyTempDir } from '../helpers/temp-dir.js';
import { expectValid, validateWireAnalyticsCounts } from '../helpers/wire.js';

const TOKEN = 'serve-analytics-token-0123456789';
const MODEL = 'models/yolov8n_int8.onnx';
const CLIP = 'videos/walking.mp4';
const ZIDANE = 'images/zidane.jpg';
const PROMTOOL = '/usr/bin/promtool';
const tmp = lazyTempDir('camtrack-serve-analytics-');
const ANALYTICS = {
  lines: [{ id: 'crossing', start: [680, 400], end: [960, 400] }],
  zones: [{ id: 'plaza', polygon: [[720, 250], [960, 250], [960, 400], [720, 400]] }],
};

interface Counts {
  v: number;
  type: string;
  camera_id: string;
  timestamp: number;
  frame_id: number | null;
  ts_ms: number | null;
  lines: Record<string, { in: number; out: number; per_class: { class_id: number; label: string; in: number; out: number }[] }>;
  zones: Record<string, { occupancy: number }>;
}

/** The proto message as the wire JSON: unset optionals null, proto-loader's virtual oneof keys (`_frame_id`) gone. */
function asWire(m: Record<string, unknown>): Counts {
  const out = Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith('_')));
  return { ...out, frame_id: (m.frame_id as number | undefined) ?? null, ts_ms: (m.ts_ms as number | undefined) ?? null } as Counts;
}

const promtoolReason = existsSync(PROMTOOL) ? undefined : `${PROMTOOL} not found (Debian package prometheus: scripts/install-system-deps.sh --with-test-deps)`;

/** `promtool check metrics` on an exposition: required under CI=true, skipped with the reason otherwise. */
function promtoolCheck(text: string): void {
  if (promtoolReason) {
    if (isCi) throw new Error(`${promtoolReason} (CI=true: required, not skipped)`);
    console.warn(`[camtrack tests] not checking /metrics with promtool: ${promtoolReason}`);
    return;
  }
  const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
}

describeWithAssets('camtrack serve: analytics over HTTP, Prometheus and gRPC (AnalyticsService)', [MODEL, CLIP, ZIDANE], () => {
  let server: TestServer;
  let c: GrpcClients;
  const auth = () => bearer(TOKEN);
  const watch = (request: object, md = auth()) =>
    (c.analytics as unknown as { WatchCameraCounts(r: object, m: grpc.Metadata): grpc.ClientReadableStream<Record<string, unknown>> }).WatchCameraCounts(request, md);

  beforeAll(async () => {
    server = await startServe({
      model: assetPath(MODEL),
      tracker: { type: 'bytetrack' },
      serve: { token: TOKEN, stateFile: `${tmp()}/cameras.json`, grpc: { port: 0 } },
      streams: [{ id: 'walk', url: assetPath(CLIP), analytics: ANALYTICS }],
    });
    c = grpcClients(server.grpc!.port);
  }, 120_000);
  afterAll(async () => {
    c?.close();
    await server?.close();
  });

  it('EXPECTED FAILURE - no token, an unknown camera, a camera without analytics, a bad interval: status codes with camtrack codes', async () => {
    const noToken = await unary(c.analytics, 'GetCameraCounts', { camera_id: 'walk' });
    expect(noToken.error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(noToken.error!.metadata.get('camtrack-error-code')).toEqual(['ERR_CAMTRACK_UNAUTHORIZED']);

    const unknown = await unary(c.analytics, 'GetCameraCounts', { camera_id: 'nope' }, auth());
    expect(unknown.error?.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.error!.metadata.get('camtrack-error-code')).toEqual(['ERR_CAMTRACK_NOT_FOUND']);

    // A ProcessFrame camera has no analytics section.
    const frame = await unary(c.vision, 'ProcessFrame', { camera_id: 'plain', frame_id: 1, image: readFileSync(assetPath(ZIDANE)) }, auth());
    expect(frame.error).toBeUndefined();
    const plain = await unary(c.analytics, 'GetCameraCounts', { camera_id: 'grpc-plain' }, auth());
    expect(plain.error?.code, plain.error?.details).toBe(grpc.status.FAILED_PRECONDITION);
    expect(plain.error!.metadata.get('camtrack-error-code')).toEqual(['ERR_CAMTRACK_INVALID_STATE']);
    expect(String(plain.error!.metadata.get('camtrack-error-hint')[0])).toContain('analytics');

    for (const [request, md, code] of [
      [{ camera_id: 'walk', interval_ms: 5 }, auth(), grpc.status.INVALID_ARGUMENT],
      [{ camera_id: 'walk' }, new grpc.Metadata(), grpc.status.UNAUTHENTICATED],
      [{ camera_id: 'nope' }, auth(), grpc.status.NOT_FOUND],
    ] as const) {
      const call = watch(request, md);
      call.on('data', () => {});
      const e = await new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
      expect(e.code, JSON.stringify(request)).toBe(code);
      expect(e.metadata.get('camtrack-error-code')[0]).toMatch(/^ERR_CAMTRACK_/);
    }

    const health = await unary<{ status: string }>(c.health, 'Check', { service: 'camtrack.v1.AnalyticsService' });
    expect(health.value?.status).toBe((await server.context.readiness()).ready ? 'SERVING' : 'NOT_SERVING');
  }, 60_000);

  it('one run to the hand count: WatchCameraCounts follows it, GET …/analytics and /metrics give it (promtool-clean), GetCameraCounts equals GET; reset; errors; removal ends the watch and the series', async () => {
    const get = async (id: string) => {
      const r = await server.inject({ method: 'GET', url: `/api/v1/cameras/${id}/analytics`, headers: server.auth });
      return { status: r.statusCode, body: JSON.parse(r.body) as Record<string, any> };
    };
    const call = watch({ camera_id: 'walk', interval_ms: 100 });
    const seen: Counts[] = [];
    const ended = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    call.on('data', (m: Record<string, unknown>) => seen.push(asWire(m)));
    // HTTP before the end: the configured ids are there, schema-valid.
    const early = await get('walk');
    expect(early.status).toBe(200);
    expectValid(validateWireAnalyticsCounts, early.body);
    expect(Object.keys(early.body.lines)).toEqual(['crossing']);
    expect(Object.keys(early.body.zones)).toEqual(['plaza']);
    await waitFor('the first counts', () => seen.length > 0, 30_000);
    expect(seen[0]).toMatchObject({ v: 1, type: 'analytics_counts', camera_id: 'walk' });
    expect(Object.keys(seen[0]!.lines)).toEqual(['crossing']);
    expect(Object.keys(seen[0]!.zones)).toEqual(['plaza']);

    await waitFor('walking.mp4 to end', () => server.context.cameras.get('walk')?.state === 'ended', 240_000);
    await waitFor('the watch to show the final counts', () => seen.at(-1)?.lines.crossing?.in === 4 && seen.at(-1)?.zones.plaza?.occupancy === 0, 30_000);
    const final = seen.at(-1)!;
    expect(final.lines.crossing).toMatchObject({ in: 4, out: 1 });
    expect(final.lines.crossing!.per_class.reduce((n, k) => n + k.in, 0)).toBe(4);
    // The watch's last message is the last change's (its frame_id that result's), not the clip's end.
    expect(final.frame_id).toBeGreaterThan(0);

    // Each message is the wire message, sent only when a count changed, the line counts never going back.
    for (const m of seen) expectValid(validateWireAnalyticsCounts, m);
    for (let i = 1; i < seen.length; i++) {
      expect(JSON.stringify([seen[i]!.lines, seen[i]!.zones])).not.toBe(JSON.stringify([seen[i - 1]!.lines, seen[i - 1]!.zones]));
      expect(seen[i]!.lines.crossing!.in).toBeGreaterThanOrEqual(seen[i - 1]!.lines.crossing!.in);
      expect(seen[i]!.lines.crossing!.out).toBeGreaterThanOrEqual(seen[i - 1]!.lines.crossing!.out);
    }
    // It followed the clip: several crossings and zone visits seen as they happened, not just the end.
    expect(new Set(seen.map((m) => m.lines.crossing!.in)).size).toBeGreaterThanOrEqual(3);
    expect(seen.some((m) => m.zones.plaza!.occupancy > 0)).toBe(true);

    // HTTP at the end: the hand count in the wire format.
    const done = await get('walk');
    expect(done.status).toBe(200);
    expectValid(validateWireAnalyticsCounts, done.body);
    expect(done.body).toMatchObject({ v: 1, type: 'analytics_counts', camera_id: 'walk', lines: { crossing: { in: 4, out: 1 } }, zones: { plaza: { occupancy: 0 } } });
    expect(done.body.frame_id).toBeGreaterThan(300);
    // Per class, the class each track had when it crossed (yolov8n calls one of the walkers a bird at that moment).
    const perClass = done.body.lines.crossing.per_class as { class_id: number; label: string; in: number; out: number }[];
    expect(perClass.reduce((n, c) => n + c.in, 0)).toBe(4);
    expect(perClass.reduce((n, c) => n + c.out, 0)).toBe(1);
    expect(perClass.find((c) => c.label === 'person')).toMatchObject({ class_id: 0 });

    // GetCameraCounts: the same counts as the HTTP route (the camera has ended: nothing changes in between).
    const { value, error } = await unary<Record<string, unknown>>(c.analytics, 'GetCameraCounts', { camera_id: 'walk' }, auth());
    expect(error).toBeUndefined();
    const got = asWire(value!);
    expectValid(validateWireAnalyticsCounts, got);
    expect({ ...got, timestamp: 0 }).toEqual({ ...done.body, timestamp: 0 });
    expect({ lines: got.lines, zones: got.zones }).toEqual({ lines: final.lines, zones: final.zones });

    // Prometheus: the same counts per class, and an exposition promtool accepts.
    const metrics = async () => (await server.inject({ method: 'GET', url: '/metrics', headers: server.auth })).body;
    const text = await metrics();
    const series = (direction: string) =>
      [...text.matchAll(new RegExp(`^camtrack_line_crossings_total\\{camera="walk",line="crossing",direction="${direction}",class="([a-z ]+)"\\} (\\d+)$`, 'gm'))].map((m) => ({
        label: m[1],
        value: Number(m[2]),
      }));
    expect(series('in')).toEqual(perClass.map((k) => ({ label: k.label, value: k.in })));
    expect(series('out')).toEqual(perClass.map((k) => ({ label: k.label, value: k.out })));
    expect(text).toMatch(/^camtrack_zone_occupancy\{camera="walk",zone="plaza"\} 0$/m);
    promtoolCheck(text);

    // Reset: zero at once here; the counter series restart from 0.
    expect((await server.inject({ method: 'DELETE', url: '/api/v1/cameras/walk/analytics', headers: server.auth })).statusCode).toBe(204);
    expect((await get('walk')).body.lines.crossing).toEqual({ in: 0, out: 0, per_class: [] });
    const afterReset = await metrics();
    expect(afterReset).not.toMatch(/^camtrack_line_crossings_total\{camera="walk"/m);
    expect(afterReset).toMatch(/^camtrack_zone_occupancy\{camera="walk",zone="plaza"\} 0$/m);

    // Unknown camera: 404; a camera without analytics: 409 with a hint.
    const missing = await get('nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('ERR_CAMTRACK_NOT_FOUND');
    const added = await server.inject({ method: 'POST', url: '/api/v1/cameras', headers: server.auth, payload: { id: 'plain', url: assetPath(CLIP) } });
    expect(added.statusCode, added.body).toBe(201);
    const plain = await get('plain');
    expect(plain.status).toBe(409);
    expect(plain.body.error).toMatchObject({ code: 'ERR_CAMTRACK_INVALID_STATE' });
    expect(plain.body.error.hint).toContain('analytics');
    expect((await server.inject({ method: 'DELETE', url: '/api/v1/cameras/plain/analytics', headers: server.auth })).statusCode).toBe(409);
    expect((await server.inject({ method: 'DELETE', url: '/api/v1/cameras/plain', headers: server.auth })).statusCode).toBe(204);

    // The camera goes: the watch ends NOT_FOUND with camtrack's code; HTTP says 404 and its series are gone.
    expect((await server.inject({ method: 'DELETE', url: '/api/v1/cameras/walk', headers: server.auth })).statusCode).toBe(204);
    const e = await ended;
    expect(e.code).toBe(grpc.status.NOT_FOUND);
    expect(e.metadata.get('camtrack-error-code')).toEqual(['ERR_CAMTRACK_NOT_FOUND']);
    expect((await get('walk')).status).toBe(404);
    const after = await metrics();
    expect(after).not.toMatch(/camtrack_(line_crossings_total|zone_occupancy)\{camera="walk"/);
    promtoolCheck(after);
  }, 300_000);
});
