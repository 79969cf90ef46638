/**
 * One schema for all configuration: types with defaults and ranges (TSDoc), and validation at the boundary.
 * A bad field throws {@link ConfigError} naming its path, the value received and what is accepted:
 *   `batching.maxWaitMs: Expected integer between 0 and 10000 but received -1 of type number`
 * Everything past this module receives normalised, complete objects.
 */
import os from 'node:os';

import { ConfigError, redactSecretsIn } from './errors.js';
import { bool, checkKeys, fail, isObject, num, oneOf, section, str, strings, triple } from './validate.js';

/** Which inference backend runs the model. */
export type BackendName = 'auto' | 'onnxruntime' | 'tensorrt';
/** Output layouts the postprocessor understands. */
export type OutputLayout = 'ultralytics' | 'yolox' | 'e2e';

/** Model options. Everything but `path` is read from the model file when omitted. */
export interface ModelOptions {
  /** Path of the ONNX model. */
  path: string;
  /** Output layout. Default: detected from the output shape. */
  layout?: OutputLayout;
  /** Input channel order. Default: 'bgr' for YOLOX, 'rgb' otherwise. */
  channelOrder?: 'rgb' | 'bgr';
  /** Where the resized frame sits. Default: 'top-left' for YOLOX, 'center' otherwise. */
  letterbox?: 'center' | 'top-left';
  /** Pad value 0..255. Default 114. */
  padValue?: number;
  /** Multiplier applied to 0..255 pixel values. Default 1/255 (YOLOX: 1). */
  scale?: number;
  /** Per-channel mean subtracted after scaling. Default [0,0,0]. */
  mean?: [number, number, number];
  /** Per-channel std divided after mean. Default [1,1,1]. */
  std?: [number, number, number];
  /** Class names. Default: the model's `names` metadata, else the 80 COCO names. */
  classNames?: string[];
}

/** Detection postprocessing. */
export interface DetectionOptions {
  /** Minimum score kept. Default 0.25, range 0..1. */
  scoreThreshold?: number;
  /** NMS IoU threshold. Default 0.45, range 0..1. */
  nmsIou?: number;
  /** Suppress across classes. Default false (class-aware NMS). */
  classAgnostic?: boolean;
  /** Run NMS on end-to-end ([B,N,6]) outputs too. Default false. */
  nmsForEndToEnd?: boolean;
  /** Detections kept per frame. Default 300, range 1..10000. */
  maxDetections?: number;
}

/** ByteTrack parameters (reference names). */
export interface TrackerOptions {
  /** 'bytetrack' (default), 'sort', 'iou' or 'none' (detections only). */
  type?: 'bytetrack' | 'sort' | 'iou' | 'none';
  /** ByteTrack: high/low split of detection scores. Default 0.5. */
  trackThresh?: number;
  /** ByteTrack: minimum score to start a new track. Default 0.6. */
  highThresh?: number;
  /** ByteTrack: max IoU distance (1 − IoU) for the first association. Default 0.8. */
  matchThresh?: number;
  /** SORT / IoU: matches needed before a track is reported. Default 3, 0..1000 (1..1000 for 'iou'). */
  minHits?: number;
  /** SORT / IoU: minimum IoU of a match. Default 0.3, 0..1. */
  iouThreshold?: number;
  /**
   * How long a lost track is kept, in seconds, converted with the stream's real fps (ByteTrack's track buffer,
   * SORT's and IoU's max age). Default 1.
   */
  trackBufferSeconds?: number;
  /** Match only detections of the same class. Default false. */
  classAware?: boolean;
}

/** Cross-stream batching. */
export interface BatchingOptions {
  /** Largest batch for dynamic-batch models (fixed-batch models always use their own size). Default 8, 1..256. */
  maxBatchSize?: number;
  /** A partly filled batch is sent after this long. Default 10 ms, 0..10000. */
  maxWaitMs?: number;
}

/** Inference backend options. */
export interface InferenceOptions {
  /** Default 'auto': TensorRT where usable, else onnxruntime. */
  backend?: BackendName;
  /**
   * onnxruntime worker threads, each with its own session and two batch slots. Default min(2, cores), 1..64:
   * on CPU two sessions with half the threads each beat one session with all of them (2 cores, yolox_nano,
   * walking.mp4: 98 vs 71 pipeline fps; docs/benchmarks.md).
   */
  workers?: number;
  /** Intra-op threads per onnxruntime session. Default: floor(cores / workers), at least 1. */
  intraOpThreads?: number;
  /**
   * onnxruntime execution providers in order: the pipeline runs on the first that starts here, with one 'warning'
   * naming the ones before it and why (`camtrack doctor` lists them); none starts: ERR_CAMTRACK_UNSUPPORTED.
   * Default ['cpu']. E.g. ['cuda', 'cpu'].
   */
  executionProviders?: string[];
}

/**
 * What a live stream does when its input is lost (read error, the server ending the session, no frame for
 * `stallTimeoutMs`): it goes `stalled` → `reconnecting` and tries again after an exponential, jittered backoff,
 * paced pipeline-wide by `ingest.reconnectRatePerSecond`. Files never reconnect. See docs/ingest.md.
 */
export interface ReconnectOptions {
  /** Watchdog: no decoded frame for this long while live → stalled, reconnect. Default 5000 ms, 0 (off) or 100..600000. */
  stallTimeoutMs?: number;
  /** Delay before the first reconnect attempt. Default 500 ms, 0..600000. */
  initialDelayMs?: number;
  /** Cap of the backoff. Default 30000 ms, 0..3600000. */
  maxDelayMs?: number;
  /** Backoff growth: delay n = initialDelayMs · multiplier^(n−1), capped. Default 2, 1..10. */
  multiplier?: number;
  /** Each delay is shortened by a random fraction in [0, jitter) so cameras do not retry in lockstep. Default 0.2, 0..1. */
  jitter?: number;
  /**
   * Consecutive failed attempts before the stream is `failed` (a decoded frame resets the count). Default -1
   * (forever); 0: never reconnect (an error fails the stream, the server ending the session ends it).
   */
  maxAttempts?: number;
}

/** Pipeline-wide ingest options. */
export interface IngestOptions {
  /**
   * Reconnect attempts per second across all streams of the pipeline (a token bucket; first connects are not
   * paced), so a site-wide outage does not end in a stampede. Default 5, 0 (unpaced)..1000.
   */
  reconnectRatePerSecond?: number;
  /** Bucket size: attempts allowed at once after a quiet period. Default 5, 1..1000. */
  reconnectBurst?: number;
}

/** Pipeline-wide GPU options (used where CUDA and an NVIDIA driver are present; ignored elsewhere). */
export interface GpuOptions {
  /**
   * CUDA device ordinal (as CUDA numbers the visible devices: `CUDA_VISIBLE_DEVICES` applies) on which NVDEC
   * decodes and the letterbox kernel runs for every stream of the pipeline. Default 0, 0..255; a device that does
   * not exist on a machine with CUDA is a ConfigError at Pipeline.create(). Run one pipeline per GPU to use several.
   */
  device?: number;
}

/** Options of one stream (camera, file or URL). */
export interface StreamOptions {
  /** Unique id of the stream within the pipeline. */
  id: string;
  /**
   * rtsp://, http(s)://, a file path or file:// URL. Credentials in it (`user:pass@`, `?token=`…) are redacted
   * wherever it is shown: errors (config errors included), events, stats.
   */
  url: string;
  /** RTSP transport. Default 'tcp'. */
  rtspTransport?: 'tcp' | 'udp';
  /** Connect + probe timeout. Default 10000 ms, 100..600000. */
  openTimeoutMs?: number;
  /** No data for this long is a read error. Default 10000 ms, 100..600000. */
  readTimeoutMs?: number;
  /** Files: start again at the end. Default false. */
  loop?: boolean;
  /** Process at most this many frames per second (0 = all). Default 0, range 0..1000. */
  fpsLimit?: number;
  /** Live semantics (never block, keep the newest frame). Default 'auto' (true for rtsp/udp/rtp…, false for files). */
  live?: boolean | 'auto';
  /** libavcodec threads for this stream. Default 1, 1..16. */
  decoderThreads?: number;
  /**
   * Decoder. Default `'auto'`. Values:
   * - `'auto'`: NVDEC (GPU) when the machine has an NVIDIA GPU with its driver, camtrack was built with CUDA and
   *   the stream is 8-bit 4:2:0 H.264 or HEVC; otherwise libavcodec on the CPU, with ONE `'warning'` event for
   *   the stream (code `ERR_CAMTRACK_UNSUPPORTED`, or `ERR_CAMTRACK_DECODE` when the GPU decoder failed to start)
   *   saying why. `stream.stats().decoder` tells which one runs.
   * - `'cpu'`: libavcodec only (no GPU probe, no warning).
   * - `'gpu'`: NVDEC only; when it cannot take the stream the stream fails (state `'failed'`, reason `'nvdec'`,
   *   `ERR_CAMTRACK_UNSUPPORTED` / `ERR_CAMTRACK_DECODE`) and is not retried.
   */
  decode?: 'auto' | 'cpu' | 'gpu';
  /** Per-stream tracker options (override the pipeline's). */
  tracker?: TrackerOptions;
  /** Bound of this stream's results() iterator queue. Default 64, 1..100000. Oldest results are dropped and counted. */
  resultQueueSize?: number;
  /** Reconnect policy of a live stream; `false` = `{ maxAttempts: 0 }`. Defaults in {@link ReconnectOptions}. */
  reconnect?: ReconnectOptions | false;
  /**
   * FFmpeg demuxers the input may be read with (names as `ffmpeg -demuxers` prints them: `'mov'`, `'matroska'`,
   * `'mpegts'`, …). An input detected as anything else (a text file: `'tty'`; a playlist: `'hls'`) fails at open:
   * `ERR_CAMTRACK_UNSUPPORTED`, reason `'format'`, naming the format; it is not retried. Default
   * {@link DEFAULT_INPUT_FORMATS}; `[]` = any format FFmpeg detects.
   */
  inputFormats?: string[];
}

/**
 * Default of `inputFormats`: video containers and elementary streams, the live protocols' demuxers and images
 * (docs/ingest.md). A demuxer has several names (`mov,mp4,m4a,3gp,3g2,mj2`); one of them in the list accepts it.
 */
export const DEFAULT_INPUT_FORMATS: readonly string[] = [
  'mov', 'matroska', 'mpegts', 'flv', 'avi', 'asf', 'nut', 'ivf', 'h264', 'hevc', 'm4v', 'mjpeg', 'rtsp', 'rtp', 'sdp',
  'image2', 'jpeg_pipe', 'png_pipe', 'bmp_pipe', 'webp_pipe',
];

/** Pipeline configuration. */
export interface PipelineConfig {
  /** Model file path, or options. */
  model: string | ModelOptions;
  inference?: InferenceOptions;
  batching?: BatchingOptions;
  detection?: DetectionOptions;
  tracker?: TrackerOptions;
  /** Streams to start with. */
  streams?: StreamOptions[];
  /** Frames the native result ring holds before the pipeline waits for JS. Default 256, 8..65536. */
  resultCapacity?: number;
  /** Pipeline-wide ingest options (reconnect pacing). */
  ingest?: IngestOptions;
  /** Pipeline-wide GPU options (the CUDA device). */
  gpu?: GpuOptions;
}

export interface NormalisedTracker {
  type: 'bytetrack' | 'sort' | 'iou' | 'none';
  trackThresh: number;
  highThresh: number;
  matchThresh: number;
  minHits: number;
  iouThreshold: number;
  trackBufferSeconds: number;
  classAware: boolean;
}
export interface NormalisedStream {
  id: string;
  url: string;
  rtspTransport: 'tcp' | 'udp';
  openTimeoutMs: number;
  readTimeoutMs: number;
  loop: boolean;
  fpsLimit: number;
  live: boolean | 'auto';
  decoderThreads: number;
  decode: 'auto' | 'cpu' | 'gpu';
  tracker: NormalisedTracker;
  resultQueueSize: number;
  reconnect: Required<ReconnectOptions>;
  inputFormats: string[];
}
export interface NormalisedConfig {
  model: Required<Pick<ModelOptions, 'path'>> & Omit<ModelOptions, 'path'>;
  inference: { backend: BackendName; workers: number; intraOpThreads: number | undefined; executionProviders: string[] };
  batching: { maxBatchSize: number; maxWaitMs: number };
  detection: Required<DetectionOptions>;
  tracker: NormalisedTracker;
  streams: StreamOptions[];
  resultCapacity: number;
  ingest: Required<IngestOptions>;
  gpu: Required<GpuOptions>;
}

const TRACKER_KEYS = [
  'type',
  'trackThresh',
  'highThresh',
  'matchThresh',
  'minHits',
  'iouThreshold',
  'trackBufferSeconds',
  'classAware',
] as const;

export function normaliseTracker(v: unknown, path: string, base?: NormalisedTracker): NormalisedTracker {
  const d: NormalisedTracker = base ?? {
    type: 'bytetrack',
    trackThresh: 0.5,
    highThresh: 0.6,
    matchThresh: 0.8,
    minHits: 3,
    iouThreshold: 0.3,
    trackBufferSeconds: 1,
    classAware: false,
  };
  if (v === undefined) return { ...d };
  if (!isObject(v)) fail(path, 'object', v);
  checkKeys(v, path, TRACKER_KEYS);
  const type = oneOf(v.type, `${path}.type`, d.type, ['bytetrack', 'sort', 'iou', 'none'] as const);
  return {
    type,
    trackThresh: num(v.trackThresh, `${path}.trackThresh`, d.trackThresh, 0, 1),
    highThresh: num(v.highThresh, `${path}.highThresh`, d.highThresh, 0, 1),
    matchThresh: num(v.matchThresh, `${path}.matchThresh`, d.matchThresh, 0, 1),
    // The IoU tracker confirms on the first detection at the earliest (minHits >= 1, as `new Tracker()` checks);
    // an inherited value is checked too, since a stream may switch the pipeline's tracker type to 'iou'.
    minHits: num(v.minHits === undefined ? d.minHits : v.minHits, `${path}.minHits`, d.minHits, type === 'iou' ? 1 : 0, 1000, true),
    iouThreshold: num(v.iouThreshold, `${path}.iouThreshold`, d.iouThreshold, 0, 1),
    trackBufferSeconds: num(v.trackBufferSeconds, `${path}.trackBufferSeconds`, d.trackBufferSeconds, 0.01, 3600),
    classAware: bool(v.classAware, `${path}.classAware`, d.classAware),
  };
}

const STREAM_KEYS = [
  'id',
  'url',
  'rtspTransport',
  'openTimeoutMs',
  'readTimeoutMs',
  'loop',
  'fpsLimit',
  'live',
  'decoderThreads',
  'decode',
  'tracker',
  'resultQueueSize',
  'reconnect',
  'inputFormats',
] as const;

const RECONNECT_KEYS = ['stallTimeoutMs', 'initialDelayMs', 'maxDelayMs', 'multiplier', 'jitter', 'maxAttempts'] as const;

/** Validates a stream's reconnect policy (`false` → maxAttempts 0). */
export function normaliseReconnect(v: unknown, path: string): Required<ReconnectOptions> {
  const d: Required<ReconnectOptions> = {
    stallTimeoutMs: 5000,
    initialDelayMs: 500,
    maxDelayMs: 30000,
    multiplier: 2,
    jitter: 0.2,
    maxAttempts: -1,
  };
  if (v === undefined) return d;
  if (v === false) return { ...d, maxAttempts: 0 };
  if (!isObject(v)) fail(path, 'object or false', v);
  checkKeys(v, path, RECONNECT_KEYS);
  const stall = num(v.stallTimeoutMs, `${path}.stallTimeoutMs`, d.stallTimeoutMs, 0, 600000, true);
  if (stall !== 0 && stall < 100) fail(`${path}.stallTimeoutMs`, 'integer 0 or between 100 and 600000', stall);
  return {
    stallTimeoutMs: stall,
    initialDelayMs: num(v.initialDelayMs, `${path}.initialDelayMs`, d.initialDelayMs, 0, 600000, true),
    maxDelayMs: num(v.maxDelayMs, `${path}.maxDelayMs`, d.maxDelayMs, 0, 3600000, true),
    multiplier: num(v.multiplier, `${path}.multiplier`, d.multiplier, 1, 10),
    jitter: num(v.jitter, `${path}.jitter`, d.jitter, 0, 1),
    maxAttempts: num(v.maxAttempts, `${path}.maxAttempts`, d.maxAttempts, -1, 1e9, true),
  };
}

/** Validates one stream's options; `trackerBase` is the pipeline's tracker config. */
export function normaliseStream(v: unknown, path: string, trackerBase: NormalisedTracker): NormalisedStream {
  if (!isObject(v)) fail(path, 'object with id and url', v);
  checkKeys(v, path, STREAM_KEYS);
  const id = str(v.id, `${path}.id`);
  const url = str(v.url, `${path}.url`);
  let live: boolean | 'auto' = 'auto';
  if (v.live !== undefined) {
    if (v.live !== 'auto' && typeof v.live !== 'boolean') fail(`${path}.live`, "boolean or 'auto'", v.live);
    live = v.live as boolean | 'auto';
  }
  return {
    id,
    url,
    rtspTransport: oneOf(v.rtspTransport, `${path}.rtspTransport`, 'tcp', ['tcp', 'udp'] as const),
    openTimeoutMs: num(v.openTimeoutMs, `${path}.openTimeoutMs`, 10000, 100, 600000, true),
    readTimeoutMs: num(v.readTimeoutMs, `${path}.readTimeoutMs`, 10000, 100, 600000, true),
    loop: bool(v.loop, `${path}.loop`, false),
    fpsLimit: num(v.fpsLimit, `${path}.fpsLimit`, 0, 0, 1000),
    live,
    decoderThreads: num(v.decoderThreads, `${path}.decoderThreads`, 1, 1, 16, true),
    decode: oneOf(v.decode, `${path}.decode`, 'auto', ['auto', 'cpu', 'gpu'] as const),
    tracker: normaliseTracker(v.tracker, `${path}.tracker`, trackerBase),
    resultQueueSize: num(v.resultQueueSize, `${path}.resultQueueSize`, 64, 1, 100000, true),
    reconnect: normaliseReconnect(v.reconnect, `${path}.reconnect`),
    inputFormats: inputFormats(v.inputFormats, `${path}.inputFormats`),
  };
}

/** Validates `inputFormats`: demuxer names (lower-case letters, digits, `_`), default {@link DEFAULT_INPUT_FORMATS}. */
function inputFormats(v: unknown, path: string): string[] {
  const names = strings(v, path) ?? [...DEFAULT_INPUT_FORMATS];
  for (const n of names) if (!/^[a-z0-9_]+$/.test(n)) fail(path, 'FFmpeg demuxer names (a-z, 0-9, _)', v);
  return names;
}

const TOP_KEYS = ['model', 'inference', 'batching', 'detection', 'tracker', 'streams', 'resultCapacity', 'ingest', 'gpu'] as const;

/** Validates and fills defaults. Throws ConfigError with the path of the first bad field. */
export function normaliseConfig(input: unknown): NormalisedConfig {
  if (!isObject(input)) fail('config', 'object', input);
  checkKeys(input, '', TOP_KEYS);
  // model
  let model: NormalisedConfig['model'];
  if (typeof input.model === 'string') {
    model = { path: str(input.model, 'model') };
  } else if (isObject(input.model)) {
    const m = input.model;
    checkKeys(m, 'model', [
      'path',
      'layout',
      'channelOrder',
      'letterbox',
      'padValue',
      'scale',
      'mean',
      'std',
      'classNames',
    ]);
    model = { path: str(m.path, 'model.path') };
    if (m.layout !== undefined) model.layout = oneOf(m.layout, 'model.layout', 'ultralytics', ['ultralytics', 'yolox', 'e2e'] as const);
    if (m.channelOrder !== undefined) model.channelOrder = oneOf(m.channelOrder, 'model.channelOrder', 'rgb', ['rgb', 'bgr'] as const);
    if (m.letterbox !== undefined) model.letterbox = oneOf(m.letterbox, 'model.letterbox', 'center', ['center', 'top-left'] as const);
    if (m.padValue !== undefined) model.padValue = num(m.padValue, 'model.padValue', 114, 0, 255);
    if (m.scale !== undefined) model.scale = num(m.scale, 'model.scale', 1 / 255, 1e-9, 1e9);
    const mean = triple(m.mean, 'model.mean');
    if (mean) model.mean = mean;
    const std = triple(m.std, 'model.std');
    if (std) {
      if (std.some((x) => x === 0)) fail('model.std', 'non-zero values', std);
      model.std = std;
    }
    const classNames = strings(m.classNames, 'model.classNames');
    if (classNames) model.classNames = classNames;
  } else {
    fail('model', 'model file path (string) or { path, ... }', input.model);
  }
  // inference
  const inf = section(input.inference, 'inference', ['backend', 'workers', 'intraOpThreads', 'executionProviders']);
  const eps = strings(inf.executionProviders, 'inference.executionProviders') ?? ['cpu'];
  const inference = {
    backend: oneOf(inf.backend, 'inference.backend', 'auto', ['auto', 'onnxruntime', 'tensorrt'] as const),
    workers: num(inf.workers, 'inference.workers', Math.min(2, os.availableParallelism()), 1, 64, true),
    intraOpThreads:
      inf.intraOpThreads === undefined ? undefined : num(inf.intraOpThreads, 'inference.intraOpThreads', 1, 1, 256, true),
    executionProviders: eps,
  };
  // batching
  const b = section(input.batching, 'batching', ['maxBatchSize', 'maxWaitMs']);
  const batching = {
    maxBatchSize: num(b.maxBatchSize, 'batching.maxBatchSize', 8, 1, 256, true),
    maxWaitMs: num(b.maxWaitMs, 'batching.maxWaitMs', 10, 0, 10000, true),
  };
  // detection
  const d = section(input.detection, 'detection', [
    'scoreThreshold',
    'nmsIou',
    'classAgnostic',
    'nmsForEndToEnd',
    'maxDetections',
  ]);
  const detection = {
    scoreThreshold: num(d.scoreThreshold, 'detection.scoreThreshold', 0.25, 0, 1),
    nmsIou: num(d.nmsIou, 'detection.nmsIou', 0.45, 0, 1),
    classAgnostic: bool(d.classAgnostic, 'detection.classAgnostic', false),
    nmsForEndToEnd: bool(d.nmsForEndToEnd, 'detection.nmsForEndToEnd', false),
    maxDetections: num(d.maxDetections, 'detection.maxDetections', 300, 1, 10000, true),
  };
  const tracker = normaliseTracker(input.tracker, 'tracker');
  // streams are validated again (with ids checked for uniqueness) when added
  let streams: StreamOptions[] = [];
  if (input.streams !== undefined) {
    if (!Array.isArray(input.streams)) fail('streams', 'array of stream options', input.streams);
    const ids = new Set<string>();
    input.streams.forEach((s, i) => {
      const n = normaliseStream(s, `streams[${i}]`, tracker);
      if (ids.has(n.id)) throw new ConfigError(`streams[${i}].id`, `Duplicate stream id ${JSON.stringify(redactSecretsIn(n.id))}`);
      ids.add(n.id);
    });
    streams = input.streams as StreamOptions[];
  }
  // ingest
  const ig = section(input.ingest, 'ingest', ['reconnectRatePerSecond', 'reconnectBurst']);
  const ingest = {
    reconnectRatePerSecond: num(ig.reconnectRatePerSecond, 'ingest.reconnectRatePerSecond', 5, 0, 1000),
    reconnectBurst: num(ig.reconnectBurst, 'ingest.reconnectBurst', 5, 1, 1000),
  };
  // gpu
  const g = section(input.gpu, 'gpu', ['device']);
  const gpu = { device: num(g.device, 'gpu.device', 0, 0, 255, true) };
  return {
    model,
    inference,
    batching,
    detection,
    tracker,
    streams,
    resultCapacity: num(input.resultCapacity, 'resultCapacity', 256, 8, 65536, true),
    ingest,
    gpu,
  };
}
