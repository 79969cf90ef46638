/**
 * The wire format (src/wire): the mapping of hand-built library objects, field by field; snake_case keys only,
 * at every depth; the rounding; non-finite numbers refused; and the messages valid under the JSON Schemas as a
 * client compiles them (ajv over the schemas' JSON text). Pure TypeScript (the addon is not loaded).
 */
import { describe, expect, it } from 'vitest';

import { CamtrackError } from '../../src/errors.js';
import type { TrackEvent } from '../../src/tracker.js';
import type { FrameResult, StreamStats } from '../../src/types.js';
import {
  toWireErrorMessage,
  toWireMetricsMessage,
  toWireResult,
  toWireStateMessage,
  toWireTrackMessage,
  WIRE_VERSION,
  type WireResult,
} from '../../src/wire/index.js';
import { expectValid, nonSnakeKeys, validateWireEvent, validateWireMetrics, validateWireResult } from '../helpers/wire.js';

const NEW_EVENT: TrackEvent = { kind: 'new', trackId: 7, frame: 41, x1: 100.04, y1: 50.06, x2: 180, y2: 260.449, classId: 0, label: 'person' };

/** One frame with a detection, the track it feeds, and that track's 'new' event. */
function frame(): FrameResult {
  return {
    streamId: 'cam-1',
    frameIndex: 40,
    ptsMs: 1600,
    timestampMs: 1764788000123,
    latencyMs: 12.3456789,
    width: 1280,
    height: 720,
    inferred: true,
    inferredBy: 'primary',
    detections: [
      { x1: 100.04, y1: 50.06, x2: 180, y2: 260.449, score: 0.876543, classId: 0, label: 'person' },
      { x1: 0, y1: 0, x2: 1279.99, y2: 719.95, score: 0.25, classId: 2, label: 'car' },
    ],
    tracks: [{ x1: 101.26, y1: 51.5, x2: 181.349, y2: 259, score: 0.87654, classId: 0, label: 'person', trackId: 7, age: 1 }],
    trackEvents: [NEW_EVENT],
  };
}

const EXPECTED: WireResult = {
  v: 1,
  type: 'result',
  camera_id: 'cam-1',
  frame_id: 40,
  message_key: null,
  metadata: null,
  timestamp: 1764788000.123,
  pts: 1.6,
  processing_time_ms: 12.346,
  width: 1280,
  height: 720,
  inferred: true,
  inferred_by: 'primary',
  detections: [
    { class_id: 0, label: 'person', score: 0.8765, bbox: { x1: 100, y1: 50.1, x2: 180, y2: 260.4 } },
    { class_id: 2, label: 'car', score: 0.25, bbox: { x1: 0, y1: 0, x2: 1280, y2: 720 } },
  ],
  tracks: [{ track_id: 7, class_id: 0, label: 'person', score: 0.8765, bbox: { x1: 101.3, y1: 51.5, x2: 181.3, y2: 259 }, age: 1 }],
  track_events: [{ kind: 'new', track_id: 7, class_id: 0, label: 'person', bbox: { x1: 100, y1: 50.1, x2: 180, y2: 260.4 } }],
  analytics: null,
};

describe('toWireResult()', () => {
  it('maps every field of a FrameResult, rounded (boxes 0.1 px, scores 1e-4, seconds to the ms, latency to the µs)', () => {
    expect(toWireResult(frame())).toStrictEqual(EXPECTED);
    expect(WIRE_VERSION).toBe(1);
  });

  it('writes snake_case keys only, at every depth (no camelCase field of the library leaks)', () => {
    const wire = toWireResult(frame());
    expect(nonSnakeKeys(wire)).toEqual([]);
    // The check itself finds a camelCase key deep down.
    expect(nonSnakeKeys({ tracks: [{ bbox: { x1: 0 }, trackId: 1 }] })).toEqual(['$.tracks[0].trackId']);
  });

  it('survives JSON unchanged (nothing undefined, nothing non-finite) and is valid under the result schema', () => {
    const wire = toWireResult(frame());
    expect(JSON.parse(JSON.stringify(wire))).toStrictEqual(wire);
    expectValid(validateWireResult, wire);
    const empty = toWireResult({ ...frame(), detections: [], tracks: [], trackEvents: [] });
    expectValid(validateWireResult, empty);
    expect(empty.detections).toEqual([]);
  });

  it('carries inferred: false for a frame postprocessed without inference (predicted tracks, no detections)', () => {
    const wire = toWireResult({ ...frame(), inferred: false, inferredBy: null, detections: [], trackEvents: [] });
    expect(wire.inferred).toBe(false);
    expect(wire.inferred_by).toBeNull();
    expect(wire.detections).toEqual([]);
    expect(wire.tracks).toEqual(EXPECTED.tracks);
    expectValid(validateWireResult, wire);
  });

  it("says which backend inferred the frame: inferred_by 'fallback' for the circuit breaker's CPU fallback (docs/scheduling.md)", () => {
    const wire = toWireResult({ ...frame(), inferredBy: 'fallback' });
    expect(wire.inferred_by).toBe('fallback');
    expectValid(validateWireResult, wire);
    // Added within v1: a v1 message written before it existed (no inferred_by) stays valid.
    const { inferred_by: _, ...before } = EXPECTED;
    expectValid(validateWireResult, before);
    expect(validateWireResult({ ...EXPECTED, inferred_by: 'gpu' })).toBe(false);
  });

  it('the v1 schema already accepts the additive changes docs/wire.md allows (Redis key, analytics, a new field)', () => {
    const analytics = { evaluated: true, lines: {}, zones: { z: { occupancy: 1, entered: [3], exited: [] } }, memberships: [], speeds: [], events: [], new_field: 2 };
    expectValid(validateWireResult, { ...EXPECTED, message_key: '1764788000123-0', analytics, new_field: 1 });
  });

  it("a tagged frame (src/frame-tags.ts) gives the client's frame id as frame_id, its message key and its metadata", () => {
    const wire = toWireResult({ ...frame(), frameId: 9001, messageKey: '1764788000123-0', metadata: { source: 'gate', seq: [1, 2] } });
    expect(wire).toStrictEqual({ ...EXPECTED, frame_id: 9001, message_key: '1764788000123-0', metadata: { source: 'gate', seq: [1, 2] } });
    expectValid(validateWireResult, wire);
    // Each tag field alone: the others keep their untagged values.
    expect(toWireResult({ ...frame(), messageKey: 'k' })).toMatchObject({ frame_id: 40, message_key: 'k', metadata: null });
    expect(toWireResult({ ...frame(), frameId: 0 })).toMatchObject({ frame_id: 0, message_key: null, metadata: null });
    expect(() => toWireResult({ ...frame(), frameId: 1.5 })).toThrow('Expected integer for frameId but received 1.5 of type number');
  });

  it('EXPECTED FAILURE - the schema rejects the camelCase FrameResult and a message with a wrong field type', () => {
    expect(validateWireResult(JSON.parse(JSON.stringify(frame())))).toBe(false);
    expect(validateWireResult({ ...EXPECTED, frame_id: 1.5 })).toBe(false);
    expect(validateWireResult({ ...EXPECTED, tracks: [{ ...EXPECTED.tracks[0], bbox: { x1: 1, y1: 2, x2: 3 } }] })).toBe(false);
  });

  it('EXPECTED FAILURE - a non-finite number throws a RangeError naming the field instead of writing null', () => {
    const r = frame();
    r.detections[1]!.y2 = Number.NaN;
    expect(() => toWireResult(r)).toThrow(new RangeError('Expected finite number for detections[1].y2 but received NaN of type number'));
    expect(() => toWireResult({ ...frame(), latencyMs: Number.POSITIVE_INFINITY })).toThrow(
      'Expected finite number for latencyMs but received Infinity of type number',
    );
    expect(() => toWireResult({ ...frame(), frameIndex: 2.5 })).toThrow('Expected integer for frameIndex but received 2.5 of type number');
  });
});

describe('stream event messages', () => {
  const nowMs = 1764788001500;

  it('toWireStateMessage() maps a StateChange; attempt and error are null when absent', () => {
    const msg = toWireStateMessage('cam-1', { state: 'live', previous: 'connecting', reason: 'connected' }, nowMs);
    expect(msg).toStrictEqual({
      v: 1,
      type: 'state',
      camera_id: 'cam-1',
      timestamp: 1764788001.5,
      state: 'live',
      previous: 'connecting',
      reason: 'connected',
      attempt: null,
      error: null,
    });
    expectValid(validateWireEvent, msg);
  });

  it('toWireStateMessage() carries the error behind a change, its message redacted, and the attempt', () => {
    const err = new CamtrackError('cannot open rtsp://admin:s3cret@cam/1: Connection refused', 'ERR_CAMTRACK_SOURCE_OPEN', {
      stage: 'source',
      hint: 'check that the camera is reachable',
      nativeCode: -111,
    });
    const msg = toWireStateMessage('cam-1', { state: 'reconnecting', previous: 'stalled', reason: 'refused', attempt: 3, error: err }, nowMs);
    expect(msg.attempt).toBe(3);
    expect(msg.error).toStrictEqual({
      code: 'ERR_CAMTRACK_SOURCE_OPEN',
      message: 'cannot open rtsp://***@cam/1: Connection refused',
      hint: 'check that the camera is reachable',
      stage: 'source',
      native_code: -111,
    });
    expect(JSON.stringify(msg)).not.toContain('s3cret');
    expectValid(validateWireEvent, msg);
    expect(nonSnakeKeys(msg)).toEqual([]);
  });

  it("toWireErrorMessage() gives 'warning' and 'error' messages; absent hint/stage/native code are null", () => {
    const err = new CamtrackError('stream gave up', 'ERR_CAMTRACK_SOURCE_READ');
    for (const kind of ['warning', 'error'] as const) {
      const msg = toWireErrorMessage(kind, 'cam-2', err, nowMs);
      expect(msg).toStrictEqual({
        v: 1,
        type: kind,
        camera_id: 'cam-2',
        timestamp: 1764788001.5,
        error: { code: 'ERR_CAMTRACK_SOURCE_READ', message: 'stream gave up', hint: null, stage: null, native_code: null },
      });
      expectValid(validateWireEvent, msg);
    }
  });

  it("toWireTrackMessage() places a TrackEvent in its result's frame (the tracker's own frame count is not sent)", () => {
    const msg = toWireTrackMessage(NEW_EVENT, frame());
    expect(msg).toStrictEqual({
      v: 1,
      type: 'track',
      camera_id: 'cam-1',
      frame_id: 40,
      timestamp: 1764788000.123,
      ...EXPECTED.track_events[0],
    });
    expectValid(validateWireEvent, msg);
    expect(nonSnakeKeys(msg)).toEqual([]);
  });

  it('EXPECTED FAILURE - the event schema rejects an unknown state and a result message', () => {
    const msg = toWireStateMessage('cam-1', { state: 'live', previous: 'connecting', reason: 'connected' }, nowMs);
    expect(validateWireEvent({ ...msg, state: 'paused' })).toBe(false);
    expect(validateWireEvent(EXPECTED)).toBe(false);
  });
});

describe('metrics messages', () => {
  const stats: StreamStats = {
    id: 'door',
    url: 'rtsp://***@cam/1',
    state: 'live',
    live: true,
    codec: 'h264',
    decoder: 'cpu',
    width: 1280,
    height: 720,
    nominalFps: 25,
    packets: 1001,
    framesDecoded: 1000,
    framesCorrupt: 2,
    framesSubmitted: 990,
    framesDelivered: 980,
    dropped: { busy: 7, fpsLimit: 3, inference: 0, breaker: 2, decoderPool: 0, consumer: 5 },
    skipped: { interval: 4, motion: 6 },
    lastFrameAgeMs: 41.23456,
    frameAgeMs: 12,
    inputFps: 24.987,
    fps: 24.5012,
    latencyHistogram: { boundsMs: [5], counts: [0, 980], sumMs: 40000, count: 980 },
    reconnectAttempts: 2,
    reconnects: 1,
    inference: { state: 'ok', failedBatches: 0, consecutiveFailures: 0 },
    fallback: { frames: 11, failed: 1 },
  } as StreamStats;

  it('toWireMetricsMessage() maps a camera\'s StreamStats (a subset, names snake_cased one to one), rates to 0.01', () => {
    const m = toWireMetricsMessage(stats, 1796000000123);
    expect(m).toEqual({
      v: WIRE_VERSION,
      type: 'metrics',
      camera_id: 'door',
      timestamp: 1796000000.123,
      state: 'live',
      fps: 24.5,
      input_fps: 24.99,
      frames_decoded: 1000,
      frames_delivered: 980,
      frames_corrupt: 2,
      dropped: { busy: 7, fps_limit: 3, inference: 0, breaker: 2, decoder_pool: 0, consumer: 5 },
      skipped: { interval: 4, motion: 6 },
      last_frame_age_ms: 41.235,
      reconnects: 1,
      inference_state: 'ok',
      fallback: { frames: 11, failed: 1 },
    });
    expect(nonSnakeKeys(m)).toEqual([]);
    expectValid(validateWireMetrics, JSON.parse(JSON.stringify(m)));
  });

  it('EXPECTED FAILURE - the metrics schema rejects a result message and a negative counter', () => {
    expect(validateWireMetrics(toWireResult(frame()))).toBe(false);
    expect(validateWireMetrics({ ...toWireMetricsMessage(stats, 0), frames_decoded: -1 })).toBe(false);
  });
});
