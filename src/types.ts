import type { AnalyticsFrameResult } from './analytics.js';
import type { CamtrackError } from './errors.js';
import type { TrackEvent } from './tracker.js';

/** Public result types. Coordinates are source-frame pixels; boxes are corners (x1,y1) top-left, (x2,y2) bottom-right. */

export interface Detection {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classId: number;
  /** Class name from the model metadata (or COCO). */
  label: string;
}

export interface Track extends Detection {
  /** Stable id of the object within its stream (ByteTrack id, from 1). */
  trackId: number;
  /** Frames since the track started. */
  age: number;
}

export interface FrameResult {
  /** The stream's id as given to addStream(). */
  streamId: string;
  /**
   * 0-based index of the frame among the stream's decoded frames (gaps = frames skipped by fpsLimit or drops).
   * Continues across reconnects (never restarts within a stream), as does ptsMs (the outage counts as elapsed time).
   */
  frameIndex: number;
  /** Presentation time from the stream start, ms. */
  ptsMs: number;
  /** Wall clock when the frame was decoded (ms since epoch). */
  timestampMs: number;
  /** Decode → result latency, ms. */
  latencyMs: number;
  /** Source frame size. */
  width: number;
  height: number;
  /**
   * Whether the detector ran on this frame. `false`: the frame was postprocessed without inference (in frame order
   * with the stream's other frames): `detections` is empty and `tracks` are the tracker's predictions (a frame that is
   * not inferred is not a miss: lost-track buffers count inferred frames only). Always `true` today; inference
   * intervals and motion gating will pass frames through.
   */
  inferred: boolean;
  /**
   * Which backend inferred the frame: `primary` (the pipeline's workers), `fallback` (the circuit breaker's CPU
   * fallback, inference.breaker.fallback 'cpu', while the breaker was open; docs/scheduling.md); null when the frame
   * was not inferred.
   */
  inferredBy: 'primary' | 'fallback' | null;
  detections: Detection[];
  tracks: Track[];
  /** Track lifecycle events of this frame: 'new', 'lost', 'refound', 'removed' (usually empty). */
  trackEvents: TrackEvent[];
  /** Streams with `analytics` (docs/analytics.md): this frame's line counts, zone occupancy, memberships, speeds, events. */
  analytics?: AnalyticsFrameResult;
  /**
   * Per-frame tags (src/frame-tags.ts), present only on a frame that was tagged (Stream#tagFrame; later, frames pushed
   * with an id or read from Redis): the client's id of the frame (on the wire `frame_id`, instead of frameIndex), its
   * metadata as given, and the key of the message that carried it (a Redis entry id; on the wire `message_key`).
   */
  frameId?: number;
  metadata?: Record<string, unknown>;
  messageKey?: string;
}

/**
 * The 'warning' of a pushed frame that could not be decoded (Stream#push()): a CamtrackError (code
 * ERR_CAMTRACK_DECODE, or ERR_CAMTRACK_UNSUPPORTED for a valid picture this build cannot decode) that also says why
 * (`reason`: 'empty', 'wrong_codec', 'truncated', 'corrupt', 'too_large', 'unsupported', 'no_keyframe') and which
 * frame: its sequence number among the stream's pushes (from 0) and the tag it was pushed with.
 */
export interface PushedFrameError extends CamtrackError {
  reason: string;
  frame: { seq: number; frameId?: number; metadata?: Record<string, unknown>; messageKey?: string };
}

/** Pushed streams' counters (StreamStats.push; docs/push.md). Counters are monotonic. */
export interface PushStats {
  codec: 'jpeg' | 'png' | 'h264' | 'hevc';
  /** 'live' (keep the newest) or 'lossless' (push() reports back-pressure): the stream's `live`. */
  policy: 'live' | 'lossless';
  /** The queue's bound (pushQueueSize) and the frames waiting in it now. */
  queueSize: number;
  queued: number;
  /** Frames accepted by push(). */
  pushed: number;
  /** Lossless: pushes refused (thrown) because the queue was full (push() had returned false). */
  refused: number;
  /**
   * Live only, frames dropped before decoding: `queue` by a full queue (JPEG/PNG: the oldest; H.264/HEVC: every
   * waiting access unit), `untilKeyframe` the H.264/HEVC access units then skipped until the next keyframe.
   */
  dropped: { queue: number; untilKeyframe: number };
  /** Bad frames by reason (each a 'warning', within the rate limit); their sum is framesCorrupt. */
  rejected: { empty: number; wrongCodec: number; truncated: number; corrupt: number; tooLarge: number; unsupported: number; noKeyframe: number };
  /** Bad frames not warned about one by one (more than 5 at once, then one warning per second), counted here. */
  warningsSuppressed: number;
}

/**
 * Stream lifecycle states: `connecting → live → stalled → reconnecting → live | failed | ended`, `stopped` on
 * removal. Files: `connecting → live → ended | failed`. See docs/ingest.md.
 */
export type StreamState = 'connecting' | 'live' | 'stalled' | 'reconnecting' | 'ended' | 'failed' | 'stopped';

/**
 * Why a state changed (third argument of the 'state' event). `reason` is a short stable word: 'connected',
 * 'reconnected', 'eof', 'stalled', 'disconnected', 'read_timeout', 'read_error', 'lag', 'refused', 'unreachable',
 * 'not_found', 'unauthorized', 'timeout', 'open_failed', 'no_video', 'decoder', 'removed', 'internal'.
 * `error` is the failure behind the change (code, redacted message, hint), when there was one.
 */
export interface StateChange {
  state: StreamState;
  previous: StreamState;
  reason: string;
  /** Consecutive failed attempts so far (for 'stalled'/'reconnecting'). */
  attempt?: number;
  error?: CamtrackError;
}

/**
 * Inference health, in stream and pipeline stats. A stream is `failing` from a failed inference batch with its frames
 * until one of its frames is delivered again (the pipeline: until a batch succeeds); each outage gives two 'warning'
 * events (ERR_CAMTRACK_INFERENCE), when it starts and when it ends, and the stream stays in its state (a live stream
 * stays `live`). The frames are counted in `dropped.inference`.
 */
export interface InferenceHealth {
  state: 'ok' | 'failing';
  /** Failed batches, all time (a stream: those that held frames of it). */
  failedBatches: number;
  /** Failed batches since the last success: 0 while `ok`. */
  consecutiveFailures: number;
  /** The error that started the current (or last) outage. */
  lastError?: string;
}

/**
 * Decode → result latency in fixed buckets, as a Prometheus histogram takes them: `counts[i]` is the number of
 * results with latency <= `boundsMs[i]` (cumulative, `le`); `counts` has one more entry than `boundsMs`, the number of
 * all results (`le="+Inf"`, equal to `count`). `sumMs` is the sum of their latencies. Monotonic: reading never
 * resets it.
 */
export interface LatencyHistogram {
  /** 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000 (ms). */
  boundsMs: number[];
  counts: number[];
  sumMs: number;
  count: number;
}

/**
 * A stream's stats. The addon produces these names as they are (native/core/pipeline/stats.h, VisitStats), except
 * `dropped.consumer`, which JS counts. Counters are monotonic (never reset by reading); the rates belong to the
 * stream (reading them, from anywhere and however often, changes nothing).
 */
export interface StreamStats {
  id: string;
  /** URL with credentials removed. */
  url: string;
  state: StreamState;
  live: boolean;
  codec: string;
  /** Decoder of the current (or last) connection: 'nvdec' (GPU) or 'cpu' (libavcodec). See StreamOptions.decode. */
  decoder: 'cpu' | 'nvdec';
  width: number;
  height: number;
  nominalFps: number;
  /** Video packets received (frames in), over all connections. */
  packets: number;
  framesDecoded: number;
  /** Packets the decoder rejected plus frames it flagged as corrupt (decoding resumes at the next keyframe). */
  framesCorrupt: number;
  framesSubmitted: number;
  framesDelivered: number;
  /**
   * Frames that were decoded but never delivered, by cause: `busy` (live: no batch slot free, the newest frame is
   * kept), `fpsLimit`, `inference` (the batch failed), `decoderPool` (live NVDEC: its bounded surface pool was full;
   * always 0 on the CPU decoder and for files), `consumer` (results a slow reader's full queue dropped: this
   * stream's `results()` iterators and the share of `pipeline.results()` iterators, each drop counted once per queue),
   * `breaker` (the frame wanted inference while the backend's circuit breaker was open; docs/scheduling.md).
   */
  dropped: { busy: number; fpsLimit: number; inference: number; breaker: number; decoderPool: number; consumer: number };
  /**
   * Frames submitted WITHOUT inference (their results say `inferred: false`; the tracker predicts), by cause:
   * `interval` (the stream's `inference.interval`), `motion` (motion gating found no motion). docs/scheduling.md.
   */
  skipped: { interval: number; motion: number };
  /**
   * The circuit breaker's fallback backend (inference.breaker.fallback 'cpu'; docs/scheduling.md): `frames` delivered
   * that it inferred (their results say inferredBy 'fallback'), `failed` frames lost with its failed batches (also in
   * dropped.breaker). framesDelivered + dropped.inference + fallback.failed = framesSubmitted once a stream is done.
   */
  fallback: { frames: number; failed: number };
  /** Decode → delivery latency of the newest delivered frame, ms (-1 before the first). */
  lastFrameAgeMs: number;
  /** While live: ms since the newest frame was decoded (grows while a camera is silent); -1 otherwise. */
  frameAgeMs: number;
  /**
   * Decoded frames per second over the last second (up to 100 ms old); in a connection's first second, the rate so far
   * (from 250 ms on). 0 when not live, and a second after frames stop.
   */
  inputFps: number;
  /** Delivered frames (results) per second over the last second, measured the same way as inputFps. */
  fps: number;
  /** Latency (FrameResult.latencyMs) of this stream's delivered frames. */
  latencyHistogram: LatencyHistogram;
  /** Connection attempts after a loss, and how many of them brought the stream back. */
  reconnectAttempts: number;
  reconnects: number;
  inference: InferenceHealth;
  /** Pushed streams (input 'push') only. */
  push?: PushStats;
  lastError?: string;
  /** Code and reason word of lastError (see StateChange; `inference` for an inference outage). */
  lastErrorCode?: string;
  lastErrorReason?: string;
}

/** States of the backend's circuit breaker. */
export type BreakerState = 'closed' | 'open' | 'half-open';
/** Why the breaker moved: closed→open `consecutive`/`window`, open→half-open `cooldown`, half-open→ `probe-ok`/`probe-failed`. */
export type BreakerReason = 'consecutive' | 'window' | 'cooldown' | 'probe-ok' | 'probe-failed';

/** The Pipeline's 'breaker' event: one per transition of the backend's circuit breaker. */
export interface BreakerEvent {
  from: BreakerState;
  to: BreakerState;
  reason: BreakerReason;
  /** With the counts and the error that tripped it (redacted like every inference error). */
  message: string;
}

/** The circuit breaker's part of PipelineStats. */
export interface BreakerStats {
  state: BreakerState;
  /** Times it opened, all time. */
  opens: number;
  /**
   * Frames dropped because it was open, all streams (the sum of their dropped.breaker): refused with no fallback
   * (or none left), or lost with a failed fallback batch.
   */
  droppedFrames: number;
  /** inference.breaker.fallback. */
  fallback: 'none' | 'cpu';
  /** Frames the fallback inferred and delivered while the breaker refused them (the sum of streams' fallback.frames). */
  fallbackFrames: number;
  /** The fallback's batches, and those that failed. Not in batches / failedBatches, which are the primary backend's. */
  fallbackBatches: number;
  fallbackFailedBatches: number;
  /** Transitions so far, by reason. */
  transitions: Record<BreakerReason, number>;
}

/** The batcher's part of PipelineStats. */
export interface BatchingStats {
  /**
   * `adaptive`: the controller chooses batchCap and waitMs (batching.targetLatencyMs, dynamic-batch model);
   * `fixed-batch`: the model's own batch size, the controller is off; `static`: maxBatchSize and maxWaitMs.
   */
  mode: 'adaptive' | 'fixed-batch' | 'static';
  /** Images a batch takes before it is dispatched. */
  batchCap: number;
  /** How long a partly filled batch waits, ms. */
  waitMs: number;
  /** batching.targetLatencyMs (0: none). */
  targetLatencyMs: number;
  /**
   * The controller's last decision window's p99 latency, ms, from each frame's batch position to its result (the
   * wait for a position is not in it; 0 before the first; adaptive only).
   */
  windowP99Ms: number;
  /** The controller's inference time estimate for a batch of batchCap, ms (adaptive only). */
  inferEstimateMs: number;
  /** The controller's additive increases and multiplicative decreases so far. */
  increases: number;
  decreases: number;
  /** Positions given to normal-priority streams ranked high by the starvation rule. */
  starvationPromotions: number;
}

/** The pipeline's stats: produced by the addon as they are (VisitStats), except `backend`. */
export interface PipelineStats {
  backend: string;
  batchSize: number;
  batches: number;
  images: number;
  failedBatches: number;
  inference: InferenceHealth;
  meanBatchFill: number;
  meanInferMs: number;
  /** Decode → result latency of every delivered frame: p50/p99 from 5 %-wide buckets (capped at the max), ms. */
  latency: { p50Ms: number; p99Ms: number; maxMs: number; samples: number };
  /** The same latencies in fixed buckets (`count` == `latency.samples`). */
  latencyHistogram: LatencyHistogram;
  /** The backend's circuit breaker (config inference.breaker; docs/scheduling.md "Circuit breaker"). */
  breaker: BreakerStats;
  inFlight: number;
  /** How batches are sized now (docs/scheduling.md "Adaptive batching and priorities"). */
  batching: BatchingStats;
  /** Times the native result ring was full because JS did not drain it. */
  resultWaits: number;
  streams: StreamStats[];
}
