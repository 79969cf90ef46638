/**
 * Analytics options (AnalyticsOptionsSchema, src/config/schema.ts) validated and completed, plus the rules a schema
 * cannot say: ids unique, a line with two distinct points, a direction not parallel to its line, a polygon with an
 * area that does not cross itself, homography points with no three on a line, pixelsPerMeter or homography. Then the
 * native form (native/binding/analytics_convert.h). The native core checks the geometry again (analytics_test.cpp).
 */
import type { Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

import { ConfigError } from '../errors.js';
import { fail, isObject } from '../validate.js';
import { checkAgainst } from './index.js';
import { AnalyticsOptionsSchema, type Input } from './schema.js';

export type AnalyticsOptions = Input<Static<typeof AnalyticsOptionsSchema>>;
export type NormalisedAnalytics = Static<typeof AnalyticsOptionsSchema>;
type XY = readonly [number, number];

/** The config as NativeAnalytics and the pipeline's analytics stage take it (every field present). */
export interface NativeAnalyticsConfig {
  lines: { id: string; start: XY; end: XY; anchors: string[]; minCrossingFrames: number; direction: number[] }[];
  zones: {
    id: string;
    polygon: number[];
    anchor: string;
    classes: number[];
    enterFrames: number;
    exitFrames: number;
    loiterMs: number;
    maxOccupancy: number;
  }[];
  speed: { enabled: boolean; anchor: string; smoothing: number; pixelsPerMeter: number; homography: number[]; limit: number };
  usePredicted: boolean;
  forgetFrames: number;
}

const cross = (a: XY, b: XY, p: XY) => (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
const sign = (v: number) => (v > 0 ? 1 : v < 0 ? -1 : 0);
const within = (a: XY, b: XY, p: XY) =>
  Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1]);

function segmentsMeet(p1: XY, p2: XY, q1: XY, q2: XY): boolean {
  const o1 = sign(cross(p1, p2, q1)), o2 = sign(cross(p1, p2, q2)), o3 = sign(cross(q1, q2, p1)), o4 = sign(cross(q1, q2, p2));
  if (o1 !== o2 && o3 !== o4) return true;
  return (o1 === 0 && within(p1, p2, q1)) || (o2 === 0 && within(p1, p2, q2)) || (o3 === 0 && within(q1, q2, p1)) || (o4 === 0 && within(q1, q2, p2));
}

/** True when non-adjacent edges of the closed polygon meet, a vertex repeats, or adjacent edges fold back. */
export function polygonSelfIntersects(poly: readonly XY[]): boolean {
  const n = poly.length;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (poly[i]![0] === poly[j]![0] && poly[i]![1] === poly[j]![1]) return true;
  for (let i = 0; i < n; i++) {
    const a1 = poly[i]!, a2 = poly[(i + 1) % n]!;
    for (let j = i + 1; j < n; j++) {
      const b1 = poly[j]!, b2 = poly[(j + 1) % n]!;
      if (j === i + 1 || (i === 0 && j === n - 1)) {
        const [shared, pa, pb] = j === i + 1 ? [a2, a1, b2] : [a1, a2, b1];
        if (cross(pa, shared, pb) === 0 && (pb[0] - shared[0]) * (pa[0] - shared[0]) + (pb[1] - shared[1]) * (pa[1] - shared[1]) > 0) return true;
        continue;
      }
      if (segmentsMeet(a1, a2, b1, b2)) return true;
    }
  }
  return false;
}

function area2(poly: readonly XY[]): number {
  let s = 0;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) s += poly[j]![0] * poly[i]![1] - poly[i]![0] * poly[j]![1];
  return s;
}

function noThreeCollinear(points: readonly XY[]): boolean {
  for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) for (let k = j + 1; k < 4; k++) if (cross(points[i]!, points[j]!, points[k]!) === 0) return false;
  return true;
}

function checkUnique(ids: string[], path: string): void {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) throw new ConfigError(`${path}[${i}].id`, `Duplicate id ${JSON.stringify(id)}`, 'give every line and zone its own id');
    seen.add(id);
  });
}

/**
 * Validates analytics options (`path` prefixes the field names in errors) and fills the defaults.
 * @throws ConfigError naming the first bad field (a degenerate line: `<path>.lines[i].end`; a self-intersecting
 * polygon: `<path>.zones[i].polygon`).
 */
export function normaliseAnalytics(input: unknown, path = 'analytics'): NormalisedAnalytics {
  const v = input ?? {};
  if (!isObject(v)) fail(path, 'object with lines, zones, speed', v);
  checkAgainst(AnalyticsOptionsSchema, v, path);
  const a = Value.Default(AnalyticsOptionsSchema, Value.Clone(v)) as NormalisedAnalytics;
  checkUnique(a.lines.map((l) => l.id), `${path}.lines`);
  checkUnique(a.zones.map((z) => z.id), `${path}.zones`);
  a.lines.forEach((l, i) => {
    const at = `${path}.lines[${i}]`;
    if (Math.hypot(l.end[0] - l.start[0], l.end[1] - l.start[1]) < 1e-6) {
      throw new ConfigError(`${at}.end`, 'start and end are the same point (a degenerate line)', 'give two distinct points');
    }
    if (l.direction) {
      const d: XY = [l.direction[1][0] - l.direction[0][0], l.direction[1][1] - l.direction[0][1]];
      if (Math.abs(cross([0, 0], [l.end[0] - l.start[0], l.end[1] - l.start[1]], d)) < 1e-9 * (1 + Math.hypot(d[0], d[1]))) {
        throw new ConfigError(`${at}.direction`, 'the direction is parallel to the line (or zero)', 'give a vector that points from one side of the line to the other');
      }
    }
  });
  a.zones.forEach((z, i) => {
    const at = `${path}.zones[${i}].polygon`;
    if (Math.abs(area2(z.polygon)) < 1e-9) throw new ConfigError(at, 'the polygon has no area (all points on one line)');
    if (polygonSelfIntersects(z.polygon)) {
      throw new ConfigError(at, 'the polygon intersects itself (or repeats a point)', 'list the vertices in order around the zone, without crossing edges');
    }
  });
  if (a.speed?.homography) {
    const { image, ground } = a.speed.homography;
    if (!noThreeCollinear(image)) throw new ConfigError(`${path}.speed.homography.image`, 'three of the four points are on one line');
    if (!noThreeCollinear(ground)) throw new ConfigError(`${path}.speed.homography.ground`, 'three of the four points are on one line');
    if (a.speed.pixelsPerMeter !== undefined) {
      throw new ConfigError(`${path}.speed.pixelsPerMeter`, 'Give either pixelsPerMeter or homography, not both');
    }
  }
  return a;
}

/** Tracks not seen for this many frames (and inside no zone) are forgotten: 30 s at 30 fps, and ≥ every exitFrames. */
const FORGET_FRAMES = 900;

export function toNativeAnalytics(a: NormalisedAnalytics): NativeAnalyticsConfig {
  const speed = a.speed ? Value.Default(AnalyticsOptionsSchema.properties.speed, Value.Clone(a.speed)) as NonNullable<NormalisedAnalytics['speed']> : undefined;
  return {
    lines: a.lines.map((l) => ({
      id: l.id,
      start: l.start,
      end: l.end,
      anchors: [...l.anchors],
      minCrossingFrames: l.minCrossingFrames,
      direction: l.direction ? [...l.direction[0], ...l.direction[1]] : [],
    })),
    zones: a.zones.map((z) => ({
      id: z.id,
      polygon: z.polygon.flat(),
      anchor: z.anchor,
      classes: z.classes ?? [],
      enterFrames: z.enterFrames,
      exitFrames: z.exitFrames,
      loiterMs: Math.round(z.loiterSeconds * 1000),
      maxOccupancy: z.maxOccupancy,
    })),
    speed: {
      enabled: speed !== undefined,
      anchor: speed?.anchor ?? 'bottom-center',
      smoothing: speed?.smoothing ?? 0.3,
      pixelsPerMeter: speed?.pixelsPerMeter ?? 0,
      homography: speed?.homography ? [...speed.homography.image.flat(), ...speed.homography.ground.flat()] : [],
      limit: speed?.limit ?? 0,
    },
    usePredicted: a.usePredicted,
    forgetFrames: Math.max(FORGET_FRAMES, ...a.zones.map((z) => z.exitFrames + 1)),
  };
}
