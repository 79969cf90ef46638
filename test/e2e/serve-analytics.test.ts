/**
 * `camtrack serve`'s analytics routes and metrics with real parts: walking.mp4 (shared assets) through yolov8n_int8
 * and ByteTrack with the counting segment and zone of test/e2e/analytics-walking.test.ts (whose header tells how its
 * hand count, 4 in / 1 out, was made). GET /api/v1/cameras/{id}/analytics gives the counts in the wire format
 * (schema-valid), /metrics has camtrack_line_crossings_total and camtrack_zone_occupancy and passes `promtool check
 * metrics`; DELETE …/analytics zeroes them (also natively: the next run's frames count from zero); removing the
 * camera removes its series.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { afterAll, expect, it } from 'vitest';

import { assetPath, describeWithAssets, isCi } from '../helpers/assets.js';
import { startServe, waitFor, type TestServer } from '../helpers/serve.js';
import { lazyTempDir } from '../helpers/temp-dir.js';
import { expectValid, validateWireAnalyticsCounts } from '../helpers/wire.js';

const MODEL = 'models/yolov8n_int8.onnx';
const CLIP = 'videos/walking.mp4';
const PROMTOOL = '/usr/bin/promtool';
const tmp = lazyTempDir('camtrack-serve-analytics-');
const ANALYTICS = {
  lines: [{ id: 'crossing', start: [680, 400], end: [960, 400] }],
  zones: [{ id: 'plaza', polygon: [[720, 250], [960, 250], [960, 400], [720, 400]] }],
};
const promtoolReason = existsSync(PROMTOOL) ? undefined : `${PROMTOOL} not found (Debian package prometheus: scripts/install-system-deps.sh --with-test-deps)`;

type Json = Record<string, any>;

describeWithAssets('camtrack serve: GET/DELETE /api/v1/cameras/{id}/analytics and the analytics metrics', [MODEL, CLIP], () => {
  let s: TestServer | undefined;
  afterAll(async () => {
    await s?.close();
  });

  it.skipIf(promtoolReason && !isCi)('counts walking.mp4 as the hand count, in the wire format and in Prometheus; resets; removed camera, no series', async () => {
    const stateFile = path.join(tmp(), 'serve.cameras.json'); // the REST camera below is stored there
    s = await startServe({ model: assetPath(MODEL), tracker: { type: 'bytetrack' }, serve: { stateFile }, streams: [{ id: 'walk', url: assetPath(CLIP), analytics: ANALYTICS }] });
    await s.context.booted;
    const get = async (id: string) => {
      const r = await s!.inject({ method: 'GET', url: `/api/v1/cameras/${id}/analytics` });
      return { status: r.statusCode, body: JSON.parse(r.body) as Json };
    };
    // Before the end: the configured ids are there (zeros before the first result), schema-valid.
    const early = await get('walk');
    expect(early.status).toBe(200);
    expectValid(validateWireAnalyticsCounts, early.body);
    expect(Object.keys(early.body.lines)).toEqual(['crossing']);
    expect(Object.keys(early.body.zones)).toEqual(['plaza']);

    await waitFor('walking.mp4 to end', () => s!.context.cameras.get('walk')?.state === 'ended', 240_000);
    const done = await get('walk');
    expect(done.status).toBe(200);
    expectValid(validateWireAnalyticsCounts, done.body);
    expect(done.body).toMatchObject({
      v: 1,
      type: 'analytics_counts',
      camera_id: 'walk',
      lines: { crossing: { in: 4, out: 1 } },
      zones: { plaza: { occupancy: 0 } },
    });
    expect(done.body.frame_id).toBeGreaterThan(300);
    // Per class, the class each track had when it crossed (yolov8n calls one of the walkers a bird at that moment).
    const perClass = done.body.lines.crossing.per_class as { class_id: number; label: string; in: number; out: number }[];
    expect(perClass.reduce((n, c) => n + c.in, 0)).toBe(4);
    expect(perClass.reduce((n, c) => n + c.out, 0)).toBe(1);
    expect(perClass.find((c) => c.label === 'person')).toMatchObject({ class_id: 0 });

    const text = (await s.inject({ method: 'GET', url: '/metrics' })).body;
    const series = (direction: string) =>
      [...text.matchAll(new RegExp(`^camtrack_line_crossings_total\\{camera="walk",line="crossing",direction="${direction}",class="([a-z ]+)"\\} (\\d+)$`, 'gm'))].map((m) => ({
        label: m[1],
        value: Number(m[2]),
      }));
    expect(series('in')).toEqual(perClass.map((c) => ({ label: c.label, value: c.in })));
    expect(series('out')).toEqual(perClass.map((c) => ({ label: c.label, value: c.out })));
    expect(text).toMatch(/^camtrack_zone_occupancy\{camera="walk",zone="plaza"\} 0$/m);
    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);

    // Reset: zero at once here; the counter series restart from 0.
    expect((await s.inject({ method: 'DELETE', url: '/api/v1/cameras/walk/analytics' })).statusCode).toBe(204);
    expect((await get('walk')).body.lines.crossing).toEqual({ in: 0, out: 0, per_class: [] });
    const afterReset = (await s.inject({ method: 'GET', url: '/metrics' })).body;
    expect(afterReset).not.toMatch(/^camtrack_line_crossings_total\{camera="walk"/m);
    expect(afterReset).toMatch(/^camtrack_zone_occupancy\{camera="walk",zone="plaza"\} 0$/m);

    // Unknown camera: 404; a camera without analytics: 409 with a hint.
    const missing = await get('nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('ERR_CAMTRACK_NOT_FOUND');
    const added = await s.inject({ method: 'POST', url: '/api/v1/cameras', payload: { id: 'plain', url: assetPath(CLIP) } });
    expect(added.statusCode, added.body).toBe(201);
    const plain = await get('plain');
    expect(plain.status).toBe(409);
    expect(plain.body.error).toMatchObject({ code: 'ERR_CAMTRACK_INVALID_STATE' });
    expect(plain.body.error.hint).toContain('analytics');
    expect((await s.inject({ method: 'DELETE', url: '/api/v1/cameras/plain/analytics' })).statusCode).toBe(409);

    // Removed: 404 and its series gone.
    expect((await s.inject({ method: 'DELETE', url: '/api/v1/cameras/walk' })).statusCode).toBe(204);
    expect((await get('walk')).status).toBe(404);
    const after = (await s.inject({ method: 'GET', url: '/metrics' })).body;
    expect(after).not.toMatch(/camtrack_(line_crossings_total|zone_occupancy)\{camera="walk"/);
    const check2 = spawnSync(PROMTOOL, ['check', 'metrics'], { input: after, encoding: 'utf8' });
    expect(check2.status, `${check2.stdout}${check2.stderr}`).toBe(0);
  }, 300_000);
});
