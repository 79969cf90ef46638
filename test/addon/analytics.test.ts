/**
 * The standalone Analytics on the built package (dist/ + build/Release/camtrack.node): table-driven synthetic
 * trajectories, one per pain point of issue 13, config errors (ConfigError with the field's path), and agreement
 * with supervision's LineZone on its own published test trajectories.
 */
import { describe, expect, it } from 'vitest';

import { Analytics, CamtrackError, ConfigError, type AnalyticsOptions, type AnalyticsTrackInput } from '../../dist/index.js';

/** A 20 × 40 box whose bottom-centre is (x, y). */
const at = (trackId: number, x: number, y: number, classId = 0): AnalyticsTrackInput => ({ trackId, classId, x1: x - 10, y1: y - 40, x2: x + 10, y2: y });
const HLINE = { id: 'l', start: [0, 100] as [number, number], end: [200, 100] as [number, number] };

function play(a: Analytics, frames: AnalyticsTrackInput[][], dtMs = 100) {
  const counts = { in: 0, out: 0, enter: 0, exit: 0, loiter: 0, overcrowd: 0, speed: 0 };
  let last = a.update([], { tsMs: 0 });
  frames.forEach((f, i) => {
    last = a.update(f, { tsMs: (i + 1) * dtMs });
    for (const e of last.events) {
      if (e.type === 'line-cross') counts[e.direction]++;
      else if (e.type === 'zone-enter') counts.enter++;
      else if (e.type === 'zone-exit') counts.exit++;
      else counts[e.type]++;
    }
  });
  return { counts, last };
}
const ys = (values: number[], id = 1, cls = 0) => values.map((y) => [at(id, 100, y, cls)]);

describe('Analytics: lines, the pain points of issue 13', () => {
  const cases: { what: string; line?: Partial<AnalyticsOptions['lines'] extends (infer L)[] | undefined ? L : never>; frames: AnalyticsTrackInput[][]; in: number; out: number }[] = [
    { what: 'clean crossing upwards (onto the left of start→end) is in', frames: ys([150, 130, 110, 90, 70]), in: 1, out: 0 },
    { what: 'downwards is out', frames: ys([50, 70, 110, 130]), in: 0, out: 1 },
    { what: 'flickering box near the line (supervision PR #1540) never counts', frames: ys([110, 95, 105, 97, 103, 96, 104]), in: 0, out: 0 },
    { what: 'stop-and-go on the line (opendatacam#204) counts once', frames: ys([130, 120, ...Array(14).fill(0).map((_, i) => (i % 2 ? 99 : 101)), 80, 60]), in: 1, out: 0 },
    { what: 'unconfirmed tracks (id -1, supervision#2578) never count', frames: [150, 130, 90, 70].map((y) => [at(-1, 100, y), at(-1, 50, 250 - y)]), in: 0, out: 0 },
    { what: 'a line at the frame edge counts with the default bottom-center (supervision#1838)', frames: ys([80, 90, 101, 104, 104]), in: 0, out: 1 },
    {
      what: 'the same with four corners never counts',
      line: { anchors: ['top-left', 'top-right', 'bottom-left', 'bottom-right'] },
      frames: ys([80, 90, 101, 104, 104]),
      in: 0,
      out: 0,
    },
    {
      what: "around the segment's end and across its extension: not a crossing",
      frames: [[at(1, 100, 60)], [at(1, 100, 60)], [at(1, 300, 60)], [at(1, 300, 150)], [at(1, 100, 150)], [at(1, 100, 150)]],
      in: 0,
      out: 0,
    },
    { what: 'outside the perpendicular limits of the segment', frames: [150, 130, 90, 70].map((y) => [at(1, 300, y)]), in: 0, out: 0 },
    { what: 'minCrossingFrames 1 counts a one-frame crossing', line: { minCrossingFrames: 1 }, frames: ys([110, 95]), in: 1, out: 0 },
    { what: 'a direction vector pointing down makes downwards "in"', line: { direction: [[100, 50], [100, 150]] }, frames: ys([50, 70, 110, 130]), in: 1, out: 0 },
    {
      what: 'NaN boxes are ignored',
      frames: [...ys([150, 130]), [{ trackId: 1, x1: NaN, y1: 0, x2: 1, y2: 1 }], ...ys([90, 70])],
      in: 1,
      out: 0,
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const a = new Analytics({ lines: [{ ...HLINE, ...c.line }] });
      const { counts, last } = play(a, c.frames);
      expect({ in: counts.in, out: counts.out }).toEqual({ in: c.in, out: c.out });
      expect({ in: last.lines.l!.in, out: last.lines.l!.out }).toEqual({ in: c.in, out: c.out });
    });
  }

  it('counts per class, the class a track had while crossing; a reused id of another class starts afresh (supervision PR #1868)', () => {
    const a = new Analytics({ lines: [HLINE] });
    const { last } = play(a, [...ys([150, 130, 90, 70], 1, 2), ...ys([70, 90, 110, 130], 1, 7)]);
    expect(last.lines.l!.perClass).toEqual([
      { classId: 2, in: 1, out: 0 },
      { classId: 7, in: 0, out: 1 },
    ]);
  });

  it('crossedIn / crossedOut name the tracks of the frame', () => {
    const a = new Analytics({ lines: [{ ...HLINE, minCrossingFrames: 1 }] });
    a.update([at(4, 50, 150), at(5, 150, 50)], { tsMs: 0 });
    const f = a.update([at(4, 50, 50), at(5, 150, 150)], { tsMs: 40 });
    expect(f.lines.l).toMatchObject({ crossedIn: [4], crossedOut: [5], in: 1, out: 1 });
    expect(f.events).toEqual([
      { type: 'line-cross', line: 'l', trackId: 4, classId: 0, direction: 'in', tsMs: 40 },
      { type: 'line-cross', line: 'l', trackId: 5, classId: 0, direction: 'out', tsMs: 40 },
    ]);
  });

  it('frames not inferred are skipped unless usePredicted', () => {
    for (const usePredicted of [false, true]) {
      const a = new Analytics({ lines: [HLINE], usePredicted });
      let n = 0;
      [150, 130, 90, 70].forEach((y, i) => (n += a.update([at(1, 100, y)], { tsMs: i * 100, inferred: i < 2 }).lines.l!.crossedIn.length));
      expect(n).toBe(usePredicted ? 1 : 0);
    }
  });
});

describe('Analytics: zones', () => {
  const square = { id: 'z', polygon: [[0, 0], [100, 0], [100, 100], [0, 100]] as [number, number][] };
  const inside = (id = 1, cls = 0) => [at(id, 50, 50, cls)];
  const outside = [at(1, 150, 50)];
  const cases: { what: string; zone?: object; frames: AnalyticsTrackInput[][]; enter: number; exit: number; occupancy: number }[] = [
    { what: 'enterFrames 3 (default): a 2-frame visit is no visit', frames: [inside(), inside(), outside, outside], enter: 0, exit: 0, occupancy: 0 },
    { what: 'three frames inside enter', frames: [inside(), inside(), inside()], enter: 1, exit: 0, occupancy: 1 },
    {
      what: 'detection dropping for a few frames does not flip presence (frigate#238)',
      frames: [inside(), inside(), inside(), [], inside(), [], [], inside()],
      enter: 1,
      exit: 0,
      occupancy: 1,
    },
    {
      what: 'occluded inside for fewer than exitFrames stays counted (supervision#1855)',
      zone: { exitFrames: 10 },
      frames: [inside(), inside(), inside(), ...Array(9).fill([])],
      enter: 1,
      exit: 0,
      occupancy: 1,
    },
    { what: 'gone for exitFrames frames exits', zone: { exitFrames: 4, enterFrames: 1 }, frames: [inside(), [], [], [], []], enter: 1, exit: 1, occupancy: 0 },
    { what: 'class filter', zone: { classes: [3], enterFrames: 1 }, frames: [inside(1, 0), inside(2, 3)], enter: 1, exit: 0, occupancy: 1 },
    {
      what: 'concave zone: the notch is outside',
      zone: { polygon: [[0, 0], [40, 0], [40, 60], [60, 60], [60, 0], [100, 0], [100, 100], [0, 100]], enterFrames: 1 },
      frames: [[at(1, 50, 30)], [at(1, 50, 30)], [at(2, 20, 30)]],
      enter: 1,
      exit: 0,
      occupancy: 1,
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const a = new Analytics({ zones: [{ ...square, ...c.zone }] });
      const { counts, last } = play(a, c.frames);
      expect({ enter: counts.enter, exit: counts.exit, occupancy: last.zones.z!.occupancy }).toEqual({
        enter: c.enter,
        exit: c.exit,
        occupancy: c.occupancy,
      });
    });
  }

  it('dwell and loiter from the timestamps (once per visit), overcrowding with hysteresis', () => {
    const a = new Analytics({ zones: [{ ...square, enterFrames: 1, loiterSeconds: 1, maxOccupancy: 1 }] });
    const ts = [1000, 1400, 2100, 2500];
    const frames = ts.map((t) => a.update([at(1, 50, 50), at(2, 60, 60)], { tsMs: t }));
    expect(frames.flatMap((f) => f.events.map((e) => e.type))).toEqual(['zone-enter', 'zone-enter', 'overcrowd', 'loiter', 'loiter']);
    expect(frames[3]!.memberships).toEqual([
      { trackId: 1, zone: 'z', dwellSeconds: 1.5 },
      { trackId: 2, zone: 'z', dwellSeconds: 1.5 },
    ]);
  });

  it('speed in px/s and m/s, heading in degrees, one event per excursion over the limit', () => {
    const a = new Analytics({ speed: { pixelsPerMeter: 20, limit: 2, smoothing: 1 } });
    let f = a.update([at(1, 100, 200)], { tsMs: 0 });
    for (let i = 1; i <= 5; i++) f = a.update([at(1, 100, 200 + 10 * i)], { tsMs: i * 100 });
    expect(f.speeds).toEqual([{ trackId: 1, speed: 5, unit: 'm/s', directionDeg: 90 }]);
  });
});

describe('Analytics: config and input errors', () => {
  const bad: [string, unknown, string][] = [
    ['degenerate line', { lines: [{ id: 'a', start: [5, 5], end: [5, 5] }] }, 'analytics.lines[0].end'],
    ['self-intersecting polygon', { zones: [{ id: 'z', polygon: [[0, 0], [10, 10], [10, 0], [0, 10]] }] }, 'analytics.zones[0].polygon'],
    ['polygon without area', { zones: [{ id: 'z', polygon: [[0, 0], [5, 5], [10, 10]] }] }, 'analytics.zones[0].polygon'],
    ['unknown anchor', { lines: [{ ...HLINE, anchors: ['bottom'] }] }, 'analytics.lines[0].anchors'],
    ['duplicate ids', { lines: [HLINE, HLINE] }, 'analytics.lines[1].id'],
    ['NaN coordinate', { lines: [{ id: 'a', start: [NaN, 0], end: [5, 5] }] }, 'analytics.lines[0].start'],
    ['direction parallel to the line', { lines: [{ ...HLINE, direction: [[0, 0], [10, 0]] }] }, 'analytics.lines[0].direction'],
    ['unknown option', { lines: [{ ...HLINE, minCrossing: 3 }] }, 'analytics.lines[0].minCrossing'],
  ];
  for (const [what, options, path] of bad) {
    it(`${what} → ConfigError at ${path}`, () => {
      let err: unknown;
      try {
        new Analytics(options as AnalyticsOptions);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).path).toBe(path);
      expect((err as ConfigError).code).toBe('ERR_CAMTRACK_INVALID_CONFIG');
    });
  }
  it('malformed tracks and timestamps → ERR_CAMTRACK_INVALID_ARGUMENT', () => {
    const a = new Analytics({ lines: [HLINE] });
    for (const call of [
      () => a.update([{ trackId: 1.5, x1: 0, y1: 0, x2: 1, y2: 1 }], { tsMs: 0 }),
      () => a.update([{ trackId: 1, x1: '0' as unknown as number, y1: 0, x2: 1, y2: 1 }], { tsMs: 0 }),
      () => a.update([], { tsMs: NaN }),
      () => a.update(null as unknown as [], { tsMs: 0 }),
    ]) {
      expect(call).toThrow(CamtrackError);
      try {
        call();
      } catch (e) {
        expect((e as CamtrackError).code).toBe('ERR_CAMTRACK_INVALID_ARGUMENT');
      }
    }
    a.update([], { tsMs: 10 });
    expect(() => a.update([], { tsMs: 5 })).toThrow(/backwards/);
  });
});

/**
 * supervision's LineZone on its own published test trajectories: roboflow/supervision, test/detection/test_line_counter.py
 * at commit 7f7b25d7e72d44486596f5ffab188c8ef7da1a7c (2025-11-16). Facts only: each case's line, boxes per frame,
 * anchors, minimum_crossing_threshold and expected crossed-in / crossed-out per detection and frame (and the
 * cumulative counts where the test has them). Their tracker ids start at 0, which we treat as unconfirmed (≤ 0 is
 * never counted), so each id is given here + 1. With supervision's options (`anchors`: its, default the four
 * corners; `minCrossingFrames`: its threshold, default 1) our crossings equal theirs case by case.
 */
type Box4 = [number, number, number, number];
interface SvCase {
  name: string;
  line: [[number, number], [number, number]];
  anchors?: string[];
  threshold?: number;
  frames: Box4[][];
  crossedIn: boolean[][];
  crossedOut: boolean[][];
  countIn?: number[];
  countOut?: number[];
}
const CORNERS = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];
const one = (boxes: Box4[]) => boxes.map((b) => [b]);
const col = (v: boolean[]) => v.map((x) => [x]);
const F = false, T = true;
const UP: Box4 = [4, -6, 6, -4], DOWN: Box4 = [4, 4, 6, 6];
const SUPERVISION_CASES: SvCase[] = [
  // test_line_zone_one_detection_default_anchors
  { name: 'vertical line', line: [[0, 0], [0, 10]], frames: one([[4, 4, 6, 6], [-6, 4, -4, 6], [4, 4, 6, 6], [-6, 4, -4, 6]]), crossedIn: col([F, F, T, F]), crossedOut: col([F, T, F, T]) },
  { name: 'vertical line reversed', line: [[0, 10], [0, 0]], frames: one([[4, 4, 6, 6], [-6, 4, -4, 6], [4, 4, 6, 6], [-6, 4, -4, 6]]), crossedIn: col([F, T, F, T]), crossedOut: col([F, F, T, F]) },
  { name: 'horizontal line', line: [[0, 0], [10, 0]], frames: one([DOWN, UP, DOWN, UP]), crossedIn: col([F, T, F, T]), crossedOut: col([F, F, T, F]) },
  { name: 'horizontal line reversed', line: [[10, 0], [0, 0]], frames: one([DOWN, UP, DOWN, UP]), crossedIn: col([F, F, T, F]), crossedOut: col([F, T, F, T]) },
  { name: 'diagonal line', line: [[5, 0], [0, 5]], frames: one([[0, 0, 2, 2], [10, 10, 12, 12], [0, 0, 2, 2], [10, 10, 12, 12]]), crossedIn: col([F, T, F, T]), crossedOut: col([F, F, T, F]) },
  { name: 'crossing beside, right', line: [[0, 0], [10, 0]], frames: one([[20, 4, 24, 6], [20, -6, 24, -4], [20, 4, 24, 6], [20, -6, 24, -4]]), crossedIn: col([F, F, F, F]), crossedOut: col([F, F, F, F]) },
  { name: 'far away (1e32)', line: [[0, 0], [10, 0]], frames: one([[4, 1e32, 6, 1e32 + 2], [4, -1e32, 6, -1e32 + 2], [4, 1e32, 6, 1e32 + 2], [4, -1e32, 6, -1e32 + 2]]), crossedIn: col([F, T, F, T]), crossedOut: col([F, F, T, F]) },
  { name: 'crossing beside, left', line: [[0, 0], [10, 0]], frames: one([[-20, 4, -24, 6], [-20, -6, -24, -4], [-20, 4, -24, 6], [-20, -6, -24, -4]]), crossedIn: col([F, F, F, F]), crossedOut: col([F, F, F, F]) },
  { name: 'move above', line: [[0, 0], [10, 0]], frames: one([[-4, 4, -2, 6], [16, 4, 18, 6], [-4, 4, -2, 6], [16, 4, 18, 6]]), crossedIn: col([F, F, F, F]), crossedOut: col([F, F, F, F]) },
  { name: 'move below', line: [[0, 0], [10, 0]], frames: one([[-4, -6, -2, -4], [16, -6, 18, -4], [-4, -6, -2, -4], [16, -6, 18, -4]]), crossedIn: col([F, F, F, F]), crossedOut: col([F, F, F, F]) },
  { name: 'into the line partway', line: [[0, 0], [10, 0]], frames: one([[4, 4, 6, 6], [9, 4, 11, 6], [4, 4, 6, 6], [9, 4, 11, 6]]), crossedIn: col([F, F, F, F]), crossedOut: col([F, F, F, F]) },
  { name: 'V from outside the limits', line: [[0, 0], [10, 0]], frames: one([[-3, 6, -1, 8], [4, -6, 6, -4], [11, 6, 13, 8]]), crossedIn: col([F, F, F]), crossedOut: col([F, F, F]) },
  { name: 'diagonal, within to outside', line: [[0, 0], [10, 0]], frames: one([[4, 1, 6, 3], [11, -19, 13, -17]]), crossedIn: col([F, F]), crossedOut: col([F, F]) },
  { name: 'diagonal, outside to within', line: [[0, 0], [10, 0]], frames: one([[11, 21, 13, 23], [4, -3, 6, -1]]), crossedIn: col([F, F]), crossedOut: col([F, F]) },
  { name: 'diagonal, outside to outside', line: [[0, 0], [10, 0]], frames: one([[-4, 4, -2, 8], [12, -4, 14, -6], [-4, 4, -2, 8], [12, -4, 14, -6]]), crossedIn: col([F, F, F, F]), crossedOut: col([F, F, F, F]) },
  // test_line_zone_one_detection
  ...(
    [
      ['scrape left, corners', [-2, 4, 2, 6], CORNERS, [F, F, F, F], [F, F, F, F]],
      ['scrape left, right anchors', [-2, 4, 2, 6], ['top-right', 'bottom-right'], [F, T, F, T], [F, F, T, F]],
      ['scrape left, center', [-2, 4, 2, 6], ['center'], [F, T, F, T], [F, F, T, F]],
      ['scrape right, corners', [8, 4, 12, 6], CORNERS, [F, F, F, F], [F, F, F, F]],
      ['scrape right, left anchors', [8, 4, 12, 6], ['top-left', 'bottom-left'], [F, T, F, T], [F, F, T, F]],
      ['scrape right, center', [8, 4, 12, 6], ['center'], [F, T, F, T], [F, F, T, F]],
      ['simple, center', [4, 4, 6, 6], ['center'], [F, T, F, T], [F, F, T, F]],
      ['simple, all nine anchors', [4, 4, 6, 6], ['center', 'center-left', 'center-right', 'top-center', 'top-left', 'top-right', 'bottom-left', 'bottom-center', 'bottom-right'], [F, T, F, T], [F, F, T, F]],
    ] as [string, Box4, string[], boolean[], boolean[]][]
  ).map(([name, b, anchors, i, o]): SvCase => {
    const up: Box4 = [b[0], b[1] - 10, b[2], b[3] - 10];
    return { name, line: [[0, 0], [10, 0]], anchors, frames: one([b, up, b, up]), crossedIn: col(i), crossedOut: col(o) };
  }),
  { name: 'scrape left, center, held', line: [[0, 0], [10, 0]], anchors: ['center'], frames: one([[-2, 4, 2, 6], [-2, -6, 2, -4], [-2, 4, 2, 6], [-2, -6, 2, -4], [-2, -6, 2, -4]]), crossedIn: col([F, T, F, T, F]), crossedOut: col([F, F, T, F, F]) },
  // test_line_zone_multiple_detections
  { name: 'one stays, one crosses', line: [[0, 0], [10, 0]], frames: [[DOWN, DOWN], [DOWN, UP], [DOWN, DOWN], [DOWN, UP]], crossedIn: [[F, F], [F, T], [F, F], [F, T]], crossedOut: [[F, F], [F, F], [F, T], [F, F]] },
  { name: 'both cross together', line: [[0, 0], [10, 0]], frames: [[DOWN, DOWN], [UP, UP], [DOWN, DOWN], [UP, UP]], crossedIn: [[F, F], [T, T], [F, F], [T, T]], crossedOut: [[F, F], [F, F], [T, T], [F, F]] },
  // test_line_zone_one_detection_long_horizon (anchor top-left)
  ...(
    [
      ['lingering, threshold 1', 1, [0, 1, 0, 1, 1], [F, T, F, T, F], [F, F, T, F, F]],
      ['lingering, threshold 2', 2, [0, 1, 0, 1, 1], [F, F, F, F, T], [F, F, F, F, F]],
      ['lingering long, threshold 2', 2, [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1], [...Array(12).fill(F), T], Array(13).fill(F)],
      ['longer cycle, threshold 4', 4, [0, 1, 0, 0, 0, 1, 1, 1, 1], [...Array(8).fill(F), T], Array(9).fill(F)],
    ] as [string, number, number[], boolean[], boolean[]][]
  ).map(([name, threshold, seq, i, o]): SvCase => ({
    name,
    line: [[0, 0], [10, 0]],
    anchors: ['top-left'],
    threshold,
    frames: one(seq.map((s): Box4 => (s ? [2, -6, 3, 6] : [2, 4, 3, 6]))),
    crossedIn: col(i),
    crossedOut: col(o),
  })),
  // test_line_zone_long_horizon_disappearing_detections (anchor top-left)
  ...(
    [
      ['disappears before crossing, threshold 1', 1, [[DOWN, DOWN, DOWN], [DOWN, UP, DOWN], [DOWN, DOWN], [DOWN, UP], [DOWN, UP]],
        [[F, F, F], [F, T, F], [F, F], [F, T], [F, F]], [[F, F, F], [F, F, F], [F, T], [F, F], [F, F]], [0, 1, 1, 2, 2], [0, 0, 1, 1, 1]],
      ['disappears right after crossing, threshold 1', 1, [[DOWN, DOWN, DOWN], [DOWN, UP, DOWN], [DOWN, DOWN, UP], [DOWN, UP], [DOWN, UP]],
        [[F, F, F], [F, T, F], [F, F, T], [F, T], [F, F]], [[F, F, F], [F, F, F], [F, T, F], [F, F], [F, F]], [0, 1, 2, 3, 3], [0, 0, 1, 1, 1]],
      ['disappears before crossing, threshold 2', 2, [[DOWN, DOWN, DOWN], [DOWN, UP, DOWN], [DOWN, DOWN], [DOWN, UP], [DOWN, UP]],
        [[F, F, F], [F, F, F], [F, F], [F, F], [F, T]], [[F, F, F], [F, F, F], [F, F], [F, F], [F, F]], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
      ['disappears right after crossing, threshold 2', 2, [[DOWN, DOWN, DOWN], [DOWN, UP, DOWN], [DOWN, DOWN, UP], [DOWN, UP], [DOWN, UP]],
        [[F, F, F], [F, F, F], [F, F, F], [F, F], [F, T]], [[F, F, F], [F, F, F], [F, F, F], [F, F], [F, F]], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
    ] as [string, number, Box4[][], boolean[][], boolean[][], number[], number[]][]
  ).map(([name, threshold, frames, crossedIn, crossedOut, countIn, countOut]): SvCase => ({
    name,
    line: [[0, 0], [10, 0]],
    anchors: ['top-left'],
    threshold,
    frames,
    crossedIn,
    crossedOut,
    countIn,
    countOut,
  })),
];

describe("Analytics agrees with supervision's LineZone on its published test cases", () => {
  for (const c of SUPERVISION_CASES) {
    it(c.name, () => {
      const a = new Analytics({ lines: [{ id: 'sv', start: c.line[0], end: c.line[1], anchors: c.anchors ?? CORNERS, minCrossingFrames: c.threshold ?? 1 }] });
      const gotIn: boolean[][] = [], gotOut: boolean[][] = [], countIn: number[] = [], countOut: number[] = [];
      c.frames.forEach((boxes, f) => {
        const tracks = boxes.map(([x1, y1, x2, y2], i) => ({ trackId: i + 1, x1, y1, x2, y2 }));
        const r = a.update(tracks, { tsMs: f * 33 }).lines.sv!;
        gotIn.push(tracks.map((t) => r.crossedIn.includes(t.trackId)));
        gotOut.push(tracks.map((t) => r.crossedOut.includes(t.trackId)));
        countIn.push(r.in);
        countOut.push(r.out);
      });
      expect({ in: gotIn, out: gotOut }).toEqual({ in: c.crossedIn, out: c.crossedOut });
      if (c.countIn) expect({ in: countIn, out: countOut }).toEqual({ in: c.countIn, out: c.countOut });
    });
  }
});
