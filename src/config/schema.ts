/**
 * The configuration schema: every option of the library, `camtrack run`'s config file and (later) the service,
 * declared once, with TypeBox. Each declaration is at the same time the field's type (`Static`), default, range or
 * accepted values, and documentation (`description`), and the JSON Schema `camtrack config schema` prints
 * (draft-07; {@link configJsonSchema}). src/config/index.ts validates against it and fills the defaults; nothing
 * else in camtrack (src/pipeline.ts, src/native.ts, native/binding, native/core) writes a default of its own.
 *
 * `expected` (not a JSON Schema keyword; {@link configJsonSchema} leaves it out) words the accepted values in a
 * ConfigError where the schema alone would read badly (`object with id and url`).
 * Adding a stream option: one field in {@link StreamOptionsSchema} here, one member in the native struct it
 * configures (native/core/decode/demuxer.h SourceOptions or native/core/pipeline/config.h StreamConfig) and
 * the line of native/binding/pipeline_config.cpp ReadStream that copies it (docs/architecture.md, "Where to change what").
 */
import os from 'node:os';

import { Type, type Static, type TLiteral, type TUnion, type SchemaOptions } from '@sinclair/typebox';

/** One of the given strings (JSON Schema `anyOf` of `const`s). */
export function literals<const T extends string[]>(values: T, options: SchemaOptions = {}) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<{ [K in keyof T]: TLiteral<T[K]> }>;
}

const unit = (description: string, def?: number) => Type.Number({ minimum: 0, maximum: 1, description, default: def });
const nonEmpty = (description: string) => Type.String({ minLength: 1, description });

/** Which inference backend runs the model. */
export const BackendNameSchema = literals(['auto', 'onnxruntime', 'tensorrt'], {
  default: 'auto',
  description: "Inference backend: 'auto' = TensorRT where usable, else onnxruntime.",
});
/** Output layouts the postprocessor understands. */
export const OutputLayoutSchema = literals(['ultralytics', 'yolox', 'e2e'], {
  description: 'Output layout. Default: detected from the output shape.',
});

const triple = (description: string) => Type.Tuple([Type.Number(), Type.Number(), Type.Number()], { description });

/** Model options. Everything but `path` is read from the model file when omitted (so none has a default here). */
export const ModelOptionsSchema = Type.Object(
  {
    path: nonEmpty('Path of the ONNX model.'),
    layout: Type.Optional(OutputLayoutSchema),
    channelOrder: Type.Optional(literals(['rgb', 'bgr'], { description: "Input channel order. Default: 'bgr' for YOLOX, 'rgb' otherwise." })),
    letterbox: Type.Optional(
      literals(['center', 'top-left'], { description: "Where the resized frame sits. Default: 'top-left' for YOLOX, 'center' otherwise." }),
    ),
    padValue: Type.Optional(Type.Number({ minimum: 0, maximum: 255, description: 'Pad value 0..255. Default 114.' })),
    scale: Type.Optional(
      Type.Number({
        minimum: 1e-9,
        maximum: 1e9,
        description: 'Multiplier applied to 0..255 pixel values. Default 1/255 (YOLOX: 1).',
      }),
    ),
    mean: Type.Optional(triple('Per-channel mean subtracted after scaling. Default [0,0,0].')),
    std: Type.Optional(triple('Per-channel std divided after mean (non-zero). Default [1,1,1].')),
    classNames: Type.Optional(
      Type.Array(Type.String(), { description: "Class names. Default: the model's `names` metadata, else the 80 COCO names." }),
    ),
  },
  { additionalProperties: false },
);

/** Detection postprocessing. */
export const DetectionOptionsSchema = Type.Object(
  {
    scoreThreshold: unit('Minimum score kept.', 0.25),
    nmsIou: unit('NMS IoU threshold.', 0.45),
    classAgnostic: Type.Boolean({ default: false, description: 'Suppress across classes (default: class-aware NMS).' }),
    nmsForEndToEnd: Type.Boolean({ default: false, description: 'Run NMS on end-to-end ([B,N,6]) outputs too.' }),
    maxDetections: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 300,
      description: 'Detections kept per frame.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Detection postprocessing.' },
);

/**
 * The tracker fields the pipeline (per pipeline and per stream) and the standalone `Tracker` share, one declaration
 * each. src/tracker.ts adds the standalone tracker's frame-based fields to these.
 */
export const TrackerFields = {
  classAware: Type.Boolean({ default: false, description: 'Match only detections of the same class.' }),
  trackThresh: unit('ByteTrack: high/low split of detection scores.', 0.5),
  highThresh: unit('ByteTrack: minimum score to start a new track.', 0.6),
  matchThresh: unit('ByteTrack: max IoU distance (1 − IoU) for the first association.', 0.8),
  minHits: Type.Integer({
    minimum: 0,
    maximum: 1000,
    default: 3,
    description:
      'SORT: consecutive matches before a track is output (except during the first minHits frames). ' +
      'IoU: matches (first detection included) before a track is confirmed, at least 1.',
  }),
  iouThreshold: unit('SORT / IoU: minimum IoU of a match.', 0.3),
  trackBufferSeconds: Type.Number({
    minimum: 0.01,
    maximum: 3600,
    description:
      "How long a lost track is kept, in seconds, converted with the stream's real fps (ByteTrack's track buffer, " +
      "SORT's and IoU's max age). Default 1 in a pipeline; the standalone Tracker uses its frame-based buffer when absent.",
  }),
};
/** The lower bound of `minHits` for the IoU tracker, which confirms on the first detection at the earliest. */
export const IOU_MIN_HITS = 1;

/** The trackers (the pipeline adds 'none': detections only). */
export const TRACKER_TYPES = ['bytetrack', 'sort', 'iou'] as const;

/**
 * Options of the standalone `Tracker` (src/tracker.ts): the shared fields plus the references' frame-based ones.
 * Options of another tracker type are rejected there.
 */
export const StandaloneTrackerOptionsSchema = Type.Object(
  {
    type: literals([...TRACKER_TYPES], { default: 'bytetrack', description: 'Which tracker.' }),
    classAware: TrackerFields.classAware,
    frameRate: Type.Number({
      minimum: 0.1,
      maximum: 1000,
      default: 30,
      description: 'Frame rate of the detections, frames per second. Used by trackBufferSeconds and ByteTrack.',
    }),
    trackBufferSeconds: Type.Optional(TrackerFields.trackBufferSeconds),
    classNames: Type.Optional(
      Type.Array(Type.String(), { description: 'Labels of class ids. Default: the `label` of input detections, else String(classId).' }),
    ),
    trackThresh: TrackerFields.trackThresh,
    highThresh: TrackerFields.highThresh,
    matchThresh: TrackerFields.matchThresh,
    trackBuffer: Type.Integer({
      minimum: 0,
      maximum: 100000,
      default: 30,
      description: 'ByteTrack: frames a lost track is kept at 30 fps (scaled by frameRate / 30, as the reference).',
    }),
    maxAge: Type.Integer({
      minimum: 0,
      maximum: 100000,
      default: 1,
      description: "SORT / IoU: frames a track is kept without a match (SORT's reference default).",
    }),
    minHits: TrackerFields.minHits,
    iouThreshold: TrackerFields.iouThreshold,
    greedy: Type.Boolean({
      default: false,
      description: 'IoU: greedy highest-IoU-first matching instead of the optimal assignment.',
    }),
  },
  { additionalProperties: false, expected: 'object' },
);

/** Tracker of a pipeline or a stream. */
export const TrackerOptionsSchema = Type.Object(
  {
    type: literals([...TRACKER_TYPES, 'none'], {
      default: 'bytetrack',
      description: "'bytetrack', 'sort', 'iou' or 'none' (detections only).",
    }),
    trackThresh: TrackerFields.trackThresh,
    highThresh: TrackerFields.highThresh,
    matchThresh: TrackerFields.matchThresh,
    minHits: TrackerFields.minHits,
    iouThreshold: TrackerFields.iouThreshold,
    trackBufferSeconds: Type.Number({ ...TrackerFields.trackBufferSeconds, default: 1 }),
    classAware: TrackerFields.classAware,
  },
  { additionalProperties: false, default: {}, description: 'Tracker (per pipeline; a stream overrides single fields).' },
);

/** Cross-stream batching. */
export const BatchingOptionsSchema = Type.Object(
  {
    maxBatchSize: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 8,
      description: 'Largest batch for dynamic-batch models (fixed-batch models always use their own size).',
    }),
    maxWaitMs: Type.Integer({
      minimum: 0,
      maximum: 10000,
      default: 10,
      description: 'A partly filled batch is sent after this long.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Cross-stream batching.' },
);

/** Inference backend options. */
export const InferenceOptionsSchema = Type.Object(
  {
    backend: BackendNameSchema,
    workers: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: Math.min(2, os.availableParallelism()),
      description:
        'onnxruntime worker threads, each with its own session and two batch slots. Default min(2, cores): on CPU two ' +
        'sessions with half the threads each beat one session with all of them (docs/benchmarks.md).',
    }),
    intraOpThreads: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 256,
        description: 'Intra-op threads per onnxruntime session. Default: floor(cores / workers), at least 1.',
      }),
    ),
    executionProviders: Type.Array(Type.String(), {
      default: ['cpu'],
      description:
        "onnxruntime execution providers in order (e.g. ['cuda', 'cpu']): the pipeline runs on the first that starts, " +
        "with one 'warning' naming the ones before it; none starts: ERR_CAMTRACK_UNSUPPORTED.",
    }),
  },
  { additionalProperties: false, default: {}, description: 'Inference backend options.' },
);

/**
 * What a live stream does when its input is lost (read error, the server ending the session, no frame for
 * `stallTimeoutMs`): it goes `stalled` → `reconnecting` and tries again after an exponential, jittered backoff,
 * paced pipeline-wide by `ingest.reconnectRatePerSecond`. Files never reconnect. See docs/ingest.md.
 */
export const ReconnectOptionsSchema = Type.Object(
  {
    stallTimeoutMs: Type.Union([Type.Literal(0), Type.Integer({ minimum: 100, maximum: 600000 })], {
      default: 5000,
      expected: 'integer 0 or between 100 and 600000',
      description: 'Watchdog: no decoded frame for this long while live → stalled, reconnect. 0 = off, else 100..600000 ms.',
    }),
    initialDelayMs: Type.Integer({
      minimum: 0,
      maximum: 600000,
      default: 500,
      description: 'Delay before the first reconnect attempt, ms.',
    }),
    maxDelayMs: Type.Integer({ minimum: 0, maximum: 3600000, default: 30000, description: 'Cap of the backoff, ms.' }),
    multiplier: Type.Number({
      minimum: 1,
      maximum: 10,
      default: 2,
      description: 'Backoff growth: delay n = initialDelayMs · multiplier^(n−1), capped.',
    }),
    jitter: unit('Each delay is shortened by a random fraction in [0, jitter) so cameras do not retry in lockstep.', 0.2),
    maxAttempts: Type.Integer({
      minimum: -1,
      maximum: 1e9,
      default: -1,
      description:
        'Consecutive failed attempts before the stream is `failed` (a decoded frame resets the count); -1 = forever; ' +
        '0 = never reconnect (an error fails the stream, the server ending the session ends it).',
    }),
  },
  { additionalProperties: false, description: 'Reconnect policy of a live stream.' },
);

/** Pipeline-wide ingest options. */
export const IngestOptionsSchema = Type.Object(
  {
    reconnectRatePerSecond: Type.Number({
      minimum: 0,
      maximum: 1000,
      default: 5,
      description:
        'Reconnect attempts per second across all streams of the pipeline (a token bucket; first connects are not ' +
        'paced), so a site-wide outage does not end in a stampede. 0 = unpaced.',
    }),
    reconnectBurst: Type.Number({
      minimum: 1,
      maximum: 1000,
      default: 5,
      description: 'Bucket size: attempts allowed at once after a quiet period.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Pipeline-wide ingest options (reconnect pacing).' },
);

/** Pipeline-wide GPU options (used where CUDA and an NVIDIA driver are present; ignored elsewhere). */
export const GpuOptionsSchema = Type.Object(
  {
    device: Type.Integer({
      minimum: 0,
      maximum: 255,
      default: 0,
      description:
        'CUDA device ordinal (CUDA_VISIBLE_DEVICES applies) on which NVDEC decodes and the letterbox kernel runs for every ' +
        'stream of the pipeline; a device that does not exist on a machine with CUDA is a ConfigError at Pipeline.create().',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Pipeline-wide GPU options (the CUDA device).' },
);

/**
 * Default of `inputFormats`: video containers and elementary streams, the live protocols' demuxers and images
 * (docs/ingest.md). A demuxer has several names (`mov,mp4,m4a,3gp,3g2,mj2`); one of them in the list accepts it.
 */
export const DEFAULT_INPUT_FORMATS: readonly string[] = [
  'mov', 'matroska', 'mpegts', 'flv', 'avi', 'asf', 'nut', 'ivf', 'h264', 'hevc', 'm4v', 'mjpeg', 'rtsp', 'rtp', 'sdp',
  'image2', 'jpeg_pipe', 'png_pipe', 'bmp_pipe', 'webp_pipe',
];

/** Options of one stream (camera, file or URL). */
export const StreamOptionsSchema = Type.Object(
  {
    id: nonEmpty('Unique id of the stream within the pipeline.'),
    url: nonEmpty(
      'rtsp://, http(s)://, a file path or file:// URL. Credentials in it (`user:pass@`, `?token=`…) are redacted wherever ' +
        'it is shown: errors, events, stats.',
    ),
    rtspTransport: literals(['tcp', 'udp'], { default: 'tcp', description: 'RTSP transport.' }),
    openTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600000,
      default: 10000,
      description: 'Connect + probe timeout, ms.',
    }),
    readTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600000,
      default: 10000,
      description: 'No data for this long is a read error, ms.',
    }),
    loop: Type.Boolean({ default: false, description: 'Files: start again at the end.' }),
    fpsLimit: Type.Number({
      minimum: 0,
      maximum: 1000,
      default: 0,
      description: 'Process at most this many frames per second (0 = all).',
    }),
    live: Type.Union([Type.Boolean(), Type.Literal('auto')], {
      default: 'auto',
      expected: "boolean or 'auto'",
      description: "Live semantics (never block, keep the newest frame). 'auto': true for rtsp/udp/rtp…, false for files.",
    }),
    decoderThreads: Type.Integer({
      minimum: 1,
      maximum: 16,
      default: 1,
      description: 'libavcodec threads for this stream.',
    }),
    decode: literals(['auto', 'cpu', 'gpu'], {
      default: 'auto',
      description:
        "Decoder. 'auto': NVDEC when the GPU, the build and the stream allow, else libavcodec with ONE 'warning' saying " +
        "why; 'cpu': libavcodec only; 'gpu': NVDEC only, else the stream fails (reason 'nvdec'). stream.stats().decoder " +
        'tells which one runs.',
    }),
    tracker: Type.Partial(TrackerOptionsSchema, { additionalProperties: false, description: "Per-stream tracker options (override the pipeline's)." }),
    resultQueueSize: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 64,
      description: "Bound of this stream's results() iterator queue. Oldest results are dropped and counted.",
    }),
    reconnect: Type.Union([ReconnectOptionsSchema, Type.Literal(false)], {
      default: {},
      expected: 'object or false',
      description: 'Reconnect policy of a live stream; false = { maxAttempts: 0 }.',
    }),
    inputFormats: Type.Array(Type.String({ pattern: '^[a-z0-9_]+$', expected: 'FFmpeg demuxer names (a-z, 0-9, _)' }), {
      default: DEFAULT_INPUT_FORMATS,
      description:
        "FFmpeg demuxers the input may be read with ('mov', 'matroska', 'mpegts', …). An input detected as anything else " +
        "fails at open: ERR_CAMTRACK_UNSUPPORTED, reason 'format'. [] = any format FFmpeg detects.",
    }),
  },
  { additionalProperties: false, expected: 'object with id and url', description: 'Options of one stream (camera, file or URL).' },
);

/** Pipeline configuration: `Pipeline.create()`'s argument and `camtrack run --config`'s file. */
export const PipelineConfigSchema = Type.Object(
  {
    model: Type.Union([nonEmpty('Model file path.'), ModelOptionsSchema], {
      expected: 'model file path (string) or { path, ... }',
      description: 'Model file path, or options.',
    }),
    inference: InferenceOptionsSchema,
    batching: BatchingOptionsSchema,
    detection: DetectionOptionsSchema,
    tracker: TrackerOptionsSchema,
    streams: Type.Array(StreamOptionsSchema, {
      default: [],
      expected: 'array of stream options',
      description: 'Streams to start with (ids unique).',
    }),
    resultCapacity: Type.Integer({
      minimum: 8,
      maximum: 65536,
      default: 256,
      description: 'Frames the native result ring holds before the pipeline waits for JS.',
    }),
    ingest: IngestOptionsSchema,
    gpu: GpuOptionsSchema,
  },
  { additionalProperties: false, expected: 'object', title: 'camtrack pipeline configuration' },
);

/** Options as a caller writes them: every field with a default may be left out. */
export type Input<T> = { [K in keyof T]?: T[K] };

export type BackendName = Static<typeof BackendNameSchema>;
export type OutputLayout = Static<typeof OutputLayoutSchema>;
export type ModelOptions = Static<typeof ModelOptionsSchema>;
export type DetectionOptions = Input<Static<typeof DetectionOptionsSchema>>;
export type TrackerOptions = Input<Static<typeof TrackerOptionsSchema>>;
export type BatchingOptions = Input<Static<typeof BatchingOptionsSchema>>;
export type InferenceOptions = Input<Static<typeof InferenceOptionsSchema>>;
export type ReconnectOptions = Input<Static<typeof ReconnectOptionsSchema>>;
export type IngestOptions = Input<Static<typeof IngestOptionsSchema>>;
export type GpuOptions = Input<Static<typeof GpuOptionsSchema>>;
type StreamStatic = Static<typeof StreamOptionsSchema>;
export type StreamOptions = Pick<StreamStatic, 'id' | 'url'> &
  Input<Omit<StreamStatic, 'id' | 'url' | 'tracker' | 'reconnect'>> & { tracker?: TrackerOptions; reconnect?: ReconnectOptions | false };
/** Pipeline configuration. */
export interface PipelineConfig {
  model: string | ModelOptions;
  inference?: InferenceOptions;
  batching?: BatchingOptions;
  detection?: DetectionOptions;
  tracker?: TrackerOptions;
  streams?: StreamOptions[];
  resultCapacity?: number;
  ingest?: IngestOptions;
  gpu?: GpuOptions;
}

/** Normalised (complete) values: what everything past src/config receives. */
export type NormalisedTracker = Static<typeof TrackerOptionsSchema>;
export type NormalisedStream = Omit<StreamStatic, 'tracker' | 'reconnect'> & {
  tracker: NormalisedTracker;
  reconnect: Static<typeof ReconnectOptionsSchema>;
};

/** Keys only camtrack's validator reads; left out of the printed JSON Schema. */
const NON_STANDARD_KEYS = new Set(['expected']);

/**
 * The pipeline config (the `camtrack run` file) as a standalone JSON Schema document, draft-07. The declarations
 * above describe the normalised config, where every field is present; a config as written may leave out every field
 * that has a default, so the document requires only the others.
 */
export function configJsonSchema(): Record<string, unknown> {
  const body = JSON.parse(
    JSON.stringify(PipelineConfigSchema, (k, v: unknown) => {
      if (NON_STANDARD_KEYS.has(k)) return undefined;
      const o = v as { properties?: Record<string, { default?: unknown }>; required?: string[] };
      if (!o || typeof o !== 'object' || !o.properties || !Array.isArray(o.required)) return v;
      const required = o.required.filter((p) => o.properties![p]?.default === undefined);
      const { required: _all, ...rest } = o;
      return required.length > 0 ? { ...rest, required } : rest;
    }),
  ) as Record<string, unknown>;
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...body };
}
