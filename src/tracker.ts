/**
 * Standalone multi-object tracker for users who bring their own detections: ByteTrack, SORT or a plain IoU tracker
 * (the same native implementations the pipeline runs), one instance per stream.
 *
 *   const tracker = new Tracker({ type: 'sort' });
 *   for (const frame of frames) {
 *     const tracks = tracker.update(frame.detections);   // [{ trackId, x1, y1, x2, y2, score, classId, label, age }]
 *     for (const e of tracker.events()) console.log(e.kind, e.trackId);   // 'new' | 'lost' | 'refound' | 'removed'
 *   }
 *
 * Options are validated here (ConfigError naming the field, like the pipeline config); the native layer only
 * converts. Parameters and their defaults are the references' (ByteTrack: ifzhang/ByteTrack; SORT: abewley/sort);
 * docs/tracking.md has the semantics and the measured accuracy of each tracker.
 *
 * Thread-safety: a Tracker belongs to the thread (main or worker) that created it; update() is synchronous.
 */
import { ConfigError } from './errors.js';
import { loadNative, type NativeTrackerConfig, type NativeTrackerInstance } from './native.js';
import type { Track } from './types.js';
import { bool, fail, isObject, num, oneOf, strings } from './validate.js';

/** Which tracker: 'bytetrack' (default), 'sort' or 'iou'. */
export type TrackerType = 'bytetrack' | 'sort' | 'iou';

/** Options of {@link Tracker}. Options of another tracker type are rejected (ConfigError). */
export interface StandaloneTrackerOptions {
  /** Default 'bytetrack'. */
  type?: TrackerType;
  /** Match only detections of the same class. Default false. */
  classAware?: boolean;
  /** Frame rate of the detections, frames per second (0.1..1000). Default 30. Used by trackBufferSeconds and ByteTrack. */
  frameRate?: number;
  /**
   * How long a lost track is kept, in seconds, converted with `frameRate` (round(seconds × frameRate), at least 1
   * frame). Replaces `trackBuffer` (ByteTrack) / `maxAge` (SORT, IoU); give one or the other. Range 0.001..3600.
   */
  trackBufferSeconds?: number;

  /** ByteTrack: high/low split of detection scores. Default 0.5, 0..1. */
  trackThresh?: number;
  /** ByteTrack: minimum score to start a new track. Default 0.6, 0..1. */
  highThresh?: number;
  /** ByteTrack: max IoU distance (1 − IoU) in the first association. Default 0.8, 0..1. */
  matchThresh?: number;
  /** ByteTrack: frames a lost track is kept at 30 fps (scaled by frameRate / 30, as the reference). Default 30, 0..100000. */
  trackBuffer?: number;

  /** SORT / IoU: frames a track is kept without a match. Default 1 (SORT's reference default), 0..100000. */
  maxAge?: number;
  /**
   * SORT: consecutive matches before a track is output (except during the first minHits frames). Default 3, 0..1000.
   * IoU: matches (first detection included) before a track is confirmed. Default 3, 1..1000.
   */
  minHits?: number;
  /** SORT / IoU: minimum IoU of a match. Default 0.3, 0..1. */
  iouThreshold?: number;
  /** IoU: greedy highest-IoU-first matching instead of the optimal assignment. Default false. */
  greedy?: boolean;

  /** Labels of class ids for the returned tracks. Default: the `label` of input detections, else String(classId). */
  classNames?: string[];
}

/** A detection given to {@link Tracker.update}: box corners in pixels, score, class (default 0). */
export interface DetectionInput {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classId?: number;
  label?: string;
}

/** What happened to a track (see docs/tracking.md): output for the first time, not output but kept, output again, deleted. */
export type TrackEventKind = 'new' | 'lost' | 'refound' | 'removed';

/** One lifecycle event. `frame` counts update() calls (1 = first call since construction or reset()). */
export interface TrackEvent {
  kind: TrackEventKind;
  trackId: number;
  frame: number;
  /** The track's box at the event (for 'lost'/'removed': its last, possibly predicted, box). */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  classId: number;
  label: string;
}

const COMMON_KEYS = ['type', 'classAware', 'frameRate', 'trackBufferSeconds', 'classNames'] as const;
const TYPE_KEYS: Record<TrackerType, readonly string[]> = {
  bytetrack: ['trackThresh', 'highThresh', 'matchThresh', 'trackBuffer'],
  sort: ['maxAge', 'minHits', 'iouThreshold'],
  iou: ['maxAge', 'minHits', 'iouThreshold', 'greedy'],
};

/** Validated, complete options as the native tracker receives them. */
export interface NormalisedStandaloneTracker extends NativeTrackerConfig {
  classNames?: string[];
}

/**
 * Validates {@link StandaloneTrackerOptions} and fills defaults. `path` prefixes field names in errors.
 * @throws ConfigError naming the first bad field.
 */
export function normaliseStandaloneTracker(input: unknown, path = 'tracker'): NormalisedStandaloneTracker {
  const v = input ?? {};
  if (!isObject(v)) fail(path, 'object', v);
  const type = oneOf<TrackerType>(v.type, `${path}.type`, 'bytetrack', ['bytetrack', 'sort', 'iou']);
  const allowed = [...COMMON_KEYS, ...TYPE_KEYS[type]];
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) {
      const owner = (Object.keys(TYPE_KEYS) as TrackerType[]).filter((t) => TYPE_KEYS[t].includes(k));
      throw new ConfigError(
        `${path}.${k}`,
        owner.length > 0
          ? `Option ${JSON.stringify(k)} applies to type ${owner.map((o) => JSON.stringify(o)).join(' or ')}, not ${JSON.stringify(type)}`
          : `Unknown option ${JSON.stringify(k)}; accepted for type ${JSON.stringify(type)}: ${allowed.join(', ')}`,
      );
    }
  }
  const seconds = v.trackBufferSeconds;
  const frameBased = type === 'bytetrack' ? 'trackBuffer' : 'maxAge';
  if (seconds !== undefined && v[frameBased] !== undefined) {
    throw new ConfigError(
      `${path}.trackBufferSeconds`,
      `Give either trackBufferSeconds or ${frameBased}, not both`,
      'trackBufferSeconds is converted to frames with frameRate',
    );
  }
  const classNames = strings(v.classNames, `${path}.classNames`);
  const out: NormalisedStandaloneTracker = {
    type,
    classAware: bool(v.classAware, `${path}.classAware`, false),
    frameRate: num(v.frameRate, `${path}.frameRate`, 30, 0.1, 1000),
    trackBufferSeconds: seconds === undefined ? 0 : num(seconds, `${path}.trackBufferSeconds`, 0, 0.001, 3600),
    trackThresh: num(v.trackThresh, `${path}.trackThresh`, 0.5, 0, 1),
    highThresh: num(v.highThresh, `${path}.highThresh`, 0.6, 0, 1),
    matchThresh: num(v.matchThresh, `${path}.matchThresh`, 0.8, 0, 1),
    trackBuffer: num(v.trackBuffer, `${path}.trackBuffer`, 30, 0, 100000, true),
    maxAge: num(v.maxAge, `${path}.maxAge`, 1, 0, 100000, true),
    minHits: num(v.minHits, `${path}.minHits`, 3, type === 'iou' ? 1 : 0, 1000, true),
    iouThreshold: num(v.iouThreshold, `${path}.iouThreshold`, 0.3, 0, 1),
    greedy: bool(v.greedy, `${path}.greedy`, false),
  };
  if (classNames) out.classNames = classNames;
  return out;
}

/**
 * One tracker state (one stream). See the file header for an example.
 * Ownership: owns its native tracker; nothing to close (memory is released with the object).
 */
export class Tracker {
  /** The validated options in effect. */
  readonly options: Readonly<NormalisedStandaloneTracker>;
  private readonly native: NativeTrackerInstance;
  private readonly labels = new Map<number, string>();

  constructor(options: StandaloneTrackerOptions = {}) {
    this.options = normaliseStandaloneTracker(options);
    const { classNames: _names, ...nativeConfig } = this.options;
    this.native = new (loadNative().NativeTracker)(nativeConfig);
  }

  private label(classId: number): string {
    return this.options.classNames?.[classId] ?? this.labels.get(classId) ?? String(classId);
  }

  /**
   * Advances by one frame. Call once per frame, also for frames without detections (pass []), so lost tracks age.
   * `detections`: objects with x1, y1, x2, y2 (pixels), score and optional classId, or a Float32Array of n × 6
   * numbers (x1, y1, x2, y2, score, classId). Returns this frame's confirmed tracks.
   * @throws CamtrackError ERR_CAMTRACK_INVALID_ARGUMENT when a detection field is not a number.
   */
  update(detections: readonly DetectionInput[] | Float32Array): Track[] {
    if (!(detections instanceof Float32Array) && !Array.isArray(detections)) {
      fail('detections', 'array of {x1,y1,x2,y2,score,classId} or Float32Array', detections);
    }
    if (Array.isArray(detections) && !this.options.classNames) {
      for (const d of detections as readonly DetectionInput[]) {
        if (d && typeof d.label === 'string' && typeof d.classId === 'number') this.labels.set(d.classId, d.label);
      }
    }
    const tracks = this.native.update(detections as DetectionInput[] | Float32Array) as Track[];
    for (const t of tracks) t.label = this.label(t.classId);
    return tracks;
  }

  /** Lifecycle events of all update() calls since the previous events() call (oldest first). */
  events(): TrackEvent[] {
    const events = this.native.events() as TrackEvent[];
    for (const e of events) e.label = this.label(e.classId);
    return events;
  }

  /** Forgets all tracks and pending events; ids restart at 1 and frames at 1. */
  reset(): void {
    this.native.reset();
  }
}
