/**
 * VisionCoreService.ProcessCameraStream (docs/grpc.md): one call = one pushed camera `grpc-<camera_id>` of its own,
 * created from the first message (`config`: camera_id and live options, wire names of src/wire/config.ts) and removed
 * when the call ends or is cancelled (its work stops at once). Frames in, results out in frame order (the camera's
 * results come in push order). Towards a slow reader at most OUT_QUEUE messages wait beyond what grpc-js buffers (its
 * writable side: writableHighWaterMark messages, 16, then HTTP/2 flow control): when full the oldest goes and
 * `dropped` counts it (the reader gets the newest). `dropped` is stamped on each message as it is handed to grpc-js,
 * so the last message of a call carries the call's total. Each call is one of the service's gRPC cameras
 * (serve.grpc.maxCameras, with the ProcessFrame cameras): over the bound the call fails RESOURCE_EXHAUSTED.
 */
import type * as grpc from '@grpc/grpc-js';
import type { CameraRegistry } from '../../cameras/registry.js';
import { CamtrackError } from '../../errors.js';
import type { Stream } from '../../stream.js';
import type { FrameResult, PushedFrameError } from '../../types.js';
import { configureFromWire } from '../../wire/config.js';
import { toWireResult } from '../../wire/map.js';
import type { ResolvedSessionLimits } from '../sessions/table.js';
import { checkToken } from './auth.js';
import { toServiceError } from './errors.js';
import { priorityOf, type FramePriority } from './priority.js';
import { fromStruct, type Struct } from './struct.js';
import { toProtoResult, type GrpcCounters } from './vision.js';

export const OUT_QUEUE = 16;
/** After the client's half-close, how long the call waits for the results of its last frames, ms. */
const END_GRACE_MS = 10_000;
const CAMERA_ID = /^[A-Za-z0-9_.-]{1,64}$/;

interface StreamRequest {
  config?: { camera_id: string; confidence_threshold?: number; enable_tracking?: boolean; priority?: string | number | null } | null;
  frame?: { frame_id: number; image: Buffer; metadata?: Struct | null; priority?: string | number | null } | null;
}

/** A CameraStreamResponse; `dropped` is set when it is handed to grpc-js. */
interface OutMessage {
  result?: unknown;
  error?: unknown;
  dropped: number;
}

/** The service's side of the stream calls: their count towards maxCameras, their buffered results (a gauge). */
export interface StreamCalls {
  /** Registers a call (its buffered-results reader); throws ERR_CAMTRACK_SESSION_LIMIT over serve.grpc.maxCameras. */
  open(queued: () => number): void;
  close(queued: () => number): void;
}

export function cameraStreamHandler(
  registry: CameraRegistry,
  limits: ResolvedSessionLimits,
  model: string | undefined,
  token: string | undefined,
  counters: GrpcCounters,
  calls: StreamCalls,
): (call: grpc.ServerDuplexStream<StreamRequest, unknown>) => void {
  return (call) => {
    const queued = () => queue.length + call.writableLength;
    try {
      checkToken(call.metadata, token);
      calls.open(queued);
    } catch (err) {
      counters.errors++;
      call.emit('error', toServiceError(err));
      return;
    }
    let stream: Stream | undefined;
    let starting: Promise<void> | undefined;
    let finished = false;
    let dropped = 0;
    let pushed = 0;
    let answered = 0;
    let inputEnded = false;
    /** config.priority: the priority of the call's frames whose own is unset (per frame, see vision.ts). */
    let callPriority: FramePriority | undefined;
    const queue: OutMessage[] = [];

    // Writes while grpc-js takes more (write() said wait: until 'drain'); every new result calls this, so without the
    // writableNeedDrain check grpc-js's buffer would grow without bound behind a slow reader.
    const flush = () => {
      while (queue.length > 0 && !finished && !call.writableNeedDrain) {
        const msg = queue.shift()!;
        msg.dropped = dropped;
        call.write(msg);
      }
      if (inputEnded && answered >= pushed && queue.length === 0) finish();
    };
    const send = (msg: OutMessage) => {
      if (finished) return;
      queue.push(msg);
      if (queue.length > OUT_QUEUE) {
        queue.shift();
        dropped++;
        counters.stream_results_dropped++;
      }
      flush();
    };
    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      calls.close(queued);
      queue.length = 0;
      const s = stream;
      if (s) void registry.remove(s.id).catch(() => undefined);
      if (err !== undefined) {
        counters.errors++;
        call.emit('error', toServiceError(err));
      } else if (!call.cancelled) call.end();
    };
    call.on('drain', flush);
    call.on('cancelled', () => finish());
    call.on('error', () => finish());

    const start = async (cfg: NonNullable<StreamRequest['config']>) => {
      if (!CAMERA_ID.test(cfg.camera_id ?? '')) {
        throw new CamtrackError('invalid camera_id', 'ERR_CAMTRACK_INVALID_ARGUMENT', { stage: 'grpc', hint: 'config.camera_id: 1-64 characters of A-Z a-z 0-9 _ . -' });
      }
      callPriority = priorityOf(cfg.priority, 'config.priority');
      const s = await registry.add({
        id: `grpc-${cfg.camera_id}`,
        input: 'push',
        codec: 'jpeg',
        live: true,
        pushQueueSize: limits.pushQueueSize,
        maxPixels: limits.maxPixels,
        ...(model !== undefined ? { model } : {}),
      });
      stream = s;
      if (finished) {
        await registry.remove(s.id).catch(() => undefined);
        return;
      }
      const live: Record<string, unknown> = {};
      if (cfg.confidence_threshold !== undefined) live.confidence_threshold = cfg.confidence_threshold;
      if (cfg.enable_tracking !== undefined) live.enable_tracking = cfg.enable_tracking;
      if (Object.keys(live).length > 0) configureFromWire(s, live, 'config');
      s.on('result', (r: FrameResult) => {
        answered++;
        counters.results_sent++;
        send({ result: toProtoResult(toWireResult(r)), dropped });
      });
      s.on('warning', (e: CamtrackError) => {
        if (!(e as Partial<PushedFrameError>).frame) return;
        answered++;
        send({ error: { code: e.code, message: e.message, ...(e.hint !== undefined ? { hint: e.hint } : {}) }, dropped });
      });
    };

    call.on('data', (msg: StreamRequest) => {
      if (finished) return;
      if (!starting) {
        if (!msg.config) {
          finish(new CamtrackError('the first message must be config', 'ERR_CAMTRACK_INVALID_ARGUMENT', { stage: 'grpc', hint: 'send { config: { camera_id } } first, then frames' }));
          return;
        }
        starting = start(msg.config).catch((err) => finish(err));
        return;
      }
      const frame = msg.frame;
      if (!frame) {
        finish(new CamtrackError('config may only be the first message', 'ERR_CAMTRACK_INVALID_ARGUMENT', { stage: 'grpc', hint: 'open a new call for a new config' }));
        return;
      }
      counters.frames_received++;
      void starting.then(() => {
        if (finished || !stream) return;
        if (frame.image.length === 0 || frame.image.length > limits.maxFrameBytes) {
          send({ error: { code: 'ERR_CAMTRACK_BAD_FRAME', message: `image of ${frame.image.length} bytes (1..${limits.maxFrameBytes} accepted)` }, dropped });
          return;
        }
        const meta = frame.metadata ? fromStruct(frame.metadata) : undefined;
        try {
          const priority = priorityOf(frame.priority, 'frame.priority') ?? callPriority ?? 'normal';
          stream.push(frame.image, { frameId: frame.frame_id, ...(meta !== undefined ? { meta } : {}), ...(priority === 'high' ? { priority } : {}) });
          pushed++;
        } catch (err) {
          const e = err as CamtrackError;
          send({ error: { code: e.code ?? 'ERR_CAMTRACK_BAD_FRAME', message: e.message }, dropped });
        }
      });
    });
    call.on('end', () => {
      inputEnded = true;
      void (starting ?? Promise.resolve()).then(() => flush());
      // Frames the live camera dropped (its push queue was full) have no result: end anyway after END_GRACE_MS.
      setTimeout(() => finish(), END_GRACE_MS).unref();
    });
  };
}
