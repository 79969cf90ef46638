import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { linearSumAssignment } from '../../src/eval/hungarian.js';
import { formatMotRows, parseMotFile, type MotRow } from '../../src/eval/mot-format.js';
import {
  MotAccumulator,
  boxIou,
  computeMotMetrics,
  evaluateHota,
  evaluateMot,
  type MotMetrics,
} from '../../src/eval/mot-metrics.js';
import { assetPath, describeWithAssets } from '../helpers/assets.js';

/**
 * py-motmetrics' own expected TUD-Campus row (motmetrics/tests/test_metrics.py::test_motchallenge_files,
 * commit 9d138d82; copied in /work/shared/assets/SOURCES.md), asserted there with atol 1e-3.
 */
const TUD_CAMPUS_EXPECTED: Partial<MotMetrics> = {
  idf1: 0.557659,
  idp: 0.72973,
  idr: 0.451253,
  recall: 0.582173,
  precision: 0.941441,
  numUniqueObjects: 8,
  mostlyTracked: 1,
  partiallyTracked: 6,
  mostlyLost: 1,
  numFalsePositives: 13,
  numMisses: 150,
  numSwitches: 7,
  numFragmentations: 7,
  mota: 0.526462,
  motp: 0.277201,
};
/** py-motmetrics motmetrics/tests/test_evaluator.py HOTA_GOLDEN for TUD-Campus (compared with pytest.approx). */
const TUD_CAMPUS_HOTA = { hota: 0.3913974378451139, detA: 0.418047030142763, assA: 0.36912068120832836 };
const TUD_GT_ROWS = 359;
const TUD_TEST_ROWS = 222;

describe('linearSumAssignment()', () => {
  it('finds the minimum-cost assignment of a square matrix', () => {
    const pairs = linearSumAssignment([
      [4, 1, 3],
      [2, 0, 5],
      [3, 2, 2],
    ]);
    expect(pairs).toEqual([
      { row: 0, col: 1 },
      { row: 1, col: 0 },
      { row: 2, col: 2 },
    ]);
  });

  it('handles rectangular matrices in both orientations', () => {
    expect(linearSumAssignment([[5, 1, 9, 0.5]])).toEqual([{ row: 0, col: 3 }]);
    expect(linearSumAssignment([[5], [1], [9], [0.5]])).toEqual([{ row: 3, col: 0 }]);
  });

  it('prefers more pairs over cheaper ones and never returns forbidden pairs', () => {
    // Pairing (0,0) alone costs 0.1, but (0,1)+(1,0) pairs both rows.
    const pairs = linearSumAssignment([
      [0.1, 0.4],
      [0.45, NaN],
    ]);
    expect(pairs).toEqual([
      { row: 0, col: 1 },
      { row: 1, col: 0 },
    ]);
    expect(linearSumAssignment([[NaN, Infinity]])).toEqual([]);
  });
});

describe('parseMotFile() / formatMotRows()', () => {
  it('parses comma and whitespace separated rows and round-trips', () => {
    const rows = parseMotFile('1,1,10.5,20,30,40,1,-1,-1,-1\n\n2 7 1 2 3 4\n');
    expect(rows).toEqual([
      { frame: 1, id: 1, x: 10.5, y: 20, w: 30, h: 40, conf: 1 },
      { frame: 2, id: 7, x: 1, y: 2, w: 3, h: 4, conf: -1 },
    ]);
    expect(parseMotFile(formatMotRows(rows))).toEqual(rows);
    expect(formatMotRows(rows, { decimals: 2 }).split('\n')[0]).toBe('1,1,10.50,20.00,30.00,40.00,1.00,-1,-1,-1');
  });

  it('gives a line without a conf column missingConf (default -1), a written conf stays as written', () => {
    const text = '1,1,1,2,3,4\n1,2,1,2,3,4,-1\n1,3,1,2,3,4,0\n';
    expect(parseMotFile(text).map((r) => r.conf)).toEqual([-1, -1, 0]);
    expect(parseMotFile(text, { missingConf: NaN }).map((r) => r.conf)).toEqual([NaN, -1, 0]);
  });

  it('BAD CALL - rejects a short line with its line number', () => {
    expect(() => parseMotFile('1,1,2,3,4,5\n1,2,3')).toThrow(/line 2/);
  });
});

describe('MotAccumulator', () => {
  // The next two cases are py-motmetrics' test_mota_motp and test_ids with their expected values.
  it('counts matches, switches, misses and FPs, and keeps previous pairs over better new ones', () => {
    const acc = new MotAccumulator();
    acc.update([], [1, 2], [], 0);
    acc.update([1, 2], [], [], 1);
    acc.update([1, 2], [1, 2], [[1, 0.5], [0.3, 1]], 2);
    acc.update([1, 2], [1, 2], [[0.2, NaN], [NaN, 0.1]], 3);
    acc.update([1, 2], [1, 2], [[5, 1], [1, 5]], 4);
    acc.update([], [], [], 5);
    const m = computeMotMetrics(acc);
    expect(m.numMatches).toBe(4);
    expect(m.numFalsePositives).toBe(2);
    expect(m.numMisses).toBe(2);
    expect(m.numSwitches).toBe(2);
    expect(m.numDetections).toBe(6);
    expect(m.numObjects).toBe(8);
    expect(m.numPredictions).toBe(8);
    expect(m.mota).toBeCloseTo(1 - 6 / 8, 12);
    expect(m.motp).toBeCloseTo(11.1 / 6, 12);
    expect(m.numFrames).toBe(6);
  });

  it('counts transfers, ascends and migrates', () => {
    const acc = new MotAccumulator();
    acc.update([], [], [], 0);
    acc.update([1, 2], [1, 2], [[1, 0], [0, 1]], 1);
    acc.update([1, 2], [1, 2], [[0.4, NaN], [NaN, 0.4]], 2);
    acc.update([1, 2], [1, 2], [[0, 1], [1, 0]], 3);
    acc.update([1, 2], [2, 3], [[1, 0], [0.4, 0.7]], 4);
    acc.update([1, 3], [2, 3], [[1, 0], [0.4, 0.7]], 5);
    acc.update([], [], [], 6);
    const m = computeMotMetrics(acc);
    expect(m.numMatches).toBe(7);
    expect(m.numSwitches).toBe(3);
    expect(m.numTransfer).toBe(3);
    expect(m.numAscend).toBe(1);
    expect(m.numMigrate).toBe(1);
    expect(m.numFalsePositives).toBe(0);
    expect(m.numMisses).toBe(0);
    expect(m.mota).toBeCloseTo(0.7, 12);
    expect(m.motp).toBeCloseTo(0.16, 12);
    expect(m.numFrames).toBe(7);
  });

  it('counts a fragmentation for each tracked → missed transition inside the tracked span', () => {
    const acc = new MotAccumulator();
    const seen = [false, true, false, false, true, false, true, false];
    seen.forEach((s, f) => acc.update([1], s ? [9] : [], s ? [[0]] : [], f));
    const m = computeMotMetrics(acc);
    expect(m.numFragmentations).toBe(2);
    expect(m.numSwitches).toBe(0);
    expect(m.partiallyTracked).toBe(1);
  });
});

describe('evaluateMot()', () => {
  const box = (frame: number, id: number, x: number): MotRow => ({ frame, id, x, y: 0, w: 10, h: 10, conf: 1 });

  it('scores a perfect tracker with MOTA 1, IDF1 1 and MOTP 0', () => {
    const gt = [1, 2, 3, 4].flatMap((f) => [box(f, 1, f * 2), box(f, 2, 100 + f)]);
    const hyp = gt.map((r) => ({ ...r, id: r.id + 40, conf: -1 }));
    const m = evaluateMot(gt, hyp);
    expect(m.mota).toBe(1);
    expect(m.idf1).toBe(1);
    expect(m.motp).toBe(0);
    expect(m.numSwitches).toBe(0);
    expect(m.mostlyTracked).toBe(2);
    const h = evaluateHota(gt, hyp);
    expect(h.hota).toBeCloseTo(1, 12);
    expect(h.detA).toBeCloseTo(1, 12);
    expect(h.assA).toBeCloseTo(1, 12);
  });

  it('counts one id swap as two switches (both objects change hypothesis) and lowers IDF1', () => {
    // Frames 1-3: hyp 7 follows object 1, hyp 8 object 2; frames 4-6 the hypothesis ids are exchanged.
    const gt = [1, 2, 3, 4, 5, 6].flatMap((f) => [box(f, 1, 0), box(f, 2, 50)]);
    const hyp = gt.map((r) => ({ ...r, id: (r.frame <= 3) === (r.id === 1) ? 7 : 8 }));
    const m = evaluateMot(gt, hyp);
    expect(m.numSwitches).toBe(2);
    expect(m.numMisses).toBe(0);
    expect(m.numFalsePositives).toBe(0);
    expect(m.mota).toBeCloseTo(1 - 2 / 12, 12);
    expect(m.idtp).toBe(6);
    expect(m.idf1).toBeCloseTo(0.5, 12);
  });

  it('counts one switch when a single object changes track id', () => {
    const gt = [1, 2, 3, 4].map((f) => box(f, 1, 0));
    const hyp = gt.map((r) => ({ ...r, id: r.frame <= 2 ? 3 : 4 }));
    const m = evaluateMot(gt, hyp);
    expect(m.numSwitches).toBe(1);
    expect(m.idf1).toBeCloseTo(0.5, 12);
  });

  it('does not match below the IoU threshold', () => {
    expect(boxIou({ x: 0, y: 0, w: 10, h: 10 }, { x: 5, y: 0, w: 10, h: 10 })).toBeCloseTo(1 / 3, 12);
    const m = evaluateMot([box(1, 1, 0)], [box(1, 5, 5)]);
    expect(m.numMisses).toBe(1);
    expect(m.numFalsePositives).toBe(1);
    expect(evaluateMot([box(1, 1, 0)], [box(1, 5, 5)], { iouThreshold: 0.3 }).numMisses).toBe(0);
  });
});

describe('evaluateMot() / evaluateHota() minGtConfidence', () => {
  const row = (frame: number, id: number, x: number, conf: number): MotRow => ({ frame, id, x, y: 0, w: 10, h: 10, conf });
  // Object 1 (considered) frames 1-6, followed by hyp 7 then 8 (one switch); object 2 flagged 0 (ignored) frames
  // 1-6, never tracked; object 3 considered in frames 1-3, flagged 0 in frames 4-6, tracked by hyp 10 in frames 1-3.
  const GT = [1, 2, 3, 4, 5, 6].flatMap((f) => [row(f, 1, 0, 1), row(f, 2, 100, 0), row(f, 3, 200, f <= 3 ? 1 : 0)]);
  const HYP = [1, 2, 3, 4, 5, 6].flatMap((f) => [row(f, f <= 4 ? 7 : 8, 0, -1), ...(f <= 3 ? [row(f, 10, 200, -1)] : [])]);
  const GT_CONSIDERED = GT.filter((r) => r.conf !== 0); // the flagged rows removed by hand: 9 rows

  it('drops gt rows below the threshold from MOT metrics and HOTA, exactly as removing them by hand', () => {
    const byHand = evaluateMot(GT_CONSIDERED, HYP);
    const m = evaluateMot(GT, HYP, { minGtConfidence: 1 });
    expect(m).toEqual(byHand);
    expect(m).toMatchObject({ numObjects: 9, numMisses: 0, numSwitches: 1, numFalsePositives: 0 });
    expect(m.mota).toBeCloseTo(8 / 9, 12);
    expect(m.idf1).toBeCloseTo(14 / 18, 12);
    expect(evaluateHota(GT, HYP, { minGtConfidence: 1 })).toEqual(evaluateHota(GT_CONSIDERED, HYP));
    // Kept, the 0-flagged rows are 9 misses.
    const all = evaluateMot(GT, HYP);
    expect(all).toMatchObject({ numObjects: 18, numMisses: 9 });
    expect(all.mota).toBeCloseTo(1 - 10 / 18, 12);
    expect(evaluateHota(GT, HYP).hota).toBeLessThan(evaluateHota(GT_CONSIDERED, HYP).hota - 0.1);
  });

  it('keeps gt rows without a conf (NaN: no conf column) whatever the threshold', () => {
    const noConf = GT_CONSIDERED.map((r) => ({ ...r, conf: NaN }));
    expect(evaluateMot(noConf, HYP, { minGtConfidence: 1 })).toEqual(evaluateMot(GT_CONSIDERED, HYP));
    expect(evaluateHota(noConf, HYP, { minGtConfidence: 1 })).toEqual(evaluateHota(GT_CONSIDERED, HYP));
  });
});

describe('evaluateHota() LocA', () => {
  const box = (frame: number, id: number, x: number): MotRow => ({ frame, id, x, y: 0, w: 10, h: 10, conf: 1 });

  it('is 1 for an alpha without matches, as TrackEval (max(1e-10, LocA) / max(1e-10, TP))', () => {
    // IoU 1/3: a match for alpha 0.05..0.30 (6 thresholds), none for 0.35..0.95 (13).
    const h = evaluateHota([box(1, 1, 0)], [box(1, 5, 5)]);
    expect(h.locAPerAlpha.slice(0, 6).every((v) => Math.abs(v - 1 / 3) < 1e-12)).toBe(true);
    expect(h.locAPerAlpha.slice(6)).toEqual(Array(13).fill(1));
    expect(h.locA).toBeCloseTo((6 / 3 + 13) / 19, 12);
    // No overlap at all: no alpha has a match.
    const none = evaluateHota([box(1, 1, 0)], [box(1, 5, 50)]);
    expect(none.locA).toBe(1);
    expect(none.hota).toBe(0);
  });
});

describeWithAssets('evaluateMot() / evaluateHota() on TUD-Campus', ['mot/TUD-Campus/gt.txt', 'mot/TUD-Campus/test.txt'], () => {
  it('matches py-motmetrics\' expected row within 1e-3', () => {
    const gt = parseMotFile(readFileSync(assetPath('mot/TUD-Campus/gt.txt'), 'utf8'));
    const hyp = parseMotFile(readFileSync(assetPath('mot/TUD-Campus/test.txt'), 'utf8'));
    expect(gt).toHaveLength(TUD_GT_ROWS);
    expect(hyp).toHaveLength(TUD_TEST_ROWS);
    const m = evaluateMot(gt, hyp, { iouThreshold: 0.5 });
    for (const [key, want] of Object.entries(TUD_CAMPUS_EXPECTED)) {
      const got = m[key as keyof MotMetrics];
      expect(Math.abs(got - (want as number)), `${key}: got ${got}, want ${want}`).toBeLessThanOrEqual(1e-3);
    }
    expect(m.numObjects).toBe(TUD_GT_ROWS);
    expect(m.numPredictions).toBe(TUD_TEST_ROWS);
  });

  it('matches py-motmetrics\' HOTA, DetA and AssA (mean over alpha 0.05..0.95)', () => {
    const gt = parseMotFile(readFileSync(assetPath('mot/TUD-Campus/gt.txt'), 'utf8'));
    const hyp = parseMotFile(readFileSync(assetPath('mot/TUD-Campus/test.txt'), 'utf8'));
    const h = evaluateHota(gt, hyp);
    expect(h.alphas).toHaveLength(19);
    expect(h.hota).toBeCloseTo(TUD_CAMPUS_HOTA.hota, 6);
    expect(h.detA).toBeCloseTo(TUD_CAMPUS_HOTA.detA, 6);
    expect(h.assA).toBeCloseTo(TUD_CAMPUS_HOTA.assA, 6);
  });

  it('gives the same results with minGtConfidence 1 (every TUD-Campus gt row is flagged 1), as `camtrack eval` runs', () => {
    const gt = parseMotFile(readFileSync(assetPath('mot/TUD-Campus/gt.txt'), 'utf8'), { missingConf: NaN });
    const hyp = parseMotFile(readFileSync(assetPath('mot/TUD-Campus/test.txt'), 'utf8'));
    expect(evaluateMot(gt, hyp, { minGtConfidence: 1 })).toEqual(evaluateMot(gt, hyp));
    expect(evaluateHota(gt, hyp, { minGtConfidence: 1 })).toEqual(evaluateHota(gt, hyp));
  });
});
