/**
 * The configuration schema: every option of the library, `camtrack run`'s config file and (later) the service,
 * declared once, with TypeBox. Each declaration is at the same time the field's type (`Static`), default, range or
 * accepted values, and documentation (`description`), and the JSON Schema `camtrack config schema` prints
 * (draft-07; {@link configJsonSchema}). src/config/index.ts validates against it and fills the defaults; nothing
 * else in camtrack (src/pipeline.ts, src/native.ts, native/binding, native/core) writes a default of its own.
 *
 * `expected` (not a JSON Schema keyword; {@link configJsonSchema} leaves it out) words the accepted values in a
 * ConfigError where the schema alone would read badly (`object with id and url`).
 * `reconfigurable: true` (camtrack's keyword too, set by {@link live}) marks a stream option that
 * `stream.configure()` can change on a running stream; {@link LIVE_STREAM_FIELDS} lists them.
 * Adding a stream option: one field in {@link StreamOptionsSchema} here, one member in the native struct it
 * configures (native/core/decode/demuxer.h SourceOptions or native/core/pipeline/config.h StreamConfig) and
 * the line of native/binding/pipeline_config.cpp ReadStream that copies it (docs/architecture.md, "Where to change what";
 * a live-changeable one: {@link live}, LiveConfig in native/core/pipeline/live_config.h, configure.cpp ReadLiveConfig).
 * A camera registry's config (`camtrack run`'s file, {@link CameraRegistryConfigSchema}) is the pipeline's, built from
 * the same declarations, with named `models` and cameras that name their `model`; a new pipeline or stream option
 * appears there by itself.
 */
import os from 'node:os';

import { Type, type Static, type TLiteral, type TSchema, type TUnion, type SchemaOptions } from '@sinclair/typebox';

/** One of the given strings (JSON Schema `anyOf` of `const`s). */
export function literals<const T extends string[]>(values: T, options: SchemaOptions = {}) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<{ [K in keyof T]: TLiteral<T[K]> }>;
}

const unit = (description: string, def?: number) => Type.Number({ minimum: 0, maximum: 1, description, default: def });
const nonEmpty = (description: string) => Type.String({ minLength: 1, description });

/** The sentence {@link live} adds to the description of a live-changeable stream option. */
export const LIVE_NOTE = 'Live: stream.configure() changes it on a running stream.';

/**
 * Marks a stream option as live-changeable: `stream.configure(patch)` may change it while the stream runs, from the
 * next frame, without reopening the source. Making an option live takes this mark and a native side that applies a
 * new value per frame (native/core/pipeline/live_config.h; JS-only options: src/stream.ts configure()).
 */
function live<T extends TSchema>(schema: T): T {
  return { ...schema, reconfigurable: true, description: `${schema.description ?? ''} ${LIVE_NOTE}`.trim() };
}

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
    targetLatencyMs: Type.Optional(
      Type.Number({
        minimum: 1,
        maximum: 60000,
        description:
          'p99 latency target, ms (frame taking its batch position → result ready). Dynamic-batch models: an AIMD ' +
          'controller then chooses the batch size (1..maxBatchSize) and the wait instead of maxBatchSize and maxWaitMs ' +
          '(fixed-batch models keep their size). Also the starvation bound of normal-priority streams (200 ms without ' +
          'it). docs/scheduling.md "Adaptive batching and priorities".',
      }),
    ),
  },
  { additionalProperties: false, default: {}, description: 'Cross-stream batching.' },
);

/** The backend's circuit breaker (docs/scheduling.md "Circuit breaker"). */
export const BreakerOptionsSchema = Type.Object(
  {
    consecutiveFailures: Type.Integer({
      minimum: 0,
      default: 5,
      description: 'Open after this many failed batches in a row (0: this rule is off).',
    }),
    windowBatches: Type.Integer({
      minimum: 0,
      default: 20,
      description: 'The windowed rule: its window, in batches (0: this rule is off).',
    }),
    windowFailureRatio: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'The windowed rule: open when at least this fraction of the last windowBatches batches failed.',
    }),
    cooldownMs: Type.Integer({
      minimum: 0,
      default: 5000,
      description: 'Open → half-open after this long; then probeFrames frames are inferred and their batch decides.',
    }),
    probeFrames: Type.Integer({
      minimum: 1,
      default: 1,
      description: 'Frames admitted in half-open (the probe) before its first batch result closes or reopens it.',
    }),
    fallback: literals(['none', 'cpu'], {
      default: 'none',
      description:
        "What happens to a frame the breaker refuses (open, or half-open past the probe's frames): 'none' drops it " +
        "(dropped.breaker); 'cpu' infers it on a fallback worker (one extra onnxruntime session on the CPU execution " +
        "provider whatever executionProviders says, started with the pipeline), counted in breaker.fallbackFrames; " +
        'the primary backend\'s probe still decides when the breaker closes.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      "Circuit breaker per backend: while open, frames that would be inferred are dropped (stream stats " +
      "dropped.breaker, pipeline stats breaker) or, with fallback 'cpu', inferred by a CPU fallback worker; streams " +
      'do not fail because inference fails.',
  },
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
    breaker: BreakerOptionsSchema,
    faults: Type.Optional(
      Type.Object(
        {
          failNextBatches: Type.Optional(
            Type.Integer({ minimum: 0, description: 'The first N batches the workers take fail (not run).' }),
          ),
          killWorkerAfterBatches: Type.Optional(
            Type.Integer({ minimum: 1, description: 'Worker 0 exits after completing this many batches.' }),
          ),
          fallback: Type.Optional(
            Type.Object(
              {
                failNextBatches: Type.Optional(
                  Type.Integer({ minimum: 0, description: "The fallback worker's first N batches fail (not run)." }),
                ),
                killWorkerAfterBatches: Type.Optional(
                  Type.Integer({ minimum: 1, description: 'The fallback worker exits after completing this many batches.' }),
                ),
              },
              {
                additionalProperties: false,
                description:
                  "Faults of the breaker's fallback worker (inference.breaker.fallback 'cpu'). The fields above target " +
                  'the primary workers only.',
              },
            ),
          ),
        },
        {
          additionalProperties: false,
          description:
            'TEST ONLY (refused unless NODE_ENV=test): fault injection into the real onnxruntime workers, for the ' +
            'circuit breaker tests (docs/scheduling.md).',
        },
      ),
    ),
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
    maxLagMs: Type.Union([Type.Literal(0), Type.Integer({ minimum: 500, maximum: 600000 })], {
      default: 0,
      expected: 'integer 0 or between 500 and 600000',
      description:
        'Lag bound: when frames arrive this many ms later (against the camera\'s clock) than the fastest frame of ' +
        'the connection did, the backlog a slow link built up is dropped by reconnecting (reason `lag`). ' +
        '0 = off, else 500..600000 ms. See docs/ingest.md.',
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

/** A box-area bound: square pixels, or a percentage of the frame area (`'2.5%'`). */
const AREA_PERCENT_PATTERN = '^(100(\\.0+)?|[0-9]{1,2}(\\.[0-9]+)?)%$';
const areaBound = (description: string, def?: number) => {
  const accepted = 'number of square pixels (>= 0) or a percentage of the frame area such as "2.5%"';
  return Type.Union(
    [
      Type.Number({ minimum: 0, maximum: 1e12 }),
      Type.String({ pattern: AREA_PERCENT_PATTERN, expected: accepted }),
    ],
    { expected: accepted, description, ...(def !== undefined ? { default: def } : {}) },
  );
};

/** A polygon in source-frame pixels: at least 3 [x, y] points, the last joined to the first. */
export const PolygonSchema = Type.Array(Type.Tuple([Type.Number(), Type.Number()]), {
  minItems: 3,
  expected: 'polygon: array of at least 3 [x, y] points',
  description: '[[x, y], …] in source-frame pixels, at least 3 points; closed (the last point joins the first).',
});
const polygons = (description: string) =>
  Type.Array(PolygonSchema, { default: [], expected: 'array of polygons ([[x, y], …] each)', description });

/**
 * Detection options of one stream (docs/configuration.md): applied natively after parse + NMS (whose model-level
 * `detection.scoreThreshold` of the pipeline is the floor) and before the tracker. The defaults keep every
 * detection. Boxes are tested by their ANCHOR, the bottom-centre of the box (where an object stands), as
 * DeepStream's ROI filtering and supervision's zones (Position.BOTTOM_CENTER) do.
 */
export const StreamDetectionOptionsSchema = Type.Object(
  {
    scoreThreshold: unit(
      "Minimum score of this stream's detections (of every class without its own threshold). The pipeline's " +
        'detection.scoreThreshold is applied first and stays the floor: a lower value here keeps nothing more.',
      0,
    ),
    classThresholds: Type.Record(Type.String({ minLength: 1 }), unit('Minimum score of this class.'), {
      default: {},
      expected: 'object of class id or label → threshold between 0 and 1',
      description:
        "Minimum score per class, keyed by class id ('0') or label ('person'); replaces scoreThreshold for that " +
        "class (the pipeline's floor still applies). An unknown label is a ConfigError.",
    }),
    classes: Type.Optional(
      Type.Array(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })]), {
        minItems: 1,
        expected: 'non-empty array of class ids (integers >= 0) or labels',
        description: "Only these classes are kept: class ids (0) or labels ('person'). Default: every class.",
      }),
    ),
    minArea: areaBound(
      'Smallest box area kept: square source pixels (0 = no bound), or a percentage of the frame area (\'0.5%\').',
      0,
    ),
    maxArea: Type.Optional(
      areaBound("Largest box area kept: square source pixels, or a percentage of the frame area ('25%'). Default: no bound."),
    ),
    include: polygons(
      "Regions where detections count: a detection is kept only when its box's bottom-centre lies inside one of " +
        'these polygons (or on its edge). [] = the whole frame.',
    ),
    exclude: polygons(
      "Regions where detections are ignored: a detection whose box's bottom-centre lies inside one of these " +
        'polygons (or on its edge) is dropped, also inside an include polygon.',
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      "This stream's detection options: thresholds, class filter, box area, include/exclude polygons (source pixels).",
  },
);

/**
 * Inference options of one stream (docs/scheduling.md): which of its frames are inferred. A frame that is not still
 * produces a result (`inferred: false`) with the tracks the tracker predicts.
 */
export const StreamInferenceOptionsSchema = Type.Object(
  {
    interval: Type.Integer({
      minimum: 0,
      maximum: 1000,
      default: 0,
      description:
        "Frames skipped after each inferred frame (DeepStream's interval): a frame is inferred every interval + 1 frames " +
        "(after the fps limit); the others give results with inferred false and predicted tracks (stats: skipped.interval).",
    }),
  },
  { additionalProperties: false, default: {}, description: "This stream's inference schedule." },
);

/**
 * Motion gating of one stream (docs/scheduling.md): frames without motion skip inference while the tracker predicts.
 * The measure: each frame's luma on a grid of at most 64 x 64 cells is compared with a running-average background;
 * a cell changed when it differs by more than `threshold`; the frame has motion when the changed cells are at least
 * `minArea` of the cells outside `masks`.
 */
export const MotionOptionsSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Skip inference on frames without motion.' }),
    threshold: Type.Number({
      minimum: 0,
      maximum: 255,
      default: 25,
      description: 'Luma levels (0..255) a cell of the motion grid must differ from its background to count as changed.',
    }),
    minArea: unit('Fraction of the motion grid (outside masks) that must change for a frame to have motion.', 0.002),
    masks: polygons(
      'Regions (source pixels) whose motion is ignored, e.g. a clock overlay or trees: cells whose centre lies inside one.',
    ),
    maxSkipSeconds: Type.Number({
      minimum: 0,
      maximum: 3600,
      default: 5,
      description:
        'Infer at least this often (stream time, seconds) even without motion, so that what stands still is checked; 0 = no bound.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'Motion gating: frames without motion skip inference (results with inferred false, tracks predicted; stats: ' +
      'skipped.motion); inference resumes on the first frame with motion and at least every maxSkipSeconds.',
  },
);

/**
 * Default of `inputFormats`: video containers and elementary streams, the live protocols' demuxers and images
 * (docs/ingest.md). A demuxer has several names (`mov,mp4,m4a,3gp,3g2,mj2`); one of them in the list accepts it.
 */
// ---- analytics (issue 13, docs/analytics.md): lines, zones, speed after the tracker ------------------------------

export const ANCHOR_NAMES = [
  'top-left', 'top-center', 'top-right', 'center-left', 'center', 'center-right', 'bottom-left', 'bottom-center', 'bottom-right',
] as const;
export const AnchorSchema = literals([...ANCHOR_NAMES], {
  description: 'A point of the box: top-left, top-center, top-right, center-left, center, center-right, bottom-left, bottom-center, bottom-right.',
});
const anchorField = (description: string) => literals([...ANCHOR_NAMES], { default: 'bottom-center', description });
const xy = (description: string) =>
  Type.Tuple([Type.Number(), Type.Number()], { expected: '[x, y] (two numbers)', description });
const analyticsId = (what: string) =>
  Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$', description: `The ${what}'s id (letters, digits, _ . : -); unique.` });

export const LineOptionsSchema = Type.Object(
  {
    id: analyticsId('line'),
    start: xy('Start of the segment, source-frame pixels. Walking from start to end, the side on the left (as seen on the screen) is "in".'),
    end: xy('End of the segment, source-frame pixels.'),
    anchors: Type.Array(AnchorSchema, {
      minItems: 1,
      maxItems: 9,
      uniqueItems: true,
      default: ['bottom-center'],
      expected: 'array of 1 to 9 distinct anchor names',
      description:
        'The box points that decide its side; a frame where they straddle the line is ignored. Default bottom-center: where an object stands, and it works at frame edges (four corners never all cross a line near the edge). supervision\'s LineZone: the four corners.',
    }),
    minCrossingFrames: Type.Integer({
      minimum: 1,
      maximum: 30,
      default: 2,
      description: 'Frames in a row the new side must hold for a crossing to count. Default 2: a box flickering across the line for one frame does not count. supervision\'s LineZone: 1.',
    }),
    direction: Type.Optional(
      Type.Tuple([xy('tail'), xy('head')], {
        expected: '[[x, y], [x, y]] (a vector from tail to head)',
        description: 'DeepStream-style direction vector [[x, y], [x, y]]: "in" is the crossing towards the side it points to (replaces the start→end convention). Must not be parallel to the line.',
      }),
    ),
  },
  { additionalProperties: false, description: 'A counting line.' },
);

export const ZoneOptionsSchema = Type.Object(
  {
    id: analyticsId('zone'),
    polygon: PolygonSchema,
    anchor: anchorField('The box point that must lie in the polygon. Default bottom-center: where an object stands on the ground.'),
    classes: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { description: 'Class ids counted in the zone; omitted: every class.' })),
    enterFrames: Type.Integer({ minimum: 1, maximum: 10000, default: 3, description: 'Frames in a row inside before a track enters (Frigate\'s inertia, default 3): one stray box is not a visit.' }),
    exitFrames: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 15,
      description: 'Frames in a row outside or not seen before a track leaves. Default 15 (half a second at 30 fps): an object occluded or undetected for fewer frames stays inside and counted.',
    }),
    loiterSeconds: Type.Number({ minimum: 0, default: 0, description: 'A loiter event once per visit when the dwell reaches this many seconds (stream timestamps). 0: off.' }),
    maxOccupancy: Type.Integer({ minimum: 0, default: 0, description: 'An overcrowd event when occupancy exceeds it; again only after it fell to maxOccupancy - 1 or below. 0: off.' }),
  },
  { additionalProperties: false, description: 'A zone.' },
);

export const SpeedOptionsSchema = Type.Object(
  {
    anchor: anchorField('The box point whose motion is measured. Default bottom-center: on the ground, which a ground homography maps right.'),
    smoothing: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.3, description: 'EMA weight of the newest velocity (1: no smoothing).' }),
    pixelsPerMeter: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Metres by a flat scale: speeds in m/s.' })),
    homography: Type.Optional(
      Type.Object(
        {
          image: Type.Array(xy('image point'), { minItems: 4, maxItems: 4, expected: '4 [x, y] image points' }),
          ground: Type.Array(xy('ground point'), { minItems: 4, maxItems: 4, expected: '4 [x, y] ground points in metres' }),
        },
        { additionalProperties: false, description: 'Four points on the ground in the image and their positions in metres: speeds in m/s on the ground plane.' },
      ),
    ),
    limit: Type.Number({ minimum: 0, default: 0, description: 'A speed event when a track\'s smoothed speed exceeds it (m/s with a scale, else px/s); again after it fell below 90 % of it. 0: off.' }),
  },
  { additionalProperties: false, description: 'Speed and heading of every track.' },
);

export const AnalyticsOptionsSchema = Type.Object(
  {
    lines: Type.Array(LineOptionsSchema, { default: [], maxItems: 256, description: 'Counting lines.' }),
    zones: Type.Array(ZoneOptionsSchema, { default: [], maxItems: 256, description: 'Zones.' }),
    speed: Type.Optional(SpeedOptionsSchema),
    usePredicted: Type.Boolean({
      default: false,
      description: 'Frames not inferred (inferred: false): run the rules on the tracker\'s predicted boxes. Default false: predictions are guesses, and a count should rest on detections.',
    }),
  },
  { additionalProperties: false, description: 'Lines, zones and speed after the tracker (docs/analytics.md).' },
);

export const DEFAULT_INPUT_FORMATS: readonly string[] = [
  'mov', 'matroska', 'mpegts', 'flv', 'avi', 'asf', 'nut', 'ivf', 'h264', 'hevc', 'm4v', 'mjpeg', 'rtsp', 'rtp', 'sdp',
  'image2', 'jpeg_pipe', 'png_pipe', 'bmp_pipe', 'webp_pipe',
];

/**
 * What the schema alone says about `input` (JSON Schema, for editors and `camtrack config schema`): `url` is required
 * unless `input` is 'push', which requires `codec`. normaliseStream() checks the same (and that `url`/`codec` do not
 * come with the other input) with messages naming the field. (Each branch names its properties under `properties`
 * too, as a strict validator, ajv's strictRequired, wants.)
 */
const INPUT_RULES = [
  { properties: { input: { const: 'url' }, url: true }, required: ['url'] },
  { properties: { input: { const: 'push' }, codec: true }, required: ['input', 'codec'] },
];

/** Options of one stream (camera, file or URL, or frames pushed from JS). */
export const StreamOptionsSchema = Type.Object(
  {
    id: nonEmpty('Unique id of the stream within the pipeline.'),
    url: Type.Optional(
      nonEmpty(
        "input 'url' (required there; not used with 'push'): rtsp://, http(s)://, a file path or file:// URL. Credentials " +
          'in it (`user:pass@`, `?token=`…) are redacted wherever it is shown: errors, events, stats.',
      ),
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
    fpsLimit: live(
      Type.Number({
        minimum: 0,
        maximum: 1000,
        default: 0,
        description: 'Process at most this many frames per second (0 = all).',
      }),
    ),
    live: Type.Union([Type.Boolean(), Type.Literal('auto')], {
      default: 'auto',
      expected: "boolean or 'auto'",
      description:
        "Live semantics (never block, keep the newest frame). 'auto': true for rtsp/udp/rtp… and pushed streams, false for " +
        "files. A pushed stream (input 'push') with live false is lossless: nothing is dropped, push() reports back-pressure.",
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
    detection: live(StreamDetectionOptionsSchema),
    analytics: live(
      Type.Optional(
        Type.Object(AnalyticsOptionsSchema.properties, {
          additionalProperties: false,
          description:
            "Lines, zones and speed after the tracker (docs/analytics.md): per-frame results on result.analytics, events on stream.on('analytics'). A changed section starts its counts from zero.",
        }),
      ),
    ),
    inference: live(StreamInferenceOptionsSchema),
    motion: live(MotionOptionsSchema),
    tracker: live(
      Type.Partial(TrackerOptionsSchema, {
        additionalProperties: false,
        description:
          "Per-stream tracker options (override the pipeline's). Changed live, the same type keeps its tracks and ids; " +
          'another type starts a new tracker (ids from 1 again).',
      }),
    ),
    resultQueueSize: live(
      Type.Integer({
        minimum: 1,
        maximum: 100000,
        default: 64,
        description:
          "Results this stream holds for a consumer that has not taken them yet, per results() iterator and for its 'result' " +
          "listeners (docs/delivery.md). When full, `delivery` decides: drop the oldest (counted in dropped.consumer) or pause the source.",
      }),
    ),
    delivery: literals(['auto', 'lossless', 'latest'], {
      default: 'auto',
      description:
        "What a consumer slower than the stream gets (docs/delivery.md). 'lossless': every result; when resultQueueSize results " +
        "wait, the source pauses until half of them are taken (a file waits; results in flight still arrive). 'latest': the " +
        "oldest waiting result is dropped and counted in dropped.consumer. 'auto': lossless for files, latest for live streams.",
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
    input: literals(['url', 'push'], {
      default: 'url',
      description:
        "Where frames come from: 'url' (the camera, file or URL in `url`) or 'push' (compressed frames handed over with " +
        "stream.push(bytes, { frameId, ptsMs, meta }); `codec` says what they are; docs/push.md).",
    }),
    codec: Type.Optional(
      literals(['jpeg', 'png', 'h264', 'hevc'], {
        description:
          "input 'push' (required there): what each push() holds: one JPEG or PNG image, or complete H.264 / HEVC access " +
          'units in Annex-B form (one picture per push for per-frame tags). Decoded on the CPU at the size the model needs.',
      }),
    ),
    pushQueueSize: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 8,
      description:
        "input 'push': compressed frames waiting to be decoded, at most. When full, `live` decides: live keeps the newest " +
        '(JPEG/PNG: the oldest waiting frame is dropped; H.264/HEVC: the waiting access units are dropped and decoding ' +
        "resumes at the next keyframe), lossless (live: false) makes push() return false until the stream's 'drain' event.",
    }),
    maxPixels: Type.Integer({
      minimum: 1,
      maximum: 1_000_000_000,
      default: 50_000_000,
      description:
        "input 'push': a pushed frame of more pixels (width × height, read from its header before decoding) is rejected " +
        "with a 'warning' (reason 'too_large') and counted in stats().push.rejected.tooLarge; the stream goes on.",
    }),
    priority: literals(['normal', 'high'], {
      default: 'normal',
      description:
        "'high': this stream's frames take batch positions ahead of normal streams' while positions are scarce (a live " +
        "high frame waits up to the starvation bound for one instead of being dropped). Normal streams still get at least " +
        'one position per starvation bound (batching.targetLatencyMs, else 200 ms) between them. Not live. ' +
        'docs/scheduling.md "Adaptive batching and priorities".',
    }),
  },
  {
    additionalProperties: false,
    expected: 'object with id and url',
    description: 'Options of one stream (camera, file or URL, or frames pushed from JS).',
    anyOf: INPUT_RULES,
  },
);

/** Pipeline configuration: `Pipeline.create()`'s argument (one model); `camtrack run`'s file is {@link CameraRegistryConfigSchema}. */
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

/** The streams of events `redis.events.enabled` can turn on (docs/redis.md says what each carries). */
export const REDIS_EVENT_KINDS = ['detection', 'analytics', 'metrics', 'alert'] as const;

/** A Redis key pattern: `{id}` stands for the camera id. */
const keyPattern = (description: string, def: string) =>
  Type.String({ minLength: 1, pattern: '\\{id\\}', default: def, expected: 'string containing {id}', description });

/** A Redis key or field name with its default. */
const redisName = (description: string, def: string) => Type.String({ minLength: 1, default: def, description });

/** Where and how `camtrack` writes each camera's results (the Redis sink, src/sinks/redis.ts). */
export const RedisOutputOptionsSchema = Type.Object(
  {
    key: keyPattern("Stream each camera's results are added to (XADD); {id} is the camera id.", 'camera_{id}_output'),
    field: redisName('Field of each output entry that holds the result message (wire-format JSON, docs/wire.md).', 'data'),
    maxLen: Type.Integer({
      minimum: 0,
      maximum: 1e9,
      default: 10000,
      description:
        'XADD MAXLEN ~: each output stream is trimmed to about this many entries (Redis trims whole radix-tree nodes, ' +
        'so a stream may hold up to about 100 more). 0 = never trimmed.',
    }),
    maxPending: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 256,
      description:
        "Results of one camera waiting to be written while Redis is slow or away. When full, a camera whose delivery is " +
        "'lossless' (files) pauses until half of them are written; one whose delivery is 'latest' (live) drops its " +
        'oldest waiting result, counted (sink stats dropped.full, and the stream\'s dropped.consumer).',
    }),
    batchSize: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 512,
      description: 'Most entries written in one pipelined round trip (one pipeline is in flight at a time).',
    }),
  },
  { additionalProperties: false, default: {}, description: "Each camera's results: stream key, field, trimming, buffering." },
);

/** The optional streams of events for other services (the design's Kafka topics), off by default. */
export const RedisEventsOptionsSchema = Type.Object(
  {
    enabled: Type.Array(literals([...REDIS_EVENT_KINDS]), {
      default: [],
      expected: `array of ${REDIS_EVENT_KINDS.map((k) => JSON.stringify(k)).join(', ')}`,
      description:
        "Which event streams are written: 'detection' (result messages of frames with detections, tracks or track " +
        "events), 'analytics' (one analytics event message per analytics event: line-cross, zone-enter, …), 'metrics' (a " +
        "metrics message per camera every metricsIntervalMs), 'alert' (state, warning and error messages). [] = none.",
    }),
    detectionKey: redisName("Stream of the 'detection' events.", 'detection_events'),
    analyticsKey: redisName("Stream of the 'analytics' events.", 'analytics_events'),
    metricsKey: redisName("Stream of the 'metrics' events.", 'metrics_events'),
    alertKey: redisName("Stream of the 'alert' events.", 'alert_events'),
    field: redisName('Field of each event entry that holds the message (wire-format JSON).', 'data'),
    maxLen: Type.Integer({
      minimum: 0,
      maximum: 1e9,
      default: 100000,
      description: 'XADD MAXLEN ~ of each event stream (about; 0 = never trimmed).',
    }),
    maxPending: Type.Integer({
      minimum: 1,
      maximum: 1000000,
      default: 4096,
      description: 'Event messages waiting to be written while Redis is slow or away; when full the oldest is dropped, counted.',
    }),
    metricsIntervalMs: Type.Integer({
      minimum: 100,
      maximum: 3600000,
      default: 10000,
      description: "How often the 'metrics' stream gets one message per camera, ms.",
    }),
  },
  { additionalProperties: false, default: {}, description: 'Streams of events for other services (off by default).' },
);

/** The fields of an input entry (docs/redis.md, "Input"), by role: the seed producer's names by default. */
export const RedisInputFieldsSchema = Type.Object(
  {
    frame: redisName('Field holding the frame: JPEG bytes as they are (binary, no base64). Required in every entry.', 'frame'),
    frameId: redisName("Field holding the producer's frame number (an integer ≥ 0; on the wire frame_id). Optional in an entry.", 'frame_id'),
    timestamp: redisName(
      'Field holding the capture time, seconds since the epoch (a float, as Python time.time()). Optional in an entry: ' +
        "without it a frame's age is taken from its entry id.",
      'timestamp',
    ),
    metadata: redisName('Field holding a JSON object passed through to the result (wire metadata). Optional in an entry.', 'metadata'),
  },
  { additionalProperties: false, default: {}, description: 'Field names of input entries (a field map for producers that name them differently).' },
);

/** How `camtrack worker` reads frames (the Redis source, src/sources/redis.ts). */
export const RedisInputOptionsSchema = Type.Object(
  {
    key: keyPattern("Stream each camera's frames are read from; {id} is the camera id.", 'camera_{id}_input'),
    group: Type.String({
      minLength: 1,
      default: 'inference_consumer_{id}',
      description: 'Consumer group, created (from the start of the stream) when missing; {id}, if present, is the camera id.',
    }),
    fields: RedisInputFieldsSchema,
    cameras: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      expected: 'array of camera ids',
      description: 'Cameras to read (ids; their streams are the key pattern with {id} replaced). `--cameras a,b` sets it.',
    }),
    discover: Type.Boolean({
      default: false,
      description:
        'Also read every stream whose key matches the key pattern (SCAN … MATCH, TYPE stream), looking again every ' +
        'discoverIntervalMs. `--discover PATTERN` sets it and the key pattern.',
    }),
    discoverIntervalMs: Type.Integer({ minimum: 100, maximum: 3600000, default: 10000, description: 'How often discovery looks for new streams, ms.' }),
    readers: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 2,
      description: 'Reader connections; each camera is read by one of them (by a hash of its id). Never one per camera.',
    }),
    count: Type.Integer({ minimum: 1, maximum: 10000, default: 16, description: 'XREADGROUP COUNT: most entries read per camera per read.' }),
    blockMs: Type.Integer({
      minimum: 10,
      maximum: 60000,
      default: 1000,
      description: 'How long a reader with nothing to read waits on its streams (XREAD BLOCK) before it looks again, ms.',
    }),
    maxInFlight: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 8,
      description:
        'Entries of one camera read but not yet acknowledged (processing, or their result not yet written). A camera at ' +
        'this bound is not read: its backlog waits in Redis, never in memory.',
    }),
    maxFrameAgeMs: Type.Integer({
      minimum: 0,
      maximum: 86400000,
      default: 0,
      description:
        'Frames older than this when read (now − their timestamp field, else their entry id time) are skipped, ' +
        'acknowledged and counted (dropped.stale), so live video does not build up latency after an outage. 0 = off. ' +
        '`--max-frame-age S` sets it in seconds.',
    }),
    claimIdleMs: Type.Integer({
      minimum: 0,
      maximum: 86400000,
      default: 30000,
      description:
        "Entries another consumer of the group has held unacknowledged this long (a dead worker's) are claimed " +
        '(XAUTOCLAIM) and processed here; checked every claimIdleMs / 2. 0 = never claim.',
    }),
    trimIntervalMs: Type.Integer({
      minimum: 0,
      maximum: 86400000,
      default: 10000,
      description:
        "How often each input stream is trimmed (XTRIM MINID) up to what every one of its consumer groups has " +
        'acknowledged, ms. 0 = never.',
    }),
  },
  { additionalProperties: false, default: {}, description: "Frames in: each camera's input stream, its consumer group, reading and freshness." },
);

/** Camera ownership across workers (src/sources/leases.ts; docs/redis.md, "Several workers"). */
export const RedisLeaseOptionsSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description:
        'Each camera is read by one worker at a time: the one a rendezvous hash over the live workers picks, holding a ' +
        'lease with a fencing token that every write and acknowledgement checks. false: every worker reads every ' +
        'camera it is given (one worker, or cameras split by hand).',
    }),
    ttlMs: Type.Integer({
      minimum: 500,
      maximum: 600000,
      default: 5000,
      description: "A worker's membership and its leases expire this long after its last heartbeat, ms: a dead worker's cameras move after about this long.",
    }),
    heartbeatMs: Type.Integer({
      minimum: 50,
      maximum: 60000,
      default: 1000,
      description: 'How often a worker renews its membership and leases and looks at the live workers, ms (well below ttlMs).',
    }),
    prefix: redisName('Prefix of the lease keys: <prefix>workers (sorted set), <prefix>lease:<camera>, <prefix>fence:<camera>.', 'camtrack:'),
  },
  { additionalProperties: false, default: {}, description: 'Camera leases across several workers (camtrack worker).' },
);

/** Cumulative line counts kept in Redis (docs/analytics.md, "Counts kept in Redis"), for cameras with analytics. */
export const RedisCountsOptionsSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description:
        "Keep each camera's cumulative line counts in a Redis hash and seed its analytics from it when the camera starts " +
        '(a restart, or the camera moving to another worker, continues the counts). Only cameras with an analytics section.',
    }),
    key: keyPattern("Hash of a camera's counts, one field per line id (JSON: in, out, per_class); {id} is the camera id.", 'camera_{id}_analytics'),
    intervalMs: Type.Integer({
      minimum: 100,
      maximum: 3600000,
      default: 1000,
      description: "Most often a camera's hash is written while its counts change, ms; it is also written when the camera stops.",
    }),
  },
  { additionalProperties: false, default: {}, description: 'Cumulative analytics counts kept across restarts and workers.' },
);

/**
 * Redis Streams (docs/redis.md): the server, and where results and events go. `camtrack run --redis URL` (or this
 * section in its config file) writes every camera's results to Redis instead of stdout.
 */
export const RedisOptionsSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      pattern: '^rediss?://',
      default: 'redis://127.0.0.1:6379',
      expected: 'redis:// or rediss:// URL',
      description:
        'redis://[[user]:password@]host[:port][/db], or rediss:// for TLS. The password is never shown: logs, stats and ' +
        'errors print the URL as redis://***@host:port.',
    }),
    connectTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600000,
      default: 10000,
      description: 'Connect (and TLS handshake) timeout of each attempt, ms; a lost connection is retried forever.',
    }),
    commandTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600000,
      default: 10000,
      description:
        'A write Redis has not answered after this long is treated as lost: written again (possibly twice) on the ' +
        'same or a new connection, ms.',
    }),
    closeTimeoutMs: Type.Integer({
      minimum: 0,
      maximum: 600000,
      default: 5000,
      description: 'At exit, how long to wait for waiting results to be written before they are dropped (counted), ms.',
    }),
    input: RedisInputOptionsSchema,
    leases: RedisLeaseOptionsSchema,
    output: RedisOutputOptionsSchema,
    events: RedisEventsOptionsSchema,
    counts: RedisCountsOptionsSchema,
  },
  { additionalProperties: false, expected: 'object', description: 'Redis Streams: the server, frames in, results out, event streams (docs/redis.md).' },
);

// ---- analytics events out (issue 13, docs/analytics.md "Where the counts go"): webhooks and MQTT, off by default ----

/** The analytics event types (AnalyticsEvent['type']), for the outputs' `events` filters. */
export const ANALYTICS_EVENT_TYPES = ['line-cross', 'zone-enter', 'zone-exit', 'loiter', 'overcrowd', 'speed'] as const;
const analyticsEventFilter = (what: string) =>
  Type.Array(literals([...ANALYTICS_EVENT_TYPES]), {
    default: [...ANALYTICS_EVENT_TYPES],
    expected: `array of ${ANALYTICS_EVENT_TYPES.map((k) => JSON.stringify(k)).join(', ')}`,
    description: `The analytics event types ${what} (default: all).`,
  });

/** One webhook: each analytics event POSTed as JSON (the wire's analytics event message) to `url`. */
export const WebhookOptionsSchema = Type.Object(
  {
    url: Type.String({ minLength: 1, pattern: '^https?://', expected: 'http:// or https:// URL', description: 'Where each event is POSTed (Content-Type: application/json). Shown redacted (no credentials, no query) in stats and warnings.' }),
    events: analyticsEventFilter('POSTed'),
    secret: Type.Optional(Type.String({ minLength: 1, description: 'Sent as the value of `secretHeader` with every POST, so the receiver can tell it is camtrack. Never logged or shown.' })),
    secretHeader: Type.String({ minLength: 1, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", default: 'x-camtrack-secret', expected: 'HTTP header name', description: 'The header that carries `secret`.' }),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 600000, default: 5000, description: 'A POST without a response after this long fails (and is retried), ms.' }),
    retries: Type.Integer({ minimum: 0, maximum: 100, default: 5, description: 'Retries of a failed POST (network error, timeout, 408, 429 or 5xx) before the event is dropped (counted as failed). Other 4xx: dropped at once (counted as rejected).' }),
    backoffMs: Type.Integer({ minimum: 1, maximum: 600000, default: 500, description: 'Wait before the first retry, ms; doubled at each further retry, up to maxBackoffMs.' }),
    maxBackoffMs: Type.Integer({ minimum: 1, maximum: 3600000, default: 30000, description: 'The longest wait between retries, ms.' }),
    maxPending: Type.Integer({ minimum: 1, maximum: 1000000, default: 1000, description: 'Events waiting while the receiver is slow or away; when full the oldest is dropped (counted as dropped).' }),
  },
  { additionalProperties: false, expected: 'object', description: 'A webhook for analytics events (POST, retries with capped exponential backoff, a bounded queue).' },
);

/** MQTT (Frigate's integration style): events and retained counts on a broker. */
export const MqttOptionsSchema = Type.Object(
  {
    url: Type.String({ minLength: 1, pattern: '^(mqtts?|wss?)://', expected: 'mqtt://, mqtts://, ws:// or wss:// URL', description: 'The broker, mqtt://[user:password@]host[:port]. Credentials never appear in logs or stats.' }),
    topicPrefix: Type.String({ minLength: 1, pattern: '^[^#+]+$', default: 'camtrack', expected: 'topic without + or #', description: 'Topics: <prefix>/<camera>/events (each event), <prefix>/<camera>/lines/<line> and <prefix>/<camera>/zones/<zone> (retained counts, occupancy), <prefix>/available (online/offline, retained; the will).' }),
    events: analyticsEventFilter('published on <prefix>/<camera>/events'),
    qos: Type.Union([Type.Literal(0), Type.Literal(1)], { default: 0, description: 'QoS of the event messages (retained counts: the same).' }),
    clientId: Type.Optional(Type.String({ minLength: 1, description: 'MQTT client id (default camtrack-<hostname>-<pid>-<n>); give each client its own.' })),
    maxPending: Type.Integer({ minimum: 1, maximum: 1000000, default: 1000, description: 'Messages waiting while the broker is away; when full the oldest is dropped (counted).' }),
    connectTimeoutMs: Type.Integer({ minimum: 100, maximum: 600000, default: 10000, description: 'Connect timeout of each attempt, ms.' }),
    reconnectMs: Type.Integer({ minimum: 100, maximum: 600000, default: 1000, description: 'Wait between reconnect attempts, ms (a lost broker is retried forever).' }),
  },
  { additionalProperties: false, expected: 'object', description: 'Analytics events and counts to an MQTT broker.' },
);

/** Where analytics events go besides results (each off by default): webhooks, MQTT. */
export const OutputsOptionsSchema = Type.Object(
  {
    webhooks: Type.Array(WebhookOptionsSchema, { default: [], expected: 'array of webhook options', description: 'Webhooks for analytics events ([] = none).' }),
    mqtt: Type.Optional(MqttOptionsSchema),
  },
  { additionalProperties: false, default: {}, expected: 'object', description: 'Analytics events out: webhooks and MQTT (docs/analytics.md).' },
);

/**
 * `camtrack serve` detection sessions (docs/sessions.md): WebSocket /stream/detection and REST + SSE /stream/…, each
 * session a pushed camera `session-<client_id>` on the serve's cameras. The limits equal DEFAULT_SESSION_LIMITS of
 * src/server/sessions/table.ts (test/unit/serve-sessions-config.test.ts keeps them equal).
 */
export const ServeSessionsOptionsSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Serve detection sessions (false: the /stream/ routes are absent, 404).' }),
    model: Type.Optional(nonEmpty("The model the sessions run on (a key of `models`). Default: the config's default model.")),
    maxSessions: Type.Integer({ minimum: 1, maximum: 100000, default: 100, description: 'Sessions open at once; more get 503 ERR_CAMTRACK_SESSION_LIMIT.' }),
    idleTimeoutMs: Type.Integer({
      minimum: 1000,
      maximum: 86400000,
      default: 300000,
      description: 'A session with no frame, config update or connection for this long is closed, ms.',
    }),
    maxFrameBytes: Type.Integer({
      minimum: 1024,
      maximum: 256 * 1024 * 1024,
      default: 4 * 1024 * 1024,
      description: 'Largest compressed image one frame may hold, bytes. The WebSocket message limit is derived from it.',
    }),
    maxPixels: Type.Integer({
      minimum: 1,
      maximum: 268435456,
      default: 7680 * 4320,
      description: "Largest image, width × height, read from its header before decoding (the session stream's maxPixels).",
    }),
    pushQueueSize: Type.Integer({ minimum: 1, maximum: 1024, default: 4, description: 'Frames waiting to be decoded per session; the oldest goes when full (counted).' }),
    outboxSize: Type.Integer({ minimum: 1, maximum: 10000, default: 32, description: 'Messages waiting for a WebSocket client, and the SSE replay window; the oldest go when full (counted).' }),
    maxBufferedBytes: Type.Integer({
      minimum: 1024,
      maximum: 1024 * 1024 * 1024,
      default: 1024 * 1024,
      description: "Bytes written to a client's socket and not yet read by it, beyond which the outbox waits.",
    }),
    keepAliveMs: Type.Integer({ minimum: 100, maximum: 3600000, default: 15000, description: 'SSE keep-alive comment interval, ms.' }),
    defaultFpsLimit: Type.Number({ minimum: 0, maximum: 1000, default: 30, description: 'fps_limit of a session that sets none (0 = no limit).' }),
  },
  { additionalProperties: false, default: {}, expected: 'object', description: 'camtrack serve: detection sessions over WebSocket and REST + SSE (docs/sessions.md).' },
);

/** `camtrack serve`: the images of the managed cameras (GET …/snapshot.jpg, …/stream.mjpeg; docs/serve.md, "Images"). */
export const ServeSnapshotOptionsSchema = Type.Object(
  {
    maxFps: Type.Number({
      minimum: 0.1,
      maximum: 100,
      default: 5,
      description:
        'Snapshots (snapshot.jpg) encoded per camera per second; more requests get 429 ERR_CAMTRACK_RATE_LIMITED. Requests that ' +
        'arrive while one for the same camera and options is being made share it and are not counted.',
    }),
    streamMaxFps: Type.Number({ minimum: 0.1, maximum: 100, default: 10, description: 'The highest rate a stream.mjpeg reader may ask for (query fps), per reader.' }),
    streamFps: Type.Number({ minimum: 0.1, maximum: 100, default: 5, description: 'The rate of a stream.mjpeg reader that asks for none (capped by streamMaxFps).' }),
    quality: Type.Integer({ minimum: 1, maximum: 100, default: 80, description: 'JPEG quality of a request that sets none (query quality).' }),
    timeoutMs: Type.Integer({
      minimum: 100,
      maximum: 60000,
      default: 5000,
      description: 'How long a snapshot waits for a frame; then 503 ERR_CAMTRACK_SNAPSHOT_TIMEOUT (the camera is connecting or reconnecting).',
    }),
  },
  { additionalProperties: false, default: {}, expected: 'object', description: "camtrack serve: the cameras' snapshot.jpg and stream.mjpeg (docs/serve.md)." },
);

/** `camtrack serve --grpc-port N`: the gRPC service (docs/grpc.md); absent: no gRPC server. Same token and TLS as HTTP. */
export const ServeGrpcOptionsSchema = Type.Object(
  {
    port: Type.Integer({ minimum: 0, maximum: 65535, description: 'TCP port of the gRPC server; 0 = any free port.' }),
    host: Type.Optional(nonEmpty('Address of the gRPC server. Default: serve.host (loopback by default).')),
    cameraIdleSeconds: Type.Integer({
      minimum: 1,
      maximum: 86400,
      default: 300,
      description:
        'A ProcessFrame/ProcessFrameBatch camera (its tracker state kept between calls) with no call for this long is removed; ' +
        'its id starts a fresh camera with its next frame.',
    }),
    maxCameras: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 256,
      description:
        'gRPC cameras at once (ProcessFrame cameras and ProcessCameraStream calls); a new one over it fails RESOURCE_EXHAUSTED ' +
        'with ERR_CAMTRACK_SESSION_LIMIT.',
    }),
  },
  { additionalProperties: false, expected: 'object', description: 'camtrack serve: the gRPC service VisionCoreService and grpc.health.v1 (docs/grpc.md).' },
);

/**
 * `camtrack serve` (docs/serve.md): where it listens, its token and TLS files, where REST-added cameras are kept, and
 * the limits of its result streams. Precedence: command-line flags, then the environment (CAMTRACK_TOKEN), then this
 * section, then these defaults. CameraRegistry ignores it.
 */
export const ServeOptionsSchema = Type.Object(
  {
    host: Type.String({
      minLength: 1,
      default: '127.0.0.1',
      description: 'Address to listen on. Anything but loopback (127.0.0.0/8, ::1, localhost) needs a token.',
    }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'TCP port; 0 = any free port.' }),
    token: Type.Optional(
      Type.String({
        minLength: 16,
        description:
          'Bearer token every route but /health/* needs (Authorization: Bearer, ?token= or the camtrack_token cookie). ' +
          'At least 16 characters. Prefer env CAMTRACK_TOKEN or --token to writing it here.',
      }),
    ),
    tlsCert: Type.Optional(nonEmpty('PEM certificate file: serve HTTPS (and wss://) with tlsKey. Relative to the config file.')),
    tlsKey: Type.Optional(nonEmpty('PEM private key file of tlsCert. Relative to the config file.')),
    stateFile: Type.Optional(
      nonEmpty(
        'Where cameras added over REST are kept across restarts (JSON, written atomically). Default: ' +
          '<config file>.cameras.json next to the config file, or ./camtrack-serve.cameras.json without one. With --redis ' +
          'the list is kept in Redis instead.',
      ),
    ),
    bodyLimitBytes: Type.Integer({
      minimum: 1024,
      maximum: 64 * 1024 * 1024,
      default: 1024 * 1024,
      description: 'Largest request body, bytes (413 above it).',
    }),
    resultQueueSize: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 64,
      description:
        'Messages waiting for one SSE or WebSocket result reader that is slower than its cameras; when full the oldest ' +
        'is dropped and counted (the reader gets the newest).',
    }),
    sessions: ServeSessionsOptionsSchema,
    snapshot: ServeSnapshotOptionsSchema,
    grpc: Type.Optional(ServeGrpcOptionsSchema),
  },
  { additionalProperties: false, expected: 'object', description: 'camtrack serve: listening, auth, TLS, persistence (docs/serve.md).' },
);

/** The name the top-level `model` has among the `models` of a camera registry config. */
export const DEFAULT_MODEL_NAME = 'default';

/**
 * `camtrack run` only: where a pushed camera's frames come from (the registry itself ignores it; a library user
 * pushes with stream.push()). Exactly one of `dir` and `stdin`. docs/push.md, "Trying it without a server".
 */
export const FeedOptionsSchema = Type.Object(
  {
    dir: Type.Optional(
      nonEmpty(
        'A directory of frames, one per file, pushed in name order (numbers compared as numbers: 2.jpg before 10.jpg); files ' +
          "whose extension is not the codec's (.jpg/.jpeg, .png, .h264/.264, .hevc/.265) are skipped. Relative to the config file.",
      ),
    ),
    stdin: Type.Optional(
      literals(['mjpeg', 'length-prefixed'], {
        description:
          "Frames read from standard input: 'mjpeg' = JPEGs back to back (what `ffmpeg -f mjpeg -` writes), 'length-prefixed' " +
          '= each frame preceded by its length as a 4-byte big-endian unsigned integer (any codec). One camera at most.',
      }),
    ),
    fps: Type.Optional(
      Type.Number({
        minimum: 0.01,
        maximum: 1000,
        description:
          'Push at most this many frames per second (ptsMs then advances by 1000/fps per frame). Default: as fast as the ' +
          "camera takes them (a lossless camera, live: false, waits for 'drain'; a live one drops what it cannot take).",
      }),
    ),
  },
  {
    additionalProperties: false,
    expected: "object with dir or stdin ('mjpeg' | 'length-prefixed'), and fps",
    description: "camtrack run, input 'push': the frames to push: a directory of images (or access units) or standard input.",
  },
);

/** Options of one camera of a CameraRegistry: a stream's options and the model it runs on. */
export const CameraOptionsSchema = Type.Object(
  {
    ...StreamOptionsSchema.properties,
    model: Type.Optional(
      nonEmpty(
        `Name of the model the camera runs on: a key of \`models\`, or '${DEFAULT_MODEL_NAME}' for the top-level \`model\`. ` +
          'Default: the top-level `model`; without one, the only entry of `models`.',
      ),
    ),
    feed: Type.Optional(FeedOptionsSchema),
  },
  {
    additionalProperties: false,
    expected: 'object with id and url',
    description: 'Options of one camera: a stream (camera, file or URL, or pushed frames) and the model it runs on.',
    anyOf: INPUT_RULES,
  },
);

/** `models` of a camera registry config: named models, each a path or options as the pipeline's `model`. */
export const ModelsSchema = Type.Optional(
  Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' }), PipelineConfigSchema.properties.model, {
    minProperties: 1,
    additionalProperties: false,
    expected: 'object of model file paths or { path, ... } by name',
    description:
      `Named models: { name: path or options }. Each model is run by its own pipeline, started with its first camera; ` +
      `a camera names its model with \`model\`. Names: letters, digits, _ . - (up to 64); '${DEFAULT_MODEL_NAME}' is ` +
      'the top-level `model` when there is one.',
  }),
);

/**
 * Configuration of a CameraRegistry: `camtrack run --config`'s file (and later `serve`'s and `worker`'s). The
 * pipeline configuration (every field declared once, above) with `model` optional, plus `models` (named models,
 * each run by its own pipeline) and cameras that name their model. Every pipeline gets the same inference, batching,
 * detection, tracker, ingest and gpu options.
 */
export const CameraRegistryConfigSchema = Type.Object(
  // The pipeline's fields in their order, each the same declaration; `models` follows `model`.
  Object.fromEntries([
    ...Object.entries(PipelineConfigSchema.properties).flatMap(([key, field]): [string, TSchema][] => {
      if (key === 'model') return [['model', Type.Optional(field)], ['models', ModelsSchema]];
      if (key === 'streams') {
        const cameras = Type.Array(CameraOptionsSchema, {
          default: [],
          expected: 'array of camera options',
          description: 'Cameras to start with (ids unique across all models).',
        });
        return [['streams', cameras]];
      }
      return [[key, field]];
    }),
    // Not a pipeline option: where `camtrack run` (and `worker`) write results; CameraRegistry ignores it.
    ['redis', Type.Optional(RedisOptionsSchema)],
    // Not a pipeline option either: `camtrack serve`'s own settings.
    ['serve', Type.Optional(ServeOptionsSchema)],
    // Nor this: where analytics events go (run, worker and serve attach them to their cameras).
    ['outputs', Type.Optional(OutputsOptionsSchema)],
  ]),
  {
    additionalProperties: false,
    expected: 'object',
    title: 'camtrack configuration',
    // `model`, `models` or both; normaliseRegistryConfig() says `model: Expected ...` when neither is there. (Each
    // branch names its property under `properties` too, as a strict validator, ajv's strictRequired, wants.)
    anyOf: [
      { properties: { model: true }, required: ['model'] },
      { properties: { models: true }, required: ['models'] },
    ],
  },
);

/**
 * The stream options `stream.configure()` can change on a running stream (declared with {@link live}): today
 * fpsLimit, detection, inference, motion, tracker and resultQueueSize. The others (id, url, transport, timeouts, decode, reconnect, …)
 * need the stream removed and added again.
 */
export const LIVE_STREAM_FIELDS: readonly string[] = Object.entries(StreamOptionsSchema.properties)
  .filter(([, schema]) => (schema as { reconfigurable?: unknown }).reconfigurable === true)
  .map(([key]) => key);

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
export type StreamDetectionOptions = Input<Static<typeof StreamDetectionOptionsSchema>>;
export type StreamInferenceOptions = Input<Static<typeof StreamInferenceOptionsSchema>>;
export type MotionOptions = Input<Static<typeof MotionOptionsSchema>>;
type StreamStatic = Static<typeof StreamOptionsSchema>;
/** What a pushed stream's frames are (`codec` of a stream with input 'push'). */
export type PushCodec = NonNullable<StreamStatic['codec']>;
/** A stream reads `url` (input 'url', the default), or takes frames pushed from JS (input 'push', with their `codec`). */
export type StreamInputOptions = { input?: 'url'; url: string; codec?: undefined } | { input: 'push'; codec: PushCodec; url?: undefined };
export type StreamOptions = Pick<StreamStatic, 'id'> &
  StreamInputOptions &
  Input<Omit<StreamStatic, 'id' | 'url' | 'input' | 'codec' | 'tracker' | 'reconnect' | 'detection' | 'inference' | 'motion'>> & {
    inference?: StreamInferenceOptions;
    motion?: MotionOptions;
    tracker?: TrackerOptions;
    reconnect?: ReconnectOptions | false;
    detection?: StreamDetectionOptions;
  };
/**
 * A change of a running stream's options (`stream.configure(patch)`): the shape of the stream options, every field
 * optional, merged into the stream's current options as a JSON Merge Patch (RFC 7396): objects merge, anything else
 * replaces, `null` removes a field (back to its default; a tracker field back to the pipeline's).
 */
export type StreamOptionsPatch = MergePatch<StreamOptions>;
type MergePatch<T> = {
  [K in keyof T]?: (NonNullable<T[K]> extends readonly unknown[] ? T[K] : NonNullable<T[K]> extends object ? MergePatch<NonNullable<T[K]>> : T[K]) | null;
};
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

/** `camtrack run`: where a pushed camera's frames come from ({@link FeedOptionsSchema}). */
export type FeedOptions = Static<typeof FeedOptionsSchema>;
/** Options of one camera of a CameraRegistry: a stream's options and the name of its model (and `camtrack run`'s feed). */
export type CameraOptions = StreamOptions & { model?: string; feed?: FeedOptions };
/** Configuration of a CameraRegistry (and `camtrack run`'s file): `model`, `models` or both. */
export interface CameraRegistryConfig extends Omit<PipelineConfig, 'model' | 'streams'> {
  model?: string | ModelOptions;
  models?: Record<string, string | ModelOptions>;
  streams?: CameraOptions[];
  /** Where `camtrack run` writes results (docs/redis.md); CameraRegistry itself ignores it. */
  redis?: RedisOptions;
  /** `camtrack serve`'s settings (docs/serve.md); CameraRegistry itself ignores it. */
  serve?: ServeOptions;
  /** Where analytics events go: webhooks, MQTT (docs/analytics.md); CameraRegistry itself ignores it. */
  outputs?: Input<Static<typeof OutputsOptionsSchema>>;
}
/** `camtrack serve`'s section as written. */
export type ServeOptions = Input<Static<typeof ServeOptionsSchema>>;
/** `camtrack serve`'s section with its defaults filled. */
export type NormalisedServeOptions = Static<typeof ServeOptionsSchema>;
export type RedisEventKind = (typeof REDIS_EVENT_KINDS)[number];
/** Redis options as written: every field with a default may be left out. */
export type RedisOptions = Input<Omit<Static<typeof RedisOptionsSchema>, 'input' | 'leases' | 'output' | 'events'>> & {
  leases?: Input<Static<typeof RedisLeaseOptionsSchema>>;
  input?: Input<Omit<Static<typeof RedisInputOptionsSchema>, 'fields'>> & { fields?: Input<Static<typeof RedisInputFieldsSchema>> };
  output?: Input<Static<typeof RedisOutputOptionsSchema>>;
  events?: Input<Static<typeof RedisEventsOptionsSchema>>;
};
/** Redis options with every default filled. */
export type NormalisedRedisOptions = Static<typeof RedisOptionsSchema>;
export type NormalisedOutputsOptions = Static<typeof OutputsOptionsSchema>;
export type WebhookOptions = Static<typeof WebhookOptionsSchema>;
export type MqttOptions = Static<typeof MqttOptionsSchema>;

/** Normalised (complete) values: what everything past src/config receives. */
export type NormalisedTracker = Static<typeof TrackerOptionsSchema>;
export type NormalisedStreamDetection = Static<typeof StreamDetectionOptionsSchema>;
export type NormalisedStream = Omit<StreamStatic, 'tracker' | 'reconnect'> & {
  tracker: NormalisedTracker;
  reconnect: Static<typeof ReconnectOptionsSchema>;
};

/** Keys only camtrack's validator reads; left out of the printed JSON Schema. */
const NON_STANDARD_KEYS = new Set(['expected', 'reconfigurable']);

/**
 * The `camtrack run` config file (a CameraRegistry's config, which includes every pipeline option) as a standalone
 * JSON Schema document, draft-07. The declarations above describe the normalised config, where every field is
 * present; a config as written may leave out every field that has a default, so the document requires only the others.
 */
export function configJsonSchema(): Record<string, unknown> {
  const body = JSON.parse(
    JSON.stringify(CameraRegistryConfigSchema, (k, v: unknown) => {
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
