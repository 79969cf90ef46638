/**
 * The standalone Tracker on the built package (dist/ + build/Release/camtrack.node): update()/events() behaviour
 * of each tracker type on hand-made boxes, input errors from the native layer, and `camtrack track` on the
 * shared TUD-Campus detections (abewley/sort's Faster R-CNN det.txt) scored against the MOT15 ground truth with
 * evaluateMot/evaluateHota. The expected metrics were measured with this code (docs/tracking.md); they guard against
 * regressions in association. SORT's output is additionally identical to the reference sort.py's (the native
 * test sort_reference_tud_campus checks its rows).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("[ERR_CAMTRACK_INVALID_ARGUMENT] option '--tracker <type>' argument 'deepsort' is invalid. Allowed choices are bytetrack, sort, iou.");
  });
});

/** `camtrack …` as a user runs it: exit status, stdout, stderr. */
function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'camtrack.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** Writes `lines` (one MOT row each) to a file in the test's temporary folder. */
function motFile(name: string, lines: string[]): string {
  const file = path.join(tmp(), name);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

describe('camtrack eval --min-gt-conf', () => {
  // MOT17-style gt (frame,id,x,y,w,h,consider,class,visibility): object 1 considered in frames 1-6; object 2 flagged
  // 0 (ignored) in frames 1-6; object 3 considered in frames 1-3, flagged 0 in 4-6. The result follows object 1
  // with id 7 then 8 (one switch) and object 3 in frames 1-3 with id 10; it never outputs the ignored boxes.
  const GT_LINES = [1, 2, 3, 4, 5, 6].flatMap((f) => [
    `${f},1,0,0,10,10,1,1,1`,
    `${f},2,100,0,10,10,0,7,1`,
    `${f},3,200,0,10,10,${f <= 3 ? 1 : 0},1,1`,
  ]);
  const RES_LINES = [1, 2, 3, 4, 5, 6].flatMap((f) => [
    `${f},${f <= 4 ? 7 : 8},0,0,10,10,1,-1,-1,-1`,
    ...(f <= 3 ? [`${f},10,200,0,10,10,1,-1,-1,-1`] : []),
  ]);
  /** With the 0-flagged rows removed by hand: 9 boxes, no miss, one switch. */
  const CONSIDERED = { numObjects: 9, numMisses: 0, numSwitches: 1, mota: 8 / 9, idf1: 14 / 18 };
  /** With them kept: 9 more boxes, all missed. */
  const ALL = { numObjects: 18, numMisses: 9, numSwitches: 1, mota: 1 - 10 / 18, idf1: 14 / 27 };

  type EvalJson = { numObjects: number; numMisses: number; numSwitches: number; mota: number; idf1: number; hota: number; detA: number; assA: number };
  const evalJson = (args: string[]): EvalJson => {
    const r = cli(['eval', ...args, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout) as EvalJson;
  };
  const expectMetrics = (got: EvalJson, want: typeof CONSIDERED): void => {
    expect(got).toMatchObject({ numObjects: want.numObjects, numMisses: want.numMisses, numSwitches: want.numSwitches });
    expect(got.mota).toBeCloseTo(want.mota, 12);
    expect(got.idf1).toBeCloseTo(want.idf1, 12);
  };

  it('by default leaves out gt rows flagged 0 (MOT and HOTA), exactly as removing them by hand', () => {
    const gt = motFile('gt-flags.txt', GT_LINES);
    const byHand = motFile('gt-considered.txt', GT_LINES.filter((l) => l.split(',')[6] !== '0'));
    const res = motFile('res-flags.txt', RES_LINES);
    const dflt = evalJson(['--gt', gt, '--res', res]);
    expectMetrics(dflt, CONSIDERED);
    expect(dflt).toEqual(evalJson(['--gt', byHand, '--res', res]));
    expect(dflt).toEqual(evalJson(['--gt', gt, '--res', res, '--min-gt-conf', '1']));
    // -1 keeps every row: the ignored boxes count as misses, and HOTA drops with them.
    const all = evalJson(['--gt', gt, '--res', res, '--min-gt-conf', '-1']);
    expectMetrics(all, ALL);
    expect(all.hota).toBeLessThan(dflt.hota - 0.1);
  });

  it('keeps the rows of a gt file without a conf column (absent is not 0)', () => {
    const noConf = motFile('gt-6col.txt', GT_LINES.filter((l) => l.split(',')[6] !== '0').map((l) => l.split(',').slice(0, 6).join(',')));
    const res = motFile('res-flags.txt', RES_LINES);
    const got = evalJson(['--gt', noConf, '--res', res]);
    expectMetrics(got, CONSIDERED);
    expect(got).toEqual(evalJson(['--gt', noConf, '--res', res, '--min-gt-conf', '-1']));
  });

  it('BAD CALL - --min-gt-conf outside -1..1 is ERR_CAMTRACK_INVALID_ARGUMENT, exit code 2', () => {
    const r = cli(['eval', '--gt', motFile('g.txt', GT_LINES), '--res', motFile('r.txt', RES_LINES), '--min-gt-conf', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[ERR_CAMTRACK_INVALID_ARGUMENT] Expected number between -1 and 1 for --min-gt-conf but received "2"');
  });
});

describe('camtrack track on a det file without scores', () => {
  /** One 40 x 100 box moving right, frames 1-5, six fields (no score column). */
  const DET6 = [1, 2, 3, 4, 5].map((f) => `${f},-1,${10 * f},0,40,100`);

  it('EXPECTED FAILURE - bytetrack is ERR_CAMTRACK_INVALID_ARGUMENT with a hint, not an empty result', () => {
    const det = motFile('det6.txt', DET6);
    const out = path.join(tmp(), 'det6-bytetrack.txt');
    const r = cli(['track', '--det', det, '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'camtrack track: [ERR_CAMTRACK_INVALID_ARGUMENT] bytetrack needs detection scores, but 5 of 5 detections have none (no conf column)',
    );
    expect(r.stderr).toMatch(/hint: add the score column .*--tracker sort or --tracker iou/);
    expect(existsSync(out)).toBe(false);
    // The same in-process, for rows parsed with missingConf NaN.
    const rows = parseMotFile(readFileSync(det, 'utf8'), { missingConf: NaN });
    expect(() => trackMotDetections(rows)).toThrow(expect.objectContaining({ code: 'ERR_CAMTRACK_INVALID_ARGUMENT' }));
  });

  it('sort and iou, which do not use scores, track it', () => {
    const det = motFile('det6.txt', DET6);
    for (const type of ['sort', 'iou']) {
      const out = path.join(tmp(), `det6-${type}.txt`);
      const r = cli(['track', '--det', det, '--out', out, '--tracker', type]);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`${type}: 5 detections → \\d+ track rows, 1 ids, 5 frames`));
      expect(readFileSync(out, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(3);
    }
  });
});

describe('camtrack track frame count', () => {
  it('reports the frames read from the det file, also when nothing is tracked', () => {
    // Scores 0.3: below ByteTrack's highThresh 0.6, so no track ever starts.
    const det = motFile('det-low.txt', [1, 2, 3, 4, 5, 6, 7, 8].map((f) => `${f},-1,${10 * f},0,40,100,0.3`));
    const r = cli(['track', '--det', det, '--out', path.join(tmp(), 'low.txt')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/bytetrack: 8 detections → 0 track rows, 0 ids, 8 frames in /);
  });
});
