/**
 * Standalone analytics for users who bring their own tracks: counting lines, zones (occupancy, dwell, loitering,
 * overcrowding) and speed — the same native engine (native/core/analytics) a pipeline stream runs after its tracker.
 * One instance per stream (it keeps every track's state and the cumulative counts).
 *
 *   const analytics = new Analytics({ lines: [{ id: 'door', start: [0, 400], end: [640, 400] }] });
 *   const frame = analytics.update(tracks, { tsMs });        // tracks: [{ trackId, classId?, x1, y1, x2, y2 }]
 *   frame.lines.door;                                        // { crossedIn: [ids], crossedOut: [ids], in, out, perClass }
 *   for (const e of frame.events) console.log(e.type);       // 'line-cross' | 'zone-enter' | 'zone-exit' | …
 *
 * Direction convention: walking from a line's start to its end, the side on the left as seen on the screen is "in"
 * (supervision's LineZone). docs/analytics.md has every rule, the pain points it handles and the defaults' reasons.
 * Options are validated here (ConfigError naming the field); the native layer only converts.
 *
 * Thread-safety: an Analytics belongs to the thread (main or worker) that created it; update() is synchronous.
 */
import { normaliseAnalytics, toNativeAnalytics, type AnalyticsOptions, type NormalisedAnalytics } from './config/analytics.js';
import { CamtrackError } from './errors.js';
import { loadNative, type NativeAnalyticsInstance } from './native.js';

export type { AnalyticsOptions, NormalisedAnalytics } from './config/analytics.js';

/** A track given to {@link Analytics.update}. Ids ≤ 0 (unconfirmed) are never counted; NaN boxes are ignored. */
export interface AnalyticsTrackInput {
  trackId: number;
  classId?: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export type AnalyticsEvent =
  | { type: 'line-cross'; line: string; trackId: number; classId: number; direction: 'in' | 'out'; tsMs: number }
  | { type: 'zone-enter'; zone: string; trackId: number; classId: number; tsMs: number }
  | { type: 'zone-exit'; zone: string; trackId: number; classId: number; dwellSeconds: number; tsMs: number }
  | { type: 'loiter'; zone: string; trackId: number; classId: number; dwellSeconds: number; tsMs: number }
  | { type: 'overcrowd'; zone: string; occupancy: number; tsMs: number }
  | { type: 'speed'; trackId: number; classId: number; speed: number; unit: 'm/s' | 'px/s'; tsMs: number };

export interface LineFrameResult {
  /** Tracks that crossed in / out in this frame. */
  crossedIn: number[];
  crossedOut: number[];
  /** Cumulative counts. */
  in: number;
  out: number;
  /** Cumulative counts per class (the class a track had when it crossed). */
  perClass: { classId: number; in: number; out: number }[];
}
export interface ZoneFrameResult {
  occupancy: number;
  entered: number[];
  exited: number[];
}
export interface AnalyticsFrameResult {
  tsMs: number;
  /** false: a frame not inferred that the rules skipped (usePredicted off): nothing changed. */
  evaluated: boolean;
  events: AnalyticsEvent[];
  lines: Record<string, LineFrameResult>;
  zones: Record<string, ZoneFrameResult>;
  /** Tracks inside a zone (after the enter/exit inertia) and how long they have been there. */
  memberships: { trackId: number; zone: string; dwellSeconds: number }[];
  /** Smoothed speed and heading (degrees, 0 = +x, 90 = +y: down in the image) of each track with a velocity. */
  speeds: { trackId: number; speed: number; unit: 'm/s' | 'px/s'; directionDeg: number }[];
}

function badTrack(what: string): never {
  throw new CamtrackError(`Analytics.update: ${what}`, 'ERR_CAMTRACK_INVALID_ARGUMENT', {
    stage: 'analytics',
    hint: 'pass an array of { trackId, classId?, x1, y1, x2, y2 } (integers for the ids, numbers for the box)',
  });
}

/**
 * One stream's analytics state. See the file header for an example.
 * Ownership: owns its native engine; nothing to close.
 */
export class Analytics {
  /** The validated options in effect (defaults filled). */
  readonly options: Readonly<NormalisedAnalytics>;
  private readonly native: NativeAnalyticsInstance;
  private buffer = new Float64Array(6 * 64);
  private lastTs = -Infinity;

  /** @throws ConfigError naming the first bad field (degenerate line, self-intersecting polygon, …). */
  constructor(options: AnalyticsOptions = {}) {
    this.options = normaliseAnalytics(options);
    this.native = new (loadNative().NativeAnalytics)(toNativeAnalytics(this.options));
  }

  /**
   * Advances by one frame. Call it for every frame, also without tracks (pass []): zones count frames in which a
   * track is not seen towards its exit. `tsMs`: the frame's timestamp in ms, non-decreasing (dwell and speed use it).
   * `inferred: false` marks a frame whose tracks are predictions (no detector ran): the rules skip it unless
   * `usePredicted` is set.
   * @throws CamtrackError ERR_CAMTRACK_INVALID_ARGUMENT on a malformed track or timestamp.
   */
  update(tracks: readonly AnalyticsTrackInput[], frame: { tsMs: number; inferred?: boolean }): AnalyticsFrameResult {
    if (!Array.isArray(tracks)) badTrack('tracks must be an array');
    const ts = frame?.tsMs;
    if (typeof ts !== 'number' || !Number.isFinite(ts)) badTrack('tsMs must be a finite number');
    if (ts < this.lastTs) badTrack(`tsMs went backwards (${ts} after ${this.lastTs})`);
    this.lastTs = ts;
    if (this.buffer.length < tracks.length * 6) this.buffer = new Float64Array(tracks.length * 12);
    const b = this.buffer;
    tracks.forEach((t, i) => {
      if (typeof t !== 'object' || t === null) badTrack(`tracks[${i}] is not an object`);
      if (!Number.isSafeInteger(t.trackId)) badTrack(`tracks[${i}].trackId must be an integer`);
      const cls = t.classId ?? 0;
      if (!Number.isInteger(cls) || cls < 0 || cls > 2 ** 31 - 1) badTrack(`tracks[${i}].classId must be an integer ≥ 0`);
      for (const k of ['x1', 'y1', 'x2', 'y2'] as const) if (typeof t[k] !== 'number') badTrack(`tracks[${i}].${k} must be a number`);
      b.set([t.trackId, cls, t.x1, t.y1, t.x2, t.y2], i * 6);
    });
    const f = this.native.update(b.subarray(0, tracks.length * 6), ts, frame.inferred ?? true);
    return f;
  }

  /** Forgets every track and zeroes the counts. */
  reset(): void {
    this.native.reset();
    this.lastTs = -Infinity;
  }
}
