/**
 * The standalone Tracker on the built package (dist/ + build/Release/camtrack.node): update()/events() behaviour
 * of each tracker type on hand-made boxes, input errors from the native layer, and `camtrack track` on the
 * shared TUD-Campus detections (abewley/sort's Faster R-CNN det.txt) scored against the MOT15 ground truth with
 * evaluateMot/evaluateHota. The expected metrics were measured with this code (docs/tracking.md); they guard against
 * regressions in association. SORT's output is additionally identical to the reference sort.py's (the native
 * test sort_reference_tud_campus checks its rows).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { trackMotDetections } from '../../dist/cli/track.js';
import {
  CamtrackError,
  ConfigError,
  Tracker,
  evaluateHota,
  evaluateMot,
  parseMotFile,
  type DetectionInput,
} from '../../dist/index.js';
import { assetPath, describeWithAssets, repoRoot } from '../helpers/assets.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const tmp = lazyTempDir('camtrack-tracker-');

/** A box of 40 x 100 px at (x, 50), moving right with the frame number. */
function box(x: number, classId = 0, score = 0.9): DetectionInput {
  return { x1: x, y1: 50, x2: x + 40, y2: 150, score, classId };
}

describe('Tracker (standalone)', () => {
  it('SORT: outputs on the first min_hits frames, keeps ids, reports new/lost/removed', () => {
    const t = new Tracker({ type: 'sort' });
    const ids: number[][] = [];
    for (let f = 1; f <= 5; f++) ids.push(t.update([box(100 + 3 * f), box(300 - 2 * f)]).map((tr) => tr.trackId));
    // Reference order: reverse creation order.
    expect(ids).toEqual([[2, 1], [2, 1], [2, 1], [2, 1], [2, 1]]);
    const ev = t.events();
    expect(ev.map((e) => [e.kind, e.trackId, e.frame])).toEqual([
      ['new', 2, 1],
      ['new', 1, 1],
    ]);
    expect(ev[1]).toMatchObject({ x1: 103, y1: 50, x2: 143, y2: 150, classId: 0, label: '0' });
    expect(t.update([box(118)])).toHaveLength(1); // object 2 missed: lost (max_age 1)
    expect(t.update([box(121)])).toHaveLength(1); // missed twice: removed
    expect(t.events().map((e) => [e.kind, e.trackId, e.frame])).toEqual([
      ['lost', 2, 6],
      ['removed', 2, 7],
    ]);
  });

  it('ByteTrack: a lost track comes back with its id (refound) within the buffer', () => {
    const t = new Tracker({ type: 'bytetrack', trackBufferSeconds: 0.5, frameRate: 20 }); // 10 frames
    for (let f = 1; f <= 5; f++) expect(t.update([box(100 + 2 * f)])[0]!.trackId).toBe(1);
    for (let f = 6; f <= 12; f++) expect(t.update([])).toEqual([]);
    const back = t.update([box(126)]);
    expect(back.map((tr) => [tr.trackId, tr.age])).toEqual([[1, 13]]);
    expect(t.events().map((e) => [e.kind, e.frame])).toEqual([
      ['new', 1],
      ['lost', 6],
      ['refound', 13],
    ]);
    // Gone for longer than 10 frames: removed, and the object comes back with a new id.
    for (let f = 14; f <= 26; f++) t.update([]);
    expect(t.events().map((e) => e.kind)).toEqual(['lost', 'removed']);
    t.update([box(200)]);
    expect(t.update([box(202)])[0]!.trackId).toBe(2);
  });

  it('IoU: class-aware matching, Float32Array input, labels from the input, reset()', () => {
    const t = new Tracker({ type: 'iou', minHits: 1, classAware: true });
    expect(t.update([{ ...box(10, 2), label: 'car' }])).toMatchObject([{ trackId: 1, classId: 2, label: 'car' }]);
    // Same place, other class: no match across classes -> new id 2.
    const f32 = new Float32Array([11, 50, 51, 150, 0.8, 7]);
    expect(t.update(f32)).toMatchObject([{ trackId: 2, classId: 7, label: '7', x1: 11, score: expect.closeTo(0.8, 6) }]);
    t.reset();
    expect(t.events()).toEqual([]);
    expect(t.update([box(10)])[0]!.trackId).toBe(1);
  });

  it('reports bad input as CamtrackError / ConfigError', () => {
    const t = new Tracker({ type: 'sort' });
    expect(() => t.update([{ x1: 'a' } as unknown as DetectionInput])).toThrow(
      expect.objectContaining({ code: 'ERR_CAMTRACK_INVALID_ARGUMENT', message: 'Tracker.update: expected a number for detections[0].x1' }),
    );
    expect(() => t.update(new Float32Array(7))).toThrow(CamtrackError);
    expect(() => t.update('x' as unknown as DetectionInput[])).toThrow(ConfigError);
    expect(() => new Tracker({ type: 'sort', matchThresh: 0.5 } as never)).toThrow(
      'tracker.matchThresh: Option "matchThresh" applies to type "bytetrack", not "sort"',
    );
  });
});

const TUD = ['mot/TUD-Campus/det.txt', 'mot/TUD-Campus/gt.txt'];

/** Measured on TUD-Campus with each tracker's defaults (docs/tracking.md). */
const EXPECTED = {
  bytetrack: { rows: 299, ids: 12, mota: 0.585, motp: 0.2648, idf1: 0.6748, hota: 0.4816, idsw: 5, fp: 42, fn: 102 },
  sort: { rows: 261, ids: 15, mota: 0.6267, motp: 0.2632, idf1: 0.6065, hota: 0.4526, idsw: 6, fp: 15, fn: 113 },
  iou: { rows: 263, ids: 15, mota: 0.5571, motp: 0.2572, idf1: 0.5595, hota: 0.442, idsw: 7, fp: 28, fn: 124 },
} as const;
/** Ratios to ±0.003 (about one box of the 359 ground-truth boxes), counts to ±1. */
const RATIO_TOL = 0.003;

describeWithAssets('camtrack track on TUD-Campus', TUD, () => {
  for (const type of ['bytetrack', 'sort', 'iou'] as const) {
    it(`${type}: MOTA/IDF1/HOTA/IDsw as measured`, () => {
      const det = parseMotFile(readFileSync(assetPath(TUD[0]!), 'utf8'));
      const gt = parseMotFile(readFileSync(assetPath(TUD[1]!), 'utf8'));
      const rows = trackMotDetections(det, { tracker: { type } });
      const m = evaluateMot(gt, rows);
      const h = evaluateHota(gt, rows);
      const e = EXPECTED[type];
      expect(Math.abs(rows.length - e.rows)).toBeLessThanOrEqual(1);
      expect(Math.abs(new Set(rows.map((r) => r.id)).size - e.ids)).toBeLessThanOrEqual(1);
      expect(Math.abs(m.mota - e.mota)).toBeLessThanOrEqual(RATIO_TOL);
      expect(Math.abs(m.motp - e.motp)).toBeLessThanOrEqual(RATIO_TOL);
      expect(Math.abs(m.idf1 - e.idf1)).toBeLessThanOrEqual(RATIO_TOL);
      expect(Math.abs(h.hota - e.hota)).toBeLessThanOrEqual(RATIO_TOL);
      expect(Math.abs(m.numSwitches - e.idsw)).toBeLessThanOrEqual(1);
      expect(Math.abs(m.numFalsePositives - e.fp)).toBeLessThanOrEqual(1);
      expect(Math.abs(m.numMisses - e.fn)).toBeLessThanOrEqual(1);
      expect(m.numUniqueObjects).toBe(8);
    });
  }

  it('the CLI writes MOT results that `camtrack eval` scores like the in-process run (sort)', () => {
    const bin = path.join(repoRoot, 'bin', 'camtrack.js');
    const res = path.join(tmp(), 'sort.txt');
    const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
    const tr = run(['track', '--det', assetPath(TUD[0]!), '--out', res, '--tracker', 'sort']);
    expect(tr.stderr).toMatch(/sort: 321 detections → 261 track rows, 15 ids, 71 frames/);
    expect(tr.status).toBe(0);
    const lines = readFileSync(res, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(261);
    // First row of the reference sort.py run on the same file (%.2f boxes): frame 1, id 6.
    expect(lines[0]).toBe('1,6,136.72,190.03,41.27,176.15,1.00,-1,-1,-1');
    const ev = run(['eval', '--gt', assetPath(TUD[1]!), '--res', res, '--json']);
    expect(ev.status).toBe(0);
    const m = JSON.parse(ev.stdout) as { mota: number; idf1: number; hota: number; numSwitches: number };
    expect(Math.abs(m.mota - EXPECTED.sort.mota)).toBeLessThanOrEqual(RATIO_TOL);
    expect(Math.abs(m.idf1 - EXPECTED.sort.idf1)).toBeLessThanOrEqual(RATIO_TOL);
    expect(Math.abs(m.hota - EXPECTED.sort.hota)).toBeLessThanOrEqual(RATIO_TOL);
    expect(m.numSwitches).toBe(EXPECTED.sort.idsw);
    const bad = run(['track', '--det', assetPath(TUD[0]!), '--out', res, '--tracker', 'deepsort']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('tracker.type: Expected one of "bytetrack", "sort", "iou" but received "deepsort"');
  });
});
