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
import type { Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

import { checkAgainst, checkIouMinHits, StandaloneTrackerOptionsSchema, type Input, type NormalisedTracker, type TRACKER_TYPES } from './config/index.js';
import { ConfigError } from './errors.js';
import { loadNative, type NativeStreamConfig, type NativeTrackerConfig, type NativeTrackerInstance } from './native.js';
import type { Track } from './types.js';
import { fail, isObject } from './validate.js';

/** Which tracker: 'bytetrack' (default), 'sort' or 'iou'. */
export type TrackerType = (typeof TRACKER_TYPES)[number];

/**
 * Options of {@link Tracker}, declared with the pipeline's tracker options in src/config/schema.ts
 * (StandaloneTrackerOptionsSchema: defaults, ranges and docs). Options of another tracker type are rejected
 * (ConfigError). `trackBufferSeconds` replaces `trackBuffer` (ByteTrack) / `maxAge` (SORT, IoU): give one or the other.
 */
export type StandaloneTrackerOptions = Input<Static<typeof StandaloneTrackerOptionsSchema>>;

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
  // The type decides which options are accepted, so it is checked first.
  if (v.type !== undefined) checkAgainst(StandaloneTrackerOptionsSchema.properties.type, v.type, `${path}.type`);
  const type = (v.type ?? StandaloneTrackerOptionsSchema.properties.type.default) as TrackerType;
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
  const frameBased = type === 'bytetrack' ? 'trackBuffer' : 'maxAge';
  if (v.trackBufferSeconds !== undefined && v[frameBased] !== undefined) {
    throw new ConfigError(
      `${path}.trackBufferSeconds`,
      `Give either trackBufferSeconds or ${frameBased}, not both`,
      'trackBufferSeconds is converted to frames with frameRate',
    );
  }
  checkAgainst(StandaloneTrackerOptionsSchema, v, path);
  checkIouMinHits(type, v.minHits as number | undefined, `${path}.minHits`);
  const { classNames, ...options } = Value.Default(StandaloneTrackerOptionsSchema, Value.Clone(v)) as Static<
    typeof StandaloneTrackerOptionsSchema
  >;
  // 0 tells the native tracker to keep its frame-based buffer (trackBuffer / maxAge).
  const out: NormalisedStandaloneTracker = { ...options, trackBufferSeconds: options.trackBufferSeconds ?? 0 };
  if (classNames) out.classNames = classNames;
  return out;
}

/**
 * A pipeline stream's tracker as the native tracker takes it: complete, the frame-based fields the pipeline does not
 * offer at their standalone defaults (its trackBufferSeconds, always set, replaces trackBuffer / maxAge).
 */
export function nativeTrackerOf(t: NormalisedTracker): NativeStreamConfig['tracker'] {
  return { ...normaliseStandaloneTracker({}), ...t };
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
