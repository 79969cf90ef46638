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
  /** 0-based index of the frame among the stream's decoded frames (gaps = frames skipped by fpsLimit or drops). */
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
  detections: Detection[];
  tracks: Track[];
}

/** Stream lifecycle states. */
export type StreamState = 'connecting' | 'live' | 'ended' | 'failed' | 'stopped';

export interface StreamStats {
  id: string;
  /** URL with credentials removed. */
  url: string;
  state: StreamState;
  live: boolean;
  codec: string;
  width: number;
  height: number;
  nominalFps: number;
  packets: number;
  framesDecoded: number;
  framesCorrupt: number;
  framesSubmitted: number;
  framesDelivered: number;
  dropped: { busy: number; fpsLimit: number; inference: number; consumer: number };
  /** Decode → delivery latency of the newest delivered frame, ms (-1 before the first). */
  lastFrameAgeMs: number;
  /** Delivered frames per second since the previous stats() call (or since start). */
  fps: number;
  lastError?: string;
}

export interface PipelineStats {
  backend: string;
  batchSize: number;
  batches: number;
  images: number;
  failedBatches: number;
  meanBatchFill: number;
  meanInferMs: number;
  latency: { p50Ms: number; p99Ms: number; maxMs: number; samples: number };
  inFlight: number;
  /** Times the native result ring was full because JS did not drain it. */
  resultWaits: number;
  streams: StreamStats[];
}
