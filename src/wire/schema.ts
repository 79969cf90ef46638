/**
 * The wire format: every result and stream event that leaves the process (`camtrack run`'s JSON lines today;
 * Redis Streams, WebSocket/SSE and gRPC later) is one of these messages. Declared once, with TypeBox: each
 * declaration below is at the same time the JSON Schema a client validates with (plain JSON Schema once
 * serialised: `JSON.stringify(WireResultSchema)`) and, through `Static`, the TypeScript type. docs/wire.md has the
 * field table, the mapping from the camelCase library objects (src/wire/map.ts does it) and the versioning rule:
 * `v` is 1; a change within v1 only adds fields (clients ignore fields they do not know, hence no
 * `additionalProperties: false`), anything else is v2.
 *
 * Field names are snake_case. Time points are float seconds (`timestamp`, `pts`), durations carry their unit
 * (`processing_time_ms`). Every field is always present; one that does not apply is null, never absent.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Version of the wire format carried by every message (`v`). */
export const WIRE_VERSION = 1;

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const header = {
  v: Type.Literal(WIRE_VERSION, { description: 'Wire format version (additive changes keep it).' }),
  camera_id: Type.String({ description: 'The stream id given to addStream() / the config (FrameResult.streamId).' }),
};

/** `bbox` of detections, tracks and track events. */
export const WireBoxSchema = Type.Object(
  {
    x1: Type.Number({ description: 'Left edge, source-frame pixels, rounded to 0.1 px.' }),
    y1: Type.Number({ description: 'Top edge.' }),
    x2: Type.Number({ description: 'Right edge.' }),
    y2: Type.Number({ description: 'Bottom edge.' }),
  },
  { description: 'Box corners: (x1, y1) top-left, (x2, y2) bottom-right.' },
);

const classified = {
  class_id: Type.Integer({ minimum: 0, description: 'Class index of the model.' }),
  label: Type.String({ description: 'Class name from the model metadata (or COCO), else the class id as text.' }),
};

/** An entry of `detections` (library: Detection). */
export const WireDetectionSchema = Type.Object({
  ...classified,
  score: Type.Number({ description: 'Confidence (0..1 for the supported layouts), rounded to 1e-4.' }),
  bbox: WireBoxSchema,
});

/** An entry of `tracks` (library: Track). */
export const WireTrackSchema = Type.Object({
  track_id: Type.Integer({ minimum: 1, description: 'Stable id of the object within its camera (from 1).' }),
  ...classified,
  score: Type.Number({ description: 'Score of the detection matched this frame, rounded to 1e-4.' }),
  bbox: WireBoxSchema,
  age: Type.Integer({ minimum: 0, description: 'Frames since the track started.' }),
});

/** A result's `analytics` (library: AnalyticsFrameResult; docs/analytics.md). Ids are the config's line/zone ids. */
const ids = (description: string) => Type.Array(Type.Integer(), { description });
export const WireAnalyticsEventSchema = Type.Object(
  {
    type: Type.Union(['line-cross', 'zone-enter', 'zone-exit', 'loiter', 'overcrowd', 'speed'].map((t) => Type.Literal(t))),
    line: Type.Optional(Type.String({ description: 'line-cross: the line id.' })),
    zone: Type.Optional(Type.String({ description: 'zone-enter, zone-exit, loiter, overcrowd: the zone id.' })),
    track_id: Type.Optional(Type.Integer()),
    class_id: Type.Optional(Type.Integer()),
    direction: Type.Optional(Type.Union([Type.Literal('in'), Type.Literal('out')])),
    dwell_seconds: Type.Optional(Type.Number({ description: 'zone-exit, loiter: time in the zone, s.' })),
    occupancy: Type.Optional(Type.Integer({ description: 'overcrowd: tracks in the zone.' })),
    speed: Type.Optional(Type.Number()),
    unit: Type.Optional(Type.Union([Type.Literal('m/s'), Type.Literal('px/s')])),
    ts_ms: Type.Number({ description: "The frame's stream timestamp, ms." }),
  },
);
export const WireAnalyticsSchema = Type.Object(
  {
    evaluated: Type.Boolean({ description: 'false: a frame not inferred that the rules skipped (usePredicted off).' }),
    lines: Type.Record(
      Type.String(),
      Type.Object({
        crossed_in: ids('Tracks that crossed in in this frame.'),
        crossed_out: ids('Tracks that crossed out in this frame.'),
        in: Type.Integer({ minimum: 0, description: 'Cumulative.' }),
        out: Type.Integer({ minimum: 0, description: 'Cumulative.' }),
        per_class: Type.Array(Type.Object({ class_id: Type.Integer(), in: Type.Integer(), out: Type.Integer() })),
      }),
    ),
    zones: Type.Record(
      Type.String(),
      Type.Object({ occupancy: Type.Integer({ minimum: 0 }), entered: ids('Tracks that entered in this frame.'), exited: ids('Tracks that left in this frame.') }),
    ),
    memberships: Type.Array(Type.Object({ track_id: Type.Integer(), zone: Type.String(), dwell_seconds: Type.Number() })),
    speeds: Type.Array(
      Type.Object({ track_id: Type.Integer(), speed: Type.Number(), unit: Type.Union([Type.Literal('m/s'), Type.Literal('px/s')]), direction_deg: Type.Number() }),
    ),
    events: Type.Array(WireAnalyticsEventSchema),
  },
  { description: 'Lines, zones, dwell and speed of this frame.' },
);

/** An entry of `track_events` (library: TrackEvent, without its `frame`). */
export const WireTrackEventSchema = Type.Object({
  kind: Type.Union([Type.Literal('new'), Type.Literal('lost'), Type.Literal('refound'), Type.Literal('removed')], {
    description: 'Output for the first time, not output but kept, output again, deleted (docs/tracking.md).',
  }),
  track_id: Type.Integer({ minimum: 1 }),
  ...classified,
  /** The track's box at the event (lost/removed: its last, possibly predicted, box). */
  bbox: WireBoxSchema,
});

/** The result message: one frame of one camera (library: FrameResult). */
export const WireResultSchema = Type.Object(
  {
    ...header,
    type: Type.Literal('result'),
    frame_id: Type.Integer({
      minimum: 0,
      description:
        "The client's id of the frame when it was tagged with one (FrameResult.frameId: pushed frames, Redis), else the " +
        "0-based index of the frame among the camera's decoded frames (FrameResult.frameIndex).",
    }),
    message_key: nullable(
      Type.String({ description: 'Id of the message that carried the frame in its transport (a Redis entry id); null when untagged.' }),
    ),
    // Added within v1, so optional here: a v1 message written before it existed stays valid (camtrack writes it always).
    metadata: Type.Optional(
      nullable(
        Type.Record(Type.String(), Type.Unknown(), {
          description: "The frame's metadata as its client tagged it (FrameResult.metadata), unchanged; null when untagged.",
        }),
      ),
    ),
    timestamp: Type.Number({ description: 'Wall clock when the frame was decoded, seconds since the epoch (ms precision).' }),
    pts: Type.Number({ description: 'Presentation time since the stream start, seconds (ms precision).' }),
    processing_time_ms: Type.Number({ minimum: 0, description: 'Decode → result latency, ms (µs precision).' }),
    width: Type.Integer({ minimum: 0, description: 'Source frame width, pixels.' }),
    height: Type.Integer({ minimum: 0, description: 'Source frame height, pixels.' }),
    inferred: Type.Boolean({
      description: 'The detector ran on this frame; false: no detections, the tracks are the tracker\'s predictions.',
    }),
    // Added within v1, so optional here: a v1 message written before it existed stays valid (camtrack writes it always).
    inferred_by: Type.Optional(
      nullable(
        Type.Union([Type.Literal('primary'), Type.Literal('fallback')], {
          description:
            "Which backend inferred the frame (FrameResult.inferredBy): 'primary', or 'fallback' (the circuit breaker's " +
            'CPU fallback while the breaker was open); null when the frame was not inferred.',
        }),
      ),
    ),
    detections: Type.Array(WireDetectionSchema),
    tracks: Type.Array(WireTrackSchema),
    track_events: Type.Array(WireTrackEventSchema, { description: 'Track lifecycle events of this frame (usually empty).' }),
    analytics: nullable(WireAnalyticsSchema),
  },
  { title: 'camtrack result', description: 'One frame of one camera: detections, tracks and their events.' },
);

/** The `error` object of events (library: CamtrackError). */
export const WireErrorSchema = Type.Object({
  code: Type.String({ description: 'Stable ERR_CAMTRACK_* code.' }),
  message: Type.String({ description: 'What happened; URL credentials redacted.' }),
  hint: nullable(Type.String({ description: 'What to do about it.' })),
  stage: nullable(Type.String({ description: "Stage that failed: 'source', 'decode', 'inference', …" })),
  native_code: nullable(Type.Integer({ description: 'The underlying library code (AVERROR, cudaError_t, …).' })),
});

const streamStates = ['connecting', 'live', 'stalled', 'reconnecting', 'ended', 'failed', 'stopped'] as const;
const StreamStateSchema = Type.Union(streamStates.map((s) => Type.Literal(s)));
const eventTime = Type.Number({ description: 'Wall clock when the event was emitted in JS, seconds since the epoch.' });

/** A stream state change (library: StateChange). */
export const WireStateMessageSchema = Type.Object(
  {
    ...header,
    type: Type.Literal('state'),
    timestamp: eventTime,
    state: StreamStateSchema,
    previous: StreamStateSchema,
    reason: Type.String({ description: "Short stable word: 'connected', 'eof', 'stalled', 'refused', … (StateChange.reason)." }),
    attempt: nullable(Type.Integer({ minimum: 0, description: 'Consecutive failed attempts (stalled/reconnecting).' })),
    error: nullable(WireErrorSchema),
  },
  { title: 'camtrack state event' },
);

/** A stream's 'warning' or 'error' event. */
export const WireErrorMessageSchema = Type.Object(
  {
    ...header,
    camera_id: nullable(
      Type.String({ description: 'The camera the event is about; null for a pipeline-wide warning (e.g. an execution provider that did not start).' }),
    ),
    type: Type.Union([Type.Literal('warning'), Type.Literal('error')], {
      description: "'warning': a failed attempt, the camera goes on; 'error': the camera gave up (state 'failed').",
    }),
    timestamp: eventTime,
    error: WireErrorSchema,
  },
  { title: 'camtrack warning/error event' },
);

/** One track event on its own (a Stream 'track' event), placed in its result's frame. */
export const WireTrackMessageSchema = Type.Composite(
  [
    Type.Object({
      ...header,
      type: Type.Literal('track'),
      frame_id: Type.Integer({ minimum: 0, description: 'frame_id of the result the event belongs to.' }),
      timestamp: Type.Number({ description: 'timestamp of that result.' }),
    }),
    WireTrackEventSchema,
  ],
  { title: 'camtrack track event' },
);

const count = (description: string) => Type.Integer({ minimum: 0, description });

/**
 * A camera's counters at one moment (library: StreamStats, a subset, names snake_cased one to one): what the Redis
 * `metrics` event stream carries, one message per camera per interval. Counters are totals since the camera started
 * (a client takes differences for rates).
 */
export const WireMetricsMessageSchema = Type.Object(
  {
    ...header,
    type: Type.Literal('metrics'),
    timestamp: Type.Number({ description: 'Wall clock when the counters were read, seconds since the epoch.' }),
    state: StreamStateSchema,
    fps: Type.Number({ minimum: 0, description: 'Results per second over the last second (StreamStats.fps).' }),
    input_fps: Type.Number({ minimum: 0, description: 'Decoded frames per second over the last second (inputFps).' }),
    frames_decoded: count('Frames decoded (framesDecoded).'),
    frames_delivered: count('Results delivered (framesDelivered).'),
    frames_corrupt: count('Packets rejected and frames flagged corrupt by the decoder (framesCorrupt).'),
    dropped: Type.Object(
      {
        busy: count('Live: no batch slot free (dropped.busy).'),
        fps_limit: count('Skipped by fpsLimit (dropped.fpsLimit).'),
        inference: count('Their batch failed (dropped.inference).'),
        breaker: count("Wanted inference while the backend's circuit breaker was open (dropped.breaker)."),
        decoder_pool: count('Live NVDEC: its surface pool was full (dropped.decoderPool).'),
        consumer: count("Results a slow consumer's full queue dropped (dropped.consumer)."),
      },
      { description: 'Frames decoded but never delivered, by cause (StreamStats.dropped).' },
    ),
    skipped: Type.Object(
      {
        interval: count("Not inferred: the stream's inference.interval (skipped.interval)."),
        motion: count('Not inferred: motion gating found no motion (skipped.motion).'),
      },
      { description: 'Frames delivered without inference (inferred false, tracks predicted), by cause (StreamStats.skipped).' },
    ),
    last_frame_age_ms: Type.Number({ description: 'Decode → delivery latency of the newest result, ms; -1 before the first.' }),
    reconnects: count('Times the source came back after a loss.'),
    inference_state: Type.Union([Type.Literal('ok'), Type.Literal('failing')], { description: "Inference health (inference.state)." }),
    fallback: Type.Optional(Type.Object(
      {
        frames: count("Results inferred by the circuit breaker's CPU fallback while it was open (fallback.frames)."),
        failed: count("Frames lost with the fallback's failed batches, also in dropped.breaker (fallback.failed)."),
      },
      {
        description:
          'inference.breaker.fallback (docs/scheduling.md); zeros without a fallback. Added within v1: always written, optional in the schema so that earlier v1 messages stay valid.',
      },
    )),
  },
  { title: 'camtrack metrics event' },
);

/**
 * One analytics event on its own (a Stream 'analytics' event: line-cross, zone-enter, …), placed in its result's
 * frame: what webhooks, MQTT and the Redis `analytics_events` stream carry (docs/analytics.md, "Where the counts go").
 * The event's kind is `event` (the message's `type` is 'analytics'); its other fields are those of the result's
 * `analytics.events` entries, plus the class's `label`.
 */
export const WireAnalyticsEventMessageSchema = Type.Composite(
  [
    Type.Object({
      ...header,
      type: Type.Literal('analytics'),
      event: Type.Union(['line-cross', 'zone-enter', 'zone-exit', 'loiter', 'overcrowd', 'speed'].map((t) => Type.Literal(t))),
      frame_id: Type.Integer({ minimum: 0, description: 'frame_id of the result the event belongs to.' }),
      timestamp: Type.Number({ description: 'timestamp of that result.' }),
      label: Type.Optional(Type.String({ description: "The class name of class_id (events about a track), when the model's labels are known." })),
    }),
    Type.Omit(WireAnalyticsEventSchema, ['type']),
  ],
  { title: 'camtrack analytics event' },
);

const perClassCount = Type.Object({ class_id: Type.Integer({ minimum: 0 }), label: Type.String(), in: Type.Integer({ minimum: 0 }), out: Type.Integer({ minimum: 0 }) });

/**
 * A camera's cumulative line counts and zone occupancy at one moment: GET /api/v1/cameras/{id}/analytics, the
 * Redis hash that keeps the counts across restarts, MQTT's retained topics (docs/analytics.md).
 */
export const WireAnalyticsCountsSchema = Type.Object(
  {
    ...header,
    type: Type.Literal('analytics_counts'),
    timestamp: Type.Number({ description: 'Wall clock when the counts were read, seconds since the epoch.' }),
    frame_id: nullable(Type.Integer({ minimum: 0, description: 'frame_id of the result the counts are from; null before the first.' })),
    ts_ms: nullable(Type.Number({ description: "That result's stream timestamp, ms; null before the first." })),
    lines: Type.Record(
      Type.String(),
      Type.Object({
        in: Type.Integer({ minimum: 0, description: 'Cumulative.' }),
        out: Type.Integer({ minimum: 0, description: 'Cumulative.' }),
        per_class: Type.Array(perClassCount),
      }),
      { description: 'Every configured line by id.' },
    ),
    zones: Type.Record(Type.String(), Type.Object({ occupancy: Type.Integer({ minimum: 0 }) }), { description: 'Every configured zone by id.' }),
  },
  { title: 'camtrack analytics counts' },
);

/** A stream event: state change, warning/error, or one track event (the 'track' event of a Stream). */
export const WireEventSchema = Type.Union([WireStateMessageSchema, WireErrorMessageSchema, WireTrackMessageSchema], {
  title: 'camtrack stream event',
});

export type WireBox = Static<typeof WireBoxSchema>;
export type WireDetection = Static<typeof WireDetectionSchema>;
export type WireTrack = Static<typeof WireTrackSchema>;
export type WireTrackEvent = Static<typeof WireTrackEventSchema>;
export type WireResult = Static<typeof WireResultSchema>;
export type WireError = Static<typeof WireErrorSchema>;
export type WireStateMessage = Static<typeof WireStateMessageSchema>;
export type WireErrorMessage = Static<typeof WireErrorMessageSchema>;
export type WireTrackMessage = Static<typeof WireTrackMessageSchema>;
export type WireEvent = Static<typeof WireEventSchema>;
export type WireMetricsMessage = Static<typeof WireMetricsMessageSchema>;
export type WireAnalyticsEventMessage = Static<typeof WireAnalyticsEventMessageSchema>;
export type WireAnalyticsCounts = Static<typeof WireAnalyticsCountsSchema>;
/** Anything that leaves the process. */
export type WireMessage = WireResult | WireEvent | WireMetricsMessage;
