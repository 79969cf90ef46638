/**
 * The one loader of the native addon, and the typed declaration of everything it exports (names one-to-one with
 * native/binding). Candidates are tried in order — explicit path, CAMTRACK_NATIVE_PATH, build/Release, the prebuilt
 * addon of @camtrack/linux-x64 — and a failure throws ONE error listing every attempt, what was wrong in the user's
 * words (src/native-prebuilt.ts) and the likely fixes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { NativeDetectionConfig, NormalisedConfig, NormalisedStream } from './config.js';
import type { AnalyticsFrameResult } from './analytics.js';
import type { NativeAnalyticsConfig } from './config/analytics.js';
import { CamtrackError } from './errors.js';
import {
  BUILD_FROM_SOURCE,
  explainLoadError,
  findPrebuilt,
  type LoadContext,
  type PackageInfo,
  PREBUILT_ADDON_PACKAGE,
} from './native-prebuilt.js';
import type { TrackEvent } from './tracker.js';
import type { PipelineStats, StreamStats } from './types.js';

export interface NativeDetection {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classId: number;
}
export interface NativeTrack extends NativeDetection {
  trackId: number;
  /** Frames since the track started. */
  age: number;
}
export interface NativeFrameResult {
  stream: number;
  frameIndex: number;
  ptsMs: number;
  wallMs: number;
  latencyMs: number;
  width: number;
  height: number;
  /** false: postprocessed without inference (FrameResult.inferred). */
  inferred: boolean;
  /** Present (true) only when the circuit breaker's fallback backend inferred it (FrameResult.inferredBy). */
  fallback?: boolean;
  detections: NativeDetection[];
  tracks: NativeTrack[];
  /** Present only when the tracker reported lifecycle events for this frame. */
  trackEvents?: NativeTrackEvent[];
  /** Pushed frames: the sequence number of the push the frame was decoded from (the key of its tag). */
  seq?: number;
  /** Streams with analytics: this frame's (native/binding/analytics_convert.h). */
  analytics?: NativeAnalyticsFrame;
}
/** A stream's snapshot as takeSnapshot() returns it (native/core/snapshot/snapshot_slot.h). */
export interface NativeSnapshot {
  frameIndex: number;
  ptsMs: number;
  width: number;
  height: number;
  boxes: boolean;
  numBoxes: number;
  jpeg?: Buffer;
  error?: string;
}

export interface NativeEvent {
  /** 'drain': a lossless pushed stream's queue, reported full by a push, is down to half. */
  kind: 'state' | 'warning' | 'error' | 'end' | 'drain' | 'snapshot' | 'breaker';
  /** 'breaker' (stream -1): the states of the transition (reason and message say why). */
  from?: string;
  to?: string;
  stream: number;
  state?: string;
  message?: string;
  error?: CamtrackError;
  /** Reason word of a state change or failure (StateChange.reason). */
  reason?: string;
  /** Reconnect attempt a warning belongs to. */
  attempt?: number;
  /** A warning about one pushed frame (it could not be decoded): its sequence number. */
  seq?: number;
}
/**
 * Stats as the addon produces them: the public names and shapes (src/types.ts), less what only JS knows (the
 * backend's name, the results JS queues dropped).
 */
export type NativeStreamStats = Omit<StreamStats, 'dropped'> & { dropped: Omit<StreamStats['dropped'], 'consumer'> };
export type NativePipelineStats = Omit<PipelineStats, 'backend' | 'streams'> & { streams: NativeStreamStats[] };
export interface NativeModelConfig {
  inputWidth: number;
  inputHeight: number;
  channelOrder: 'rgb' | 'bgr';
  letterbox: 'center' | 'top-left';
  padValue: number;
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  layout: 'ultralytics' | 'yolox' | 'e2e';
  numClasses: number;
  numAnchors: number;
  outputElemsPerImage: number;
  batchSize: number;
  fixedBatch: boolean;
  scoreThreshold: number;
  nmsIou: number;
  classAgnosticNms: boolean;
  nmsForEndToEnd: boolean;
  maxDetections: number;
  strides?: number[];
}
/**
 * A stream as NativePipeline.addStream() takes it: the normalised stream (src/config/schema.ts declares its fields),
 * complete, with four fields in their native form. native/binding/pipeline_config.cpp ReadStream reads the fields
 * native code uses, each required; the others (JS_ONLY_STREAM_OPTIONS) are JS-only.
 */
export type NativeStreamConfig = Omit<NormalisedStream, 'url' | 'live' | 'inputFormats' | 'tracker' | 'detection' | 'analytics' | 'motion'> & {
  /** The url, or `push:<id>` for a pushed stream (it names the stream in messages). */
  url: string;
  /** decode::LiveMode of native/core/decode/demuxer.h. */
  live: LiveMode;
  /** Accepted demuxers, comma-separated (FFmpeg's format_whitelist); '' = any. */
  inputFormats: string;
  /** NativeTracker's config (native/binding/track_convert.h), complete; type 'none' = no tracker. */
  tracker: Omit<NativeTrackerConfig, 'type'> & { type: NativeTrackerConfig['type'] | 'none' };
  /** The stream's detection options, class labels resolved (src/config/detection.ts). */
  detection: NativeDetectionConfig;
  /** The stream's analytics (src/config/analytics.ts toNativeAnalytics); null: none. */
  analytics: NativeAnalyticsConfig | null;
  /** Motion gating (native/core/batch/motion.h), masks as flat [x0, y0, x1, y1, …] arrays. */
  motion: Omit<NormalisedStream['motion'], 'masks'> & { masks: number[][] };
};
/** Stream options only JS reads (src/stream.ts, src/delivery.ts): ReadStream ignores them. */
export const JS_ONLY_STREAM_OPTIONS: readonly string[] = ['resultQueueSize', 'delivery'];
/**
 * A stream's live config as NativePipeline.configureStream() takes it (native/binding/configure.cpp ReadLiveConfig):
 * the live-changeable fields native code applies, in the form addStream() takes them.
 */
export type NativeLiveConfig = Pick<NativeStreamConfig, 'fpsLimit' | 'tracker' | 'detection' | 'analytics' | 'inference' | 'motion'>;
/** NativePipeline.changeAnalyticsCounts()'s argument. */
export interface NativeAnalyticsCounts {
  reset: boolean;
  lines: { id: string; in: number; out: number; perClass: { classId: number; in: number; out: number }[] }[];
}
/** Live or file semantics of a stream, as native/core/decode/demuxer.h LiveMode numbers them. */
export const LiveMode = { auto: -1, file: 0, live: 1 } as const;
export type LiveMode = (typeof LiveMode)[keyof typeof LiveMode];
export interface NativePipeline {
  readonly id: number;
  addStream(config: NativeStreamConfig): number;
  removeStream(handle: number): void;
  /** Swaps the live config of a running stream, from its next frame (ERR_CAMTRACK_INVALID_STATE: not running). */
  configureStream(handle: number, config: NativeLiveConfig): void;
  /**
   * Changes a running stream's cumulative line counts before its next frame's analytics: `reset` zeroes them, then
   * `lines` are added (ids not configured are ignored). ERR_CAMTRACK_INVALID_STATE: not running, or 64 changes wait.
   */
  changeAnalyticsCounts(handle: number, counts: NativeAnalyticsCounts): void;
  stats(): NativePipelineStats;
  /** One stream's stats (undefined when the handle is not a current stream). */
  streamStats(handle: number): NativeStreamStats | undefined;
  /** Delivery credit of a lossless stream: its source waits before its next frame while paused. */
  setStreamPaused(handle: number, paused: boolean): void;
  /**
   * Pushed streams: queues frame `seq` (the count of frames this stream accepted so far), its bytes held without a
   * copy until decoded, `ptsMs` -1 for the time since the first push, `high` the frame's own priority 'high'
   * (default false); returns the frames queued after it.
   * ERR_CAMTRACK_INVALID_STATE: not a running pushed stream, ended, or lossless with a full queue.
   */
  pushFrame(handle: number, seq: number, bytes: Uint8Array, ptsMs: number, high?: boolean): number;
  /** Pushed streams: no more frames (unknown handles are ignored). */
  endPush(handle: number): void;
  /** Asks the stream for its next frame as a JPEG (false: one is in progress); a 'snapshot' event says it is ready. */
  requestSnapshot(handle: number, boxes: boolean, quality: number): boolean;
  /** Withdraws a request no frame was taken for yet. */
  cancelSnapshot(handle: number): boolean;
  /** The ready snapshot, copied out (the stream's slot is free again), or undefined. */
  takeSnapshot(handle: number): NativeSnapshot | undefined;
  flush(onEvents: (results: NativeFrameResult[], events: NativeEvent[]) => void): void;
  close(): void;
}
/** Config of NativeTracker (validated and completed by src/tracker.ts). */
export interface NativeTrackerConfig {
  type: 'bytetrack' | 'sort' | 'iou';
  classAware: boolean;
  frameRate: number;
  /** > 0: overrides trackBuffer / maxAge with round(seconds × frameRate) frames. */
  trackBufferSeconds: number;
  trackThresh: number;
  highThresh: number;
  matchThresh: number;
  trackBuffer: number;
  maxAge: number;
  minHits: number;
  iouThreshold: number;
  greedy: boolean;
}
/** A track event as the addon gives it: the public TrackEvent without the label (src/tracker.ts adds it). */
export type NativeTrackEvent = Omit<TrackEvent, 'label'>;
/** One standalone tracker (native/binding/tracker_wrap.h). */
export interface NativeTrackerInstance {
  update(detections: Float32Array | { x1: number; y1: number; x2: number; y2: number; score: number; classId?: number }[]): NativeTrack[];
  events(): NativeTrackEvent[];
  reset(): void;
}
/** One frame of analytics as the addon gives it: already the public shape, named by the addon (analytics_convert.h). */
export type NativeAnalyticsFrame = AnalyticsFrameResult;
/** One standalone analytics engine (native/binding/analytics_wrap.h). */
export interface NativeAnalyticsInstance {
  update(tracks: Float64Array, tsMs: number, inferred: boolean): NativeAnalyticsFrame;
  reset(): void;
}
export interface NativeFeature {
  available: boolean;
  reason?: string;
}
export interface NativeCapabilities {
  cuda: NativeFeature & {
    compiled: boolean;
    driverVersion: number;
    runtimeVersion: number;
    devices: { index: number; name: string; computeCapability: string; totalMemoryBytes: number }[];
  };
  nvdec: NativeFeature;
  tensorrt: NativeFeature & { compiled: boolean };
  ffmpeg: {
    version: string;
    avformat: string;
    avcodec: string;
    avutil: string;
    swscale: string;
    hwaccels: string[];
    cudaDecoders: string[];
    nvdecHwaccelCodecs: string[];
  };
}
/** Config of NativePipeline (native/binding/pipeline_config.cpp), complete: every field is required there. */
export interface NativePipelineConfig {
  model: NativeModelConfig;
  batching: {
    maxWaitMs: number;
    resultCapacity: number;
    /** batching.targetLatencyMs; absent: none. */
    targetLatencyMs?: number;
    breaker?: {
      consecutiveFailures: number;
      windowBatches: number;
      windowFailureRatio: number;
      cooldownMs: number;
      probeFrames: number;
      /** inference.breaker.fallback: 'cpu' sends the frames the breaker refuses to the fallback workers. */
      fallback: 'none' | 'cpu';
    };
  };
  ingest: NormalisedConfig['ingest'];
  gpu: NormalisedConfig['gpu'];
}
export interface NativeModule {
  NativePipeline: new (
    config: NativePipelineConfig,
    onEvents: (results: NativeFrameResult[], events: NativeEvent[]) => void,
  ) => NativePipeline;
  NativeTracker: new (config: NativeTrackerConfig) => NativeTrackerInstance;
  NativeAnalytics: new (config: NativeAnalyticsConfig) => NativeAnalyticsInstance;
  attachWorker(
    pipelineId: number,
    inputs: Float32Array[],
    outputs: Float32Array[],
    onSubmit: (slot: number, images: number) => void,
    name?: string,
    /** 'fallback': a worker of the circuit breaker's fallback backend (default 'primary'). */
    pool?: 'primary' | 'fallback',
  ): number;
  completeBatch(pipelineId: number, worker: number, slot: number, ok: boolean, error?: string): void;
  detachWorker(pipelineId: number, worker: number): void;
  capabilities(): NativeCapabilities;
  setErrorClass(cls: typeof CamtrackError): void;
  buildInfo: { cuda: boolean; tensorrt: boolean; napiVersion: number };
}

export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Which addon file loaded, and from where (`camtrack doctor` shows it). */
export interface NativeLoadInfo {
  /** 'explicit path', 'CAMTRACK_NATIVE_PATH', 'local build' (build/Release; `camtrack build-native`), 'prebuilt'. */
  source: string;
  file: string;
  /** For 'prebuilt': the @camtrack/linux-x64 and @camtrack/ffmpeg-linux-x64 packages. */
  prebuilt?: { addon: PackageInfo; libs?: PackageInfo };
}

let cached: NativeModule | undefined;
let cachedInfo: NativeLoadInfo | undefined;

/** Where the cached addon came from (undefined until loadNative() succeeded once). */
export function nativeLoadInfo(): NativeLoadInfo | undefined {
  return cachedInfo;
}

function camtrackVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '';
  }
}

/**
 * Loads the addon once (per thread). `explicitPath` wins over every other candidate. Then CAMTRACK_NATIVE_PATH, the
 * local build (build/Release/camtrack.node: `npx camtrack build-native` in an installed package, `npm run build:dev`
 * in the repository) and the prebuilt addon of the optional dependency @camtrack/linux-x64 (src/native-prebuilt.ts).
 * A failure throws ONE error listing every candidate with what was wrong, in the user's words, and the fixes.
 */
export function loadNative(explicitPath?: string): NativeModule {
  if (cached && !explicitPath) return cached;
  const require = createRequire(import.meta.url);
  const candidates: { label: string; file: string; ctx: LoadContext; prebuilt?: NativeLoadInfo['prebuilt'] }[] = [];
  const attempts: string[] = [];
  const build = (label: string, file: string) => candidates.push({ label, file, ctx: { kind: 'build', file } });
  if (explicitPath) build('explicit path', explicitPath);
  if (process.env.CAMTRACK_NATIVE_PATH) build('CAMTRACK_NATIVE_PATH', process.env.CAMTRACK_NATIVE_PATH);
  build('local build', path.join(packageRoot, 'build', 'Release', 'camtrack.node'));
  const pre = findPrebuilt(packageRoot, camtrackVersion());
  let prebuiltNote = '';
  if (pre.kind === 'found') {
    candidates.push({
      label: `prebuilt ${PREBUILT_ADDON_PACKAGE} ${pre.addon.version}`,
      file: pre.file,
      ctx: { kind: 'prebuilt', file: pre.file, addonDir: pre.addon.dir, ...(pre.libs ? { libs: pre.libs } : {}) },
      prebuilt: { addon: pre.addon, ...(pre.libs ? { libs: pre.libs } : {}) },
    });
  } else {
    prebuiltNote = `  - prebuilt: ${pre.reason}`;
  }
  for (const c of candidates) {
    if (!existsSync(c.file)) {
      attempts.push(`  - ${c.label}: ${c.file} (not found)`);
      continue;
    }
    try {
      const mod = require(c.file) as NativeModule;
      mod.setErrorClass(CamtrackError);
      if (!explicitPath) {
        cached = mod;
        cachedInfo = {
          source: c.ctx.kind === 'prebuilt' ? 'prebuilt' : c.label,
          file: c.file,
          ...(c.prebuilt ? { prebuilt: c.prebuilt } : {}),
        };
      }
      return mod;
    } catch (err) {
      attempts.push(`  - ${c.label}: ${c.file}: ${explainLoadError((err as Error).message, c.ctx)}`);
    }
  }
  if (prebuiltNote) attempts.push(prebuiltNote);
  throw new CamtrackError(
    `Could not load the camtrack native addon. Tried:\n${attempts.join('\n')}`,
    'ERR_CAMTRACK_NATIVE_LOAD',
    {
      hint:
        pre.kind === 'found'
          ? `reinstall camtrack (npm install --include=optional camtrack), or build from source: ${BUILD_FROM_SOURCE}`
          : `build from source: ${BUILD_FROM_SOURCE}; in camtrack's repository: npm run build:dev`,
    },
  );
}
