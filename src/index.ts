/**
 * camtrack — real-time detection and tracking on many camera streams.
 * Public API: Pipeline, Stream, CameraRegistry, configuration types, result types, errors, capabilities().
 */
export { Pipeline } from './pipeline.js';
export { Stream, type PushFrameOptions } from './stream.js';
export type { Snapshot, SnapshotOptions } from './snapshot.js';
export { CameraRegistry, type CameraEvent, type CameraInfo, type CameraRegistryStats } from './cameras/registry.js';
export type { FrameTag } from './frame-tags.js';
export { RedisSink, type RedisSinkStats, type RedisSinkCameraStats, type SinkDrops } from './sinks/redis.js';
export { RedisWorker, type RedisWorkerOptions, type RedisWorkerStats, type WorkerCameraSummary } from './sources/worker.js';
export { capabilities, formatCapabilities, type Capabilities } from './capabilities.js';
export { CamtrackError, ConfigError, InvalidStateError, type CamtrackErrorCode } from './errors.js';
export { normaliseConfig, normaliseRegistryConfig, normaliseRedisOptions, configJsonSchema, DEFAULT_INPUT_FORMATS, DEFAULT_MODEL_NAME, LIVE_STREAM_FIELDS } from './config.js';
export type {
  PipelineConfig,
  CameraRegistryConfig,
  CameraOptions,
  StreamOptions,
  StreamInputOptions,
  PushCodec,
  StreamOptionsPatch,
  StreamDetectionOptions,
  StreamInferenceOptions,
  MotionOptions,
  ModelOptions,
  DetectionOptions,
  TrackerOptions,
  BatchingOptions,
  InferenceOptions,
  BackendName,
  OutputLayout,
  ReconnectOptions,
  IngestOptions,
  GpuOptions,
  RedisOptions,
  RedisEventKind,
  NormalisedRedisOptions,
} from './config.js';
export type {
  FrameResult,
  Detection,
  Track,
  StreamStats,
  PipelineStats,
  BreakerEvent,
  BreakerReason,
  BreakerState,
  BreakerStats,
  BatchingStats,
  InferenceHealth,
  LatencyHistogram,
  StreamState,
  StateChange,
  PushStats,
  PushedFrameError,
} from './types.js';
export { readModelInfo, COCO_CLASSES, type ModelInfo } from './models/model-info.js';
export {
  evaluateMot,
  evaluateHota,
  type MotMetrics,
  type HotaMetrics,
  type EvaluateMotOptions,
  type EvaluateHotaOptions,
} from './eval/mot-metrics.js';
export { parseMotFile, formatMotRows, type MotRow, type ParseMotOptions } from './eval/mot-format.js';
export {
  Tracker,
  normaliseStandaloneTracker,
  type StandaloneTrackerOptions,
  type TrackerType,
  type DetectionInput,
  type TrackEvent,
  type TrackEventKind,
} from './tracker.js';
export {
  Analytics,
  type AnalyticsOptions,
  type AnalyticsEvent,
  type AnalyticsFrameResult,
  type AnalyticsTrackInput,
  type LineFrameResult,
  type ZoneFrameResult,
} from './analytics.js';
export { normaliseAnalytics } from './config/analytics.js';
export {
  toWireResult,
  toWireDetection,
  toWireTrack,
  toWireTrackEvent,
  toWireError,
  toWireStateMessage,
  toWireErrorMessage,
  toWireTrackMessage,
  toWireMetricsMessage,
  streamPatchFromWire,
  configureFromWire,
  WIRE_CONFIG_ALIASES,
  WIRE_ENABLE_TRACKING,
  type WireStreamConfig,
  WIRE_VERSION,
  WireResultSchema,
  WireEventSchema,
  WireStateMessageSchema,
  WireErrorMessageSchema,
  WireTrackMessageSchema,
  WireMetricsMessageSchema,
  WireAnalyticsEventMessageSchema,
  WireAnalyticsCountsSchema,
  toWireAnalyticsEventMessage,
  toWireAnalyticsCounts,
  type WireAnalyticsEventMessage,
  type WireAnalyticsCounts,
  type WireResult,
  type WireDetection,
  type WireTrack,
  type WireTrackEvent,
  type WireBox,
  type WireError,
  type WireStateMessage,
  type WireErrorMessage,
  type WireTrackMessage,
  type WireMetricsMessage,
  type WireEvent,
  type WireMessage,
  WireDetectionResultMessageSchema,
  WireSessionErrorMessageSchema,
  WireSessionMessageSchema,
  WireSessionStatsSchema,
  toWireDetectionResult,
  toWireSessionError,
  type WireDetectionResultMessage,
  type WireSessionErrorMessage,
  type WireSessionMessage,
  type WireSessionStats,
  type WireSessionConfig,
} from './wire/index.js';
