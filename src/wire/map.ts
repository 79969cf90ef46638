/**
 * The one mapping from the camelCase library objects (FrameResult, Detection, Track, TrackEvent, StateChange,
 * CamtrackError) to the wire messages of ./schema.ts. Every sink (`camtrack run`, later Redis, WebSocket/SSE,
 * gRPC) serialises through these functions, so a field is named, rounded and defaulted in one place. docs/wire.md
 * has the table.
 *
 * Numbers: boxes are rounded to 0.1 px (the detector's own precision is coarser),
 * scores to 1e-4, seconds to the ms (the native clocks' unit), latency to the µs. JSON has no NaN or Infinity
 * (JSON.stringify would write null, which the schema rejects), so a non-finite number throws a RangeError naming
 * the field instead of producing an invalid message: it is a bug upstream, never a value to pass on.
 */
import { describeValue, redactSecretsIn, type CamtrackError } from '../errors.js';
import type { TrackEvent } from '../tracker.js';
import type { Detection, FrameResult, StateChange, StreamStats, Track } from '../types.js';
import type { Static } from '@sinclair/typebox';

import type { AnalyticsEvent, AnalyticsFrameResult } from '../analytics.js';
import {
  WIRE_VERSION,
  type WireAnalyticsEventSchema,
  type WireAnalyticsSchema,
  type WireAnalyticsCounts,
  type WireAnalyticsEventMessage,
  type WireBox,
  type WireDetection,
  type WireError,
  type WireErrorMessage,
  type WireMetricsMessage,
  type WireResult,
  type WireStateMessage,
  type WireTrack,
  type WireTrackEvent,
  type WireTrackMessage,
} from './schema.js';

/** Names the field `key` of the object at `at` ('' = the top level) in an error. */
function field(at: string, key: string): string {
  return at ? `${at}.${key}` : key;
}

/** `x` rounded to `decimals` places; throws RangeError for NaN/±Infinity. */
function fixed(x: number, decimals: number, at: string, key: string): number {
  if (!Number.isFinite(x)) throw new RangeError(`Expected finite number for ${field(at, key)} but received ${describeValue(x)}`);
  const scale = 10 ** decimals;
  return Math.round(x * scale) / scale;
}

/** `x` itself when it is an integer; throws RangeError otherwise. */
function integer(x: number, at: string, key: string): number {
  if (!Number.isInteger(x)) throw new RangeError(`Expected integer for ${field(at, key)} but received ${describeValue(x)}`);
  return x;
}

const BOX_DECIMALS = 1;
const SCORE_DECIMALS = 4;
const SECONDS_DECIMALS = 3;
const MS_DECIMALS = 3;

function toWireBox(b: { x1: number; y1: number; x2: number; y2: number }, at: string): WireBox {
  return {
    x1: fixed(b.x1, BOX_DECIMALS, at, 'x1'),
    y1: fixed(b.y1, BOX_DECIMALS, at, 'y1'),
    x2: fixed(b.x2, BOX_DECIMALS, at, 'x2'),
    y2: fixed(b.y2, BOX_DECIMALS, at, 'y2'),
  };
}

/** Detection → `{ class_id, label, score, bbox }`. `at` names it in errors. */
export function toWireDetection(d: Detection, at = 'detection'): WireDetection {
  return {
    class_id: integer(d.classId, at, 'classId'),
    label: d.label,
    score: fixed(d.score, SCORE_DECIMALS, at, 'score'),
    bbox: toWireBox(d, at),
  };
}

/** Track → `{ track_id, class_id, label, score, bbox, age }`. */
export function toWireTrack(t: Track, at = 'track'): WireTrack {
  const { class_id, label, score, bbox } = toWireDetection(t, at);
  return { track_id: integer(t.trackId, at, 'trackId'), class_id, label, score, bbox, age: integer(t.age, at, 'age') };
}

/**
 * TrackEvent → `{ kind, track_id, class_id, label, bbox }`. Its `frame` (the tracker's update count) is not sent:
 * on the wire the event belongs to the result's frame_id.
 */
export function toWireTrackEvent(e: TrackEvent, at = 'trackEvent'): WireTrackEvent {
  return {
    kind: e.kind,
    track_id: integer(e.trackId, at, 'trackId'),
    class_id: integer(e.classId, at, 'classId'),
    label: e.label,
    bbox: toWireBox(e, at),
  };
}

/**
 * FrameResult → the result message. A tagged frame (src/frame-tags.ts) gives its `frameId` as `frame_id` (else the
 * frameIndex), its `messageKey` and `metadata` (else null); `analytics` when the stream has any (else null).
 */
export function toWireResult(r: FrameResult): WireResult {
  return {
    v: WIRE_VERSION,
    type: 'result',
    camera_id: r.streamId,
    frame_id: r.frameId !== undefined ? integer(r.frameId, '', 'frameId') : integer(r.frameIndex, '', 'frameIndex'),
    message_key: r.messageKey ?? null,
    metadata: r.metadata ?? null,
    timestamp: fixed(r.timestampMs / 1000, SECONDS_DECIMALS, '', 'timestampMs'),
    pts: fixed(r.ptsMs / 1000, SECONDS_DECIMALS, '', 'ptsMs'),
    processing_time_ms: fixed(r.latencyMs, MS_DECIMALS, '', 'latencyMs'),
    width: integer(r.width, '', 'width'),
    height: integer(r.height, '', 'height'),
    inferred: r.inferred,
    inferred_by: r.inferredBy ?? null,
    detections: r.detections.map((d, i) => toWireDetection(d, `detections[${i}]`)),
    tracks: r.tracks.map((t, i) => toWireTrack(t, `tracks[${i}]`)),
    track_events: r.trackEvents.map((e, i) => toWireTrackEvent(e, `trackEvents[${i}]`)),
    analytics: r.analytics ? toWireAnalytics(r.analytics) : null,
  };
}

/** AnalyticsFrameResult → the result's `analytics` (snake_case, the same values). */
export function toWireAnalytics(a: AnalyticsFrameResult): Static<typeof WireAnalyticsSchema> {
  const lines: Static<typeof WireAnalyticsSchema>['lines'] = {};
  for (const [id, l] of Object.entries(a.lines)) {
    lines[id] = {
      crossed_in: l.crossedIn,
      crossed_out: l.crossedOut,
      in: l.in,
      out: l.out,
      per_class: l.perClass.map((c) => ({ class_id: c.classId, in: c.in, out: c.out })),
    };
  }
  const zones: Static<typeof WireAnalyticsSchema>['zones'] = {};
  for (const [id, z] of Object.entries(a.zones)) zones[id] = { occupancy: z.occupancy, entered: z.entered, exited: z.exited };
  return {
    evaluated: a.evaluated,
    lines,
    zones,
    memberships: a.memberships.map((m) => ({ track_id: m.trackId, zone: m.zone, dwell_seconds: m.dwellSeconds })),
    speeds: a.speeds.map((s) => ({ track_id: s.trackId, speed: s.speed, unit: s.unit, direction_deg: s.directionDeg })),
    events: a.events.map(toWireAnalyticsEvent),
  };
}

/** One AnalyticsEvent → an entry of the result's `analytics.events`. */
export function toWireAnalyticsEvent(e: AnalyticsEvent): Static<typeof WireAnalyticsEventSchema> {
  const { type, tsMs, ...rest } = e;
  const out: Static<typeof WireAnalyticsEventSchema> = { type, ts_ms: tsMs };
  if ('line' in rest) out.line = rest.line;
  if ('zone' in rest) out.zone = rest.zone;
  if ('trackId' in rest) out.track_id = rest.trackId;
  if ('classId' in rest) out.class_id = rest.classId;
  if ('direction' in rest) out.direction = rest.direction;
  if ('dwellSeconds' in rest) out.dwell_seconds = rest.dwellSeconds;
  if ('occupancy' in rest) out.occupancy = rest.occupancy;
  if ('speed' in rest) out.speed = rest.speed;
  if ('unit' in rest) out.unit = rest.unit;
  return out;
}

/** The class name of `classId` from the model's labels, else the id as text (as detections' `label`). */
export function labelOf(labels: readonly string[], classId: number): string {
  return labels[classId] ?? String(classId);
}

/** One analytics event of result `r` → its own message (webhooks, MQTT, the Redis analytics_events stream). */
export function toWireAnalyticsEventMessage(e: AnalyticsEvent, r: FrameResult, labels: readonly string[] = []): WireAnalyticsEventMessage {
  const { type, ...fields } = toWireAnalyticsEvent(e);
  return {
    v: WIRE_VERSION,
    type: 'analytics',
    camera_id: r.streamId,
    event: type,
    frame_id: integer(r.frameIndex, '', 'frameIndex'),
    timestamp: fixed(r.timestampMs / 1000, SECONDS_DECIMALS, '', 'timestampMs'),
    ...('classId' in e && labels[e.classId] !== undefined ? { label: labels[e.classId]! } : {}),
    ...fields,
  } as WireAnalyticsEventMessage;
}

/**
 * A camera's cumulative counts: every line and zone id of its config (`lineIds`, `zoneIds`), the values of the
 * newest result `a` (zeros for an id it has not, or before the first result: `a` undefined).
 */
export function toWireAnalyticsCounts(
  cameraId: string,
  lineIds: readonly string[],
  zoneIds: readonly string[],
  a: { frameIndex: number; analytics: AnalyticsFrameResult } | undefined,
  labels: readonly string[] = [],
  nowMs = Date.now(),
): WireAnalyticsCounts {
  const lines: WireAnalyticsCounts['lines'] = {};
  for (const id of lineIds) {
    const l = a?.analytics.lines[id];
    lines[id] = {
      in: l?.in ?? 0,
      out: l?.out ?? 0,
      per_class: (l?.perClass ?? []).map((c) => ({ class_id: c.classId, label: labelOf(labels, c.classId), in: c.in, out: c.out })),
    };
  }
  const zones: WireAnalyticsCounts['zones'] = {};
  for (const id of zoneIds) zones[id] = { occupancy: a?.analytics.zones[id]?.occupancy ?? 0 };
  return {
    v: WIRE_VERSION,
    type: 'analytics_counts',
    camera_id: cameraId,
    timestamp: fixed(nowMs / 1000, SECONDS_DECIMALS, '', 'nowMs'),
    frame_id: a ? integer(a.frameIndex, '', 'frameIndex') : null,
    ts_ms: a ? a.analytics.tsMs : null,
    lines,
    zones,
  };
}

/** CamtrackError → `{ code, message, hint, stage, native_code }`, the message and hint redacted once more. */
export function toWireError(err: CamtrackError): WireError {
  return {
    code: err.code,
    message: redactSecretsIn(err.message),
    hint: err.hint !== undefined ? redactSecretsIn(err.hint) : null,
    stage: err.stage ?? null,
    native_code: err.nativeCode ?? null,
  };
}

/** A stream's state change (Pipeline/Stream 'state' event) → the state message, stamped `nowMs` (default now). */
export function toWireStateMessage(cameraId: string, change: StateChange, nowMs = Date.now()): WireStateMessage {
  return {
    v: WIRE_VERSION,
    type: 'state',
    camera_id: cameraId,
    timestamp: fixed(nowMs / 1000, SECONDS_DECIMALS, '', 'nowMs'),
    state: change.state,
    previous: change.previous,
    reason: change.reason,
    attempt: change.attempt ?? null,
    error: change.error ? toWireError(change.error) : null,
  };
}

/** A 'warning' or 'error' event of a stream (cameraId null: of the pipeline) → its message, stamped `nowMs` (default now). */
export function toWireErrorMessage(kind: 'warning' | 'error', cameraId: string | null, err: CamtrackError, nowMs = Date.now()): WireErrorMessage {
  return {
    v: WIRE_VERSION,
    type: kind,
    camera_id: cameraId,
    timestamp: fixed(nowMs / 1000, SECONDS_DECIMALS, '', 'nowMs'),
    error: toWireError(err),
  };
}

/** A Stream 'track' event (the TrackEvent and the result it came with) → the track message. */
export function toWireTrackMessage(e: TrackEvent, r: FrameResult): WireTrackMessage {
  return {
    v: WIRE_VERSION,
    type: 'track',
    camera_id: r.streamId,
    frame_id: integer(r.frameIndex, '', 'frameIndex'),
    timestamp: fixed(r.timestampMs / 1000, SECONDS_DECIMALS, '', 'timestampMs'),
    ...toWireTrackEvent(e),
  };
}

const RATE_DECIMALS = 2;

/** A camera's stats (StreamStats) → the metrics message, stamped `nowMs` (default now). */
export function toWireMetricsMessage(s: StreamStats, nowMs = Date.now()): WireMetricsMessage {
  const d = s.dropped;
  return {
    v: WIRE_VERSION,
    type: 'metrics',
    camera_id: s.id,
    timestamp: fixed(nowMs / 1000, SECONDS_DECIMALS, '', 'nowMs'),
    state: s.state,
    fps: fixed(s.fps, RATE_DECIMALS, '', 'fps'),
    input_fps: fixed(s.inputFps, RATE_DECIMALS, '', 'inputFps'),
    frames_decoded: integer(s.framesDecoded, '', 'framesDecoded'),
    frames_delivered: integer(s.framesDelivered, '', 'framesDelivered'),
    frames_corrupt: integer(s.framesCorrupt, '', 'framesCorrupt'),
    dropped: {
      busy: integer(d.busy, 'dropped', 'busy'),
      fps_limit: integer(d.fpsLimit, 'dropped', 'fpsLimit'),
      inference: integer(d.inference, 'dropped', 'inference'),
      breaker: integer(d.breaker, 'dropped', 'breaker'),
      decoder_pool: integer(d.decoderPool, 'dropped', 'decoderPool'),
      consumer: integer(d.consumer, 'dropped', 'consumer'),
    },
    skipped: {
      interval: integer(s.skipped.interval, 'skipped', 'interval'),
      motion: integer(s.skipped.motion, 'skipped', 'motion'),
    },
    last_frame_age_ms: fixed(s.lastFrameAgeMs, MS_DECIMALS, '', 'lastFrameAgeMs'),
    reconnects: integer(s.reconnects, '', 'reconnects'),
    inference_state: s.inference.state,
    fallback: {
      frames: integer(s.fallback?.frames ?? 0, 'fallback', 'frames'),
      failed: integer(s.fallback?.failed ?? 0, 'fallback', 'failed'),
    },
  };
}
