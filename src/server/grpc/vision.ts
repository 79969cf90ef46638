/**
 * camtrack.v1.VisionCoreService (proto/camtrack/v1/vision.proto, docs/grpc.md). Each camera_id is a pushed camera on
 * the serve's registry (`grpc-<camera_id>`, input 'push', live, the detection sessions' limits: maxFrameBytes,
 * maxPixels, pushQueueSize), created with its first frame; a frame's result is matched to its call by frame_id. A call
 * whose deadline has already passed is dropped before its frame is pushed (counted: deadline_exceeded_dropped).
 *
 * Such a camera keeps its tracker state between calls, so it lives until it has had no call for
 * serve.grpc.cameraIdleSeconds (then it is removed from the registry, counted: cameras_expired; the camera id's next
 * frame starts a fresh camera). At most serve.grpc.maxCameras gRPC cameras exist at once (these and the
 * ProcessCameraStream calls'); a new one over the bound is refused with ERR_CAMTRACK_SESSION_LIMIT
 * (RESOURCE_EXHAUSTED; counted: cameras_refused).
 *
 * A frame the live camera drops (sent faster than processed) fails its call at once with ERR_CAMTRACK_RATE_LIMITED
 * (counted: frames_dropped): see GrpcCamera.
 *
 * Priority (`priority` of FrameRequest / FrameBatchRequest, src/server/grpc/priority.ts): per frame, not per camera:
 * a PRIORITY_HIGH request's frame is pushed with `priority: 'high'`, so its batch position goes ahead of normal frames
 * of every camera (the batcher's rule for high streams, for that one frame), while the camera's other requests stay
 * normal. Per camera would not do: a camera's priority is fixed when it is created (not live-changeable), and one
 * camera id may carry requests of both priorities.
 */
import * as grpc from '@grpc/grpc-js';
import type { CameraRegistry } from '../../cameras/registry.js';
import { CamtrackError } from '../../errors.js';
import type { Stream } from '../../stream.js';
import type { FrameResult, PushedFrameError } from '../../types.js';
import { toWireResult } from '../../wire/map.js';
import type { WireResult } from '../../wire/schema.js';
import type { ReadinessCheck } from '../readiness.js';
import type { ResolvedSessionLimits } from '../sessions/table.js';
import { checkToken } from './auth.js';
import { cameraStreamHandler, type StreamCalls } from './camera-stream.js';
import { toServiceError } from './errors.js';
import { priorityOf, type FramePriority } from './priority.js';
import { fromStruct, toStruct, type Struct } from './struct.js';

export interface FrameRequest {
  camera_id: string;
  frame_id: number;
  image: Buffer;
  metadata?: Struct | null;
  /** proto enum Priority, as its name (or a number the enum does not know). */
  priority?: string | number | null;
}

/** Counters of GetEngineMetrics (and /metrics). */
export interface GrpcCounters {
  frames_received: number;
  results_sent: number;
  deadline_exceeded_dropped: number;
  stream_results_dropped: number;
  errors: number;
  /** ProcessFrame/ProcessFrameBatch frames the live camera dropped (a later frame answered first): failed at once. */
  frames_dropped: number;
  /** ProcessFrame/ProcessFrameBatch cameras created, removed after serve.grpc.cameraIdleSeconds idle, refused. */
  cameras_created: number;
  cameras_expired: number;
  cameras_refused: number;
}

/** serve.grpc's bounds on the service's cameras. */
export interface GrpcCameraLimits {
  /** A ProcessFrame camera without a call for this long is removed, ms. */
  cameraIdleMs: number;
  /** gRPC cameras (ProcessFrame ones and ProcessCameraStream calls) at once. */
  maxCameras: number;
}

/** A result still awaiting its frame's outcome, at most this long after its push (the pipeline lost it otherwise). */
const RESULT_TIMEOUT_MS = 30_000;
const CAMERA_ID = /^[A-Za-z0-9_.-]{1,64}$/;

const badRequest = (message: string, hint: string) => new CamtrackError(message, 'ERR_CAMTRACK_INVALID_ARGUMENT', { stage: 'grpc', hint });

interface Pending {
  /** Push order within the camera. */
  seq: number;
  resolve(r: FrameResult): void;
  reject(e: unknown): void;
}

const droppedError = () =>
  new CamtrackError('frame dropped by the live camera: a later frame of the camera was answered first', 'ERR_CAMTRACK_RATE_LIMITED', {
    stage: 'grpc',
    hint: "send a camera's frames no faster than its results come back (the camera keeps the newest frames when busy)",
  });

class GrpcCamera {
  readonly pending = new Map<number, Pending>();
  /** Frames pushed so far (Pending.seq). */
  seq = 0;
  /** Calls using the camera now, and when the last one began or ended (for the idle expiry). */
  inUse = 0;
  lastUsedMs = Date.now();
  /** Since when the camera's stats have accounted for every pushed frame while frames were still pending. */
  settledSinceMs: number | undefined;
  /**
   * A camera's results come in push order, so when frame k is answered every frame pushed
   * before it that is still pending was dropped by the live camera (push queue full, or no batch slot free): those
   * calls fail at once (ERR_CAMTRACK_RATE_LIMITED, counted in frames_dropped) instead of waiting for their deadline.
   */
  constructor(
    readonly stream: Stream,
    onDropped: () => void,
  ) {
    this.#onDropped = onDropped;
    const answered = (p: Pending) => {
      for (const q of this.pending.values()) {
        if (q.seq < p.seq) {
          onDropped();
          q.reject(droppedError());
        }
      }
    };
    stream.on('result', (r: FrameResult) => {
      const p = r.frameId !== undefined ? this.pending.get(r.frameId) : undefined;
      if (!p) return;
      answered(p);
      p.resolve(r);
    });
    stream.on('warning', (e: CamtrackError) => {
      const id = (e as Partial<PushedFrameError>).frame?.frameId;
      const p = id !== undefined && id !== null ? this.pending.get(id) : undefined;
      if (p) p.reject(e); // a decode failure comes at decode time, ahead of earlier frames' results: not an order mark
    });
  }

  readonly #onDropped: () => void;

  /**
   * The newest frames can be dropped too, with no later result to tell: when the camera's counters account for every
   * pushed frame (delivered, dropped by cause, corrupt) on two checks SETTLE_MS apart and frames are still pending
   * (their results would have come by then), those were dropped.
   */
  checkSettled(now: number): void {
    if (this.pending.size === 0) {
      this.settledSinceMs = undefined;
      return;
    }
    const st = this.stream.stats();
    const d = st.dropped;
    const accounted =
      st.framesDelivered + st.framesCorrupt + d.busy + d.fpsLimit + d.inference + d.breaker + d.decoderPool + d.consumer + (st.push?.dropped.queue ?? 0) + (st.push?.dropped.untilKeyframe ?? 0);
    if (accounted < (st.push?.pushed ?? 0)) {
      this.settledSinceMs = undefined;
      return;
    }
    if (this.settledSinceMs === undefined) {
      this.settledSinceMs = now;
      return;
    }
    if (now - this.settledSinceMs < SETTLE_MS) return;
    this.settledSinceMs = undefined;
    for (const q of this.pending.values()) {
      this.#onDropped();
      q.reject(droppedError());
    }
  }
}

/** How long a camera's counters must account for every pushed frame before its pending frames count as dropped. */
const SETTLE_MS = 250;

export class VisionService {
  readonly counters: GrpcCounters = {
    frames_received: 0,
    results_sent: 0,
    deadline_exceeded_dropped: 0,
    stream_results_dropped: 0,
    errors: 0,
    frames_dropped: 0,
    cameras_created: 0,
    cameras_expired: 0,
    cameras_refused: 0,
  };
  readonly #registry: CameraRegistry;
  readonly #limits: ResolvedSessionLimits;
  readonly #model: string | undefined;
  readonly #cameraLimits: GrpcCameraLimits;
  readonly #cameras = new Map<string, { camera: Promise<GrpcCamera>; ready?: GrpcCamera }>();
  /** Cameras being removed (expired): a new camera of the same id waits for its removal. */
  readonly #removing = new Map<string, Promise<void>>();
  /** The ProcessCameraStream calls: each one's buffered results. */
  readonly #streamCalls = new Set<() => number>();
  readonly #sweep: NodeJS.Timeout;
  readonly #settle: NodeJS.Timeout;

  constructor(registry: CameraRegistry, limits: ResolvedSessionLimits, model: string | undefined, cameraLimits: GrpcCameraLimits) {
    this.#registry = registry;
    this.#limits = limits;
    this.#model = model;
    this.#cameraLimits = cameraLimits;
    this.#sweep = setInterval(() => this.#expire(), Math.max(250, Math.min(10_000, cameraLimits.cameraIdleMs / 4))).unref();
    this.#settle = setInterval(() => {
      const now = Date.now();
      for (const e of this.#cameras.values()) e.ready?.checkSettled(now);
    }, SETTLE_MS).unref();
  }

  /** ProcessFrame/ProcessFrameBatch cameras that exist now. */
  get activeStreams(): number {
    return this.#cameras.size;
  }

  /** Results waiting in the ProcessCameraStream calls for their readers now (camtrack's queue and grpc-js's). */
  get streamResultsQueued(): number {
    let n = 0;
    for (const q of this.#streamCalls) n += q();
    return n;
  }

  /** Stops the idle sweep (the cameras go with the registry). */
  close(): void {
    clearInterval(this.#sweep);
    clearInterval(this.#settle);
  }

  #limitError(): CamtrackError {
    this.counters.cameras_refused++;
    return new CamtrackError(`${this.#cameraLimits.maxCameras} gRPC cameras exist, the most this server takes`, 'ERR_CAMTRACK_SESSION_LIMIT', {
      stage: 'grpc',
      hint: 'reuse camera ids, end ProcessCameraStream calls you no longer need, wait for idle cameras to expire (serve.grpc.cameraIdleSeconds) or raise serve.grpc.maxCameras',
    });
  }

  #streamCallHooks(): StreamCalls {
    return {
      open: (queued) => {
        if (this.#cameras.size + this.#streamCalls.size >= this.#cameraLimits.maxCameras) throw this.#limitError();
        this.#streamCalls.add(queued);
      },
      close: (queued) => void this.#streamCalls.delete(queued),
    };
  }

  /** Removes the ProcessFrame cameras without a call for cameraIdleMs. */
  #expire(): void {
    const now = Date.now();
    for (const [id, entry] of this.#cameras) {
      const cam = entry.ready;
      if (!cam || cam.inUse > 0 || cam.pending.size > 0 || now - cam.lastUsedMs < this.#cameraLimits.cameraIdleMs) continue;
      this.#cameras.delete(id);
      this.counters.cameras_expired++;
      const removal: Promise<void> = this.#registry
        .remove(cam.stream.id)
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          if (this.#removing.get(id) === removal) this.#removing.delete(id);
        });
      this.#removing.set(id, removal);
    }
  }

  #camera(cameraId: string): Promise<GrpcCamera> {
    const existing = this.#cameras.get(cameraId);
    if (existing) return existing.camera;
    if (this.#cameras.size + this.#streamCalls.size >= this.#cameraLimits.maxCameras) return Promise.reject(this.#limitError());
    const entry: { camera: Promise<GrpcCamera>; ready?: GrpcCamera } = {
      camera: (this.#removing.get(cameraId) ?? Promise.resolve())
        .then(() =>
          this.#registry.add({
          id: `grpc-${cameraId}`,
          input: 'push',
          codec: 'jpeg',
          live: true,
          pushQueueSize: this.#limits.pushQueueSize,
          maxPixels: this.#limits.maxPixels,
          ...(this.#model !== undefined ? { model: this.#model } : {}),
          }),
        )
        .then((s) => {
          this.counters.cameras_created++;
          return (entry.ready = new GrpcCamera(s, () => this.counters.frames_dropped++));
        }),
    };
    entry.camera.catch(() => {
      if (this.#cameras.get(cameraId) === entry) this.#cameras.delete(cameraId);
    });
    this.#cameras.set(cameraId, entry);
    return entry.camera;
  }

  /**
   * One frame to its wire result. `deadline`: the call's (ms since the epoch, or Infinity). `defaultPriority`: the
   * enclosing request's priority (ProcessFrameBatch), for a frame whose own is unset.
   */
  async processFrame(req: FrameRequest, deadline: number, defaultPriority?: FramePriority): Promise<WireResult> {
    this.counters.frames_received++;
    const priority = priorityOf(req.priority, 'priority') ?? defaultPriority ?? 'normal';
    if (!CAMERA_ID.test(req.camera_id)) throw badRequest(`invalid camera_id ${JSON.stringify(req.camera_id.slice(0, 64))}`, 'camera_id: 1-64 characters of A-Z a-z 0-9 _ . -');
    if (!Number.isSafeInteger(req.frame_id) || req.frame_id < 0) throw badRequest('invalid frame_id', 'frame_id: a non-negative integer below 2^53');
    if (req.image.length === 0) throw new CamtrackError('empty image', 'ERR_CAMTRACK_BAD_FRAME', { stage: 'grpc', hint: 'image: the bytes of one JPEG' });
    if (req.image.length > this.#limits.maxFrameBytes) {
      throw new CamtrackError(`image of ${req.image.length} bytes, over ${this.#limits.maxFrameBytes}`, 'ERR_CAMTRACK_BAD_FRAME', {
        stage: 'grpc',
        hint: 'send smaller images or raise serve.sessions.maxFrameBytes',
      });
    }
    const cam = await this.#camera(req.camera_id);
    cam.inUse++;
    try {
      return await this.#process(cam, req, deadline, priority);
    } finally {
      cam.inUse--;
      cam.lastUsedMs = Date.now();
    }
  }

  async #process(cam: GrpcCamera, req: FrameRequest, deadline: number, priority: FramePriority): Promise<WireResult> {
    if (Date.now() >= deadline) {
      this.counters.deadline_exceeded_dropped++;
      throw new CamtrackError('the deadline passed before inference; frame dropped', 'ERR_CAMTRACK_DEADLINE_EXCEEDED', {
        stage: 'grpc',
        hint: 'give the call a longer deadline',
      });
    }
    if (cam.pending.has(req.frame_id)) throw badRequest(`frame_id ${req.frame_id} of camera ${req.camera_id} is already in flight`, 'give each frame of a camera its own frame_id');
    const meta = req.metadata ? fromStruct(req.metadata) : undefined;
    const result = new Promise<FrameResult>((resolve, reject) => {
      const byDeadline = deadline - Date.now() < RESULT_TIMEOUT_MS;
      // The wrapped reject (entry below): a frame the pipeline never answers must leave `pending`, or its frame_id
      // stays "in flight" for ever and the camera never expires.
      const timer = setTimeout(
        () =>
          entry.reject(
            byDeadline
              ? new CamtrackError('the deadline passed during inference', 'ERR_CAMTRACK_DEADLINE_EXCEEDED', { stage: 'grpc', hint: 'give the call a longer deadline' })
              : new CamtrackError('no result for the frame (dropped by the pipeline)', 'ERR_CAMTRACK_INVALID_STATE', { stage: 'grpc', hint: 'retry; send frames no faster than they are processed' }),
          ),
        Math.min(RESULT_TIMEOUT_MS, Math.max(0, deadline - Date.now())),
      );
      const done = () => {
        clearTimeout(timer);
        cam.pending.delete(req.frame_id);
      };
      const entry: Pending = {
        seq: ++cam.seq,
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
      };
      cam.pending.set(req.frame_id, entry);
    });
    try {
      cam.stream.push(req.image, { frameId: req.frame_id, ...(meta !== undefined ? { meta } : {}), ...(priority === 'high' ? { priority } : {}) });
    } catch (err) {
      cam.pending.get(req.frame_id)?.reject(err);
    }
    const wire = toWireResult(await result);
    this.counters.results_sent++;
    return wire;
  }

  handlers(token: string | undefined, readiness: ReadinessCheck): grpc.UntypedServiceImplementation {
    const unary =
      <Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>) =>
      (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
        Promise.resolve()
          .then(() => checkToken(call.metadata, token))
          .then(() => fn(call.request, call))
          .then(
            (res) => callback(null, res),
            (err) => {
              this.counters.errors++;
              callback(toServiceError(err));
            },
          );
      };
    return {
      ProcessFrame: unary<FrameRequest, unknown>(async (req, call) => toProtoResult(await this.processFrame(req, deadlineOf(call)))),
      ProcessFrameBatch: unary<{ frames: FrameRequest[]; priority?: string | number | null }, unknown>(async (req, call) => {
        const batchPriority = priorityOf(req.priority, 'priority');
        const outcomes = await Promise.all(
          req.frames.map((f) =>
            this.processFrame(f, deadlineOf(call), batchPriority).then(
              (r) => ({ result: toProtoResult(r) }),
              (err: CamtrackError) => ({ error: { code: err.code ?? 'ERR_CAMTRACK_INTERNAL', message: err.message, ...(err.hint !== undefined ? { hint: err.hint } : {}) } }),
            ),
          ),
        );
        return { outcomes };
      }),
      ProcessCameraStream: cameraStreamHandler(this.#registry, this.#limits, this.#model, token, this.counters, this.#streamCallHooks()),
      GetEngineHealth: unary(async () => {
        const r = await readiness();
        return { ready: r.ready, reasons: r.reasons };
      }),
      GetEngineMetrics: unary(async () => ({ ...this.counters, active_streams: this.activeStreams, stream_results_queued: this.streamResultsQueued })),
    };
  }
}

function deadlineOf(call: grpc.ServerUnaryCall<unknown, unknown>): number {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : Infinity;
}

/** A wire result as the proto message: null objects unset, null scalars absent (proto3 optional). */
export function toProtoResult(r: WireResult): Record<string, unknown> {
  const { message_key, metadata, analytics, inferred_by, ...rest } = r;
  return {
    ...rest,
    ...(message_key !== null ? { message_key } : {}),
    ...(inferred_by != null ? { inferred_by } : {}),
    ...(metadata != null ? { metadata: toStruct(metadata) } : {}),
    ...(analytics !== null ? { analytics: toStruct(analytics as Record<string, unknown>) } : {}),
  };
}
