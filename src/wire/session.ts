/**
 * Messages of the detection sessions of `camtrack serve` (WebSocket `/stream/detection`, SSE `/stream/events/{id}`,
 * docs/sessions.md): the design's `detection_result` and `error` messages, the `session` greeting, and a session's
 * stats. `detection_result.data` IS the result message of ./schema.ts (toWireResult), so a session's results have the
 * one wire format's names, rounding and nulls; this file only wraps it.
 */
import { Type, type Static } from '@sinclair/typebox';

import type { CamtrackError } from '../errors.js';
import { redactSecretsIn } from '../errors.js';
import type { FrameResult } from '../types.js';
import { toWireResult } from './map.js';
import { WireResultSchema } from './schema.js';

const nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

/** `{ type: 'detection_result', data }`: one frame's result; `data` is the wire result message (frame_id, detections, tracks, …). */
export const WireDetectionResultMessageSchema = Type.Object(
  { type: Type.Literal('detection_result'), data: WireResultSchema },
  { title: 'camtrack session detection_result' },
);

/** `{ type: 'error', error, error_code, hint, frame_id, timestamp }`: a frame or message the session could not take. */
export const WireSessionErrorMessageSchema = Type.Object(
  {
    type: Type.Literal('error'),
    error: Type.String({ description: 'What was wrong (redacted).' }),
    error_code: Type.String({ description: 'Stable ERR_CAMTRACK_* code.' }),
    hint: nullable(Type.String({ description: 'What to do about it.' })),
    frame_id: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: "The frame's frame_id when known, else null." }),
    timestamp: Type.Number({ description: 'When the server sent it, seconds since the epoch (ms precision).' }),
  },
  { title: 'camtrack session error' },
);

/** A session's live options, as clients name them (src/wire/config.ts). */
export const WireSessionConfigSchema = Type.Object({
  fps_limit: Type.Number({ minimum: 0, description: 'Frames per second the session takes at most; more are dropped (cause rate); 0 = no limit.' }),
  confidence_threshold: Type.Number({ minimum: 0, maximum: 1, description: "Minimum detection score (the stream's detection.scoreThreshold)." }),
  enable_tracking: Type.Boolean({ description: "false: tracker 'none' (detections only, tracks empty)." }),
});

/** `{ type: 'session', client_id, config }`: the first message of a WebSocket session. */
export const WireSessionMessageSchema = Type.Object(
  { type: Type.Literal('session'), client_id: Type.String(), config: WireSessionConfigSchema },
  { title: 'camtrack session greeting' },
);

const count = (description: string) => Type.Integer({ minimum: 0, description });

/** Drops by cause (docs/sessions.md, "Accounting"): of frames (all but `outbox`) and of results (`outbox`). */
export const WireSessionDropsSchema = Type.Object({
  invalid: count('Frames refused before decoding: bad base64, not an image of the codec, too large, bad frame_id.'),
  rate: count('Frames over fps_limit.'),
  queue: count('Frames dropped from the full push queue before decoding (the oldest waiting).'),
  decode: count('Frames the decoder rejected (corrupt, truncated, …).'),
  busy: count('Decoded frames that found no free batch position.'),
  inference: count('Frames of a failed inference batch.'),
  consumer: count("Results dropped by the stream's full result queue."),
  outbox: count('Results dropped because the client did not read them in time (slow reader; the newest are kept).'),
});

/** `GET /stream/sessions/{client_id}/stats`. */
export const WireSessionStatsSchema = Type.Object(
  {
    client_id: Type.String(),
    transport: Type.Union([Type.Literal('websocket'), Type.Literal('sse')]),
    connected: Type.Boolean({ description: 'A WebSocket or SSE reader is attached now.' }),
    created_at: Type.Number({ description: 'Seconds since the epoch.' }),
    idle_ms: Type.Number({ minimum: 0, description: 'Since the last frame or config update.' }),
    config: WireSessionConfigSchema,
    frames_received: count(
      'Frames the client sent: results_produced + every drop but outbox + in_flight (outbox drops are of results: results_produced = results_sent + dropped.outbox + outbox).',
    ),
    frames_pushed: count('Frames handed to the pipeline.'),
    results_produced: count('Results the pipeline delivered for this session.'),
    results_sent: count('Results written to the client.'),
    in_flight: count('Frames pushed and not yet delivered or dropped.'),
    outbox: count('Results waiting to be written now.'),
    buffered_bytes: count("Bytes written and not yet taken by the client's socket (ws bufferedAmount / SSE writableLength)."),
    errors_sent: count('Error messages sent.'),
    messages_rejected: count('Messages that were no frame: malformed JSON, an unknown type, a bad config update (each answered with an error).'),
    dropped: WireSessionDropsSchema,
  },
  { title: 'camtrack session stats' },
);

export type WireDetectionResultMessage = Static<typeof WireDetectionResultMessageSchema>;
export type WireSessionErrorMessage = Static<typeof WireSessionErrorMessageSchema>;
export type WireSessionConfig = Static<typeof WireSessionConfigSchema>;
export type WireSessionMessage = Static<typeof WireSessionMessageSchema>;
export type WireSessionDrops = Static<typeof WireSessionDropsSchema>;
export type WireSessionStats = Static<typeof WireSessionStatsSchema>;

/** A session's result → `{ type: 'detection_result', data: <the wire result> }`. */
export function toWireDetectionResult(r: FrameResult): WireDetectionResultMessage {
  return { type: 'detection_result', data: toWireResult(r) };
}

/** A CamtrackError about a frame (or a message) → the session's error message, stamped `nowMs` (default now). */
export function toWireSessionError(err: Pick<CamtrackError, 'message' | 'code' | 'hint'>, frameId: number | null, nowMs = Date.now()): WireSessionErrorMessage {
  return {
    type: 'error',
    error: redactSecretsIn(err.message),
    error_code: err.code,
    hint: err.hint !== undefined ? redactSecretsIn(err.hint) : null,
    frame_id: frameId,
    timestamp: Math.round(nowMs) / 1000,
  };
}
