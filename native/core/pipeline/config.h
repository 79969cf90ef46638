#pragma once
// The configuration of a pipeline and of its streams. Values come complete from the binding (defaults and ranges:
// src/config/schema.ts, the one place they are written); members are zero-initialised only so that nothing is left
// indeterminate. Native tests and the driver build them explicitly.
#include "core/infer/breaker.h"
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/decode/video_source.h"
#include "core/ingest/av_frame_source.h"
#include "core/ingest/push_frame_source.h"
#include "core/ingest/reconnect.h"
#include "core/pipeline/live_config.h"
#include "core/pipeline/post_track_stage.h"
#include "core/postprocess/output_parser.h"
#include "core/preprocess/letterbox.h"
#include "core/track/factory.h"

namespace camtrack::pipeline {

using ingest::DecodeMode;
using ingest::ReconnectPolicy;

struct ModelConfig {
  preprocess::ModelInputSpec input;  // size, channel order, scaling, letterbox alignment, pad
  postprocess::ParserConfig parser;  // layout, thresholds, NMS
  int batch_size = 1;                // images per batch (the model's fixed batch, or maxBatchSize when dynamic)
  bool fixed_batch = true;           // true: every batch is exactly batch_size (unused images padded)
  size_t output_elems_per_image = 0;
};

struct BatchingConfig {
  int max_wait_ms = 0;      // a partly filled batch is sent after this long
  // batching.targetLatencyMs, 0 = none: the adaptive batch controller for dynamic-batch models, and the starvation
  // bound of normal-priority streams (batch/batcher.h, batch/batch_controller.h).
  double target_latency_ms = 0;
  int result_capacity = 0;  // frames the result ring holds before postprocess waits for JS
  // The backend's circuit breaker (infer/breaker.h; inference.breaker): all rules 0 = it never opens.
  infer::BreakerConfig breaker;
  // inference.breaker.fallback 'cpu': while the breaker refuses a frame (open, or half-open past the probe), the frame
  // takes a batch image of the fallback workers (Pipeline::AddWorker with batch::Pool::kFallback) instead of being
  // dropped. false ('none'): it is dropped, cause breaker.
  bool breaker_fallback = false;
};

// Pipeline-wide ingest settings.
struct IngestConfig {
  // Reconnect pacer (ingest::ReconnectPacer): at most this many reconnect attempts per second over all streams,
  // bursts of up to reconnect_burst. 0 = unpaced.
  double reconnect_rate_per_second = 0;
  double reconnect_burst = 0;
  // CUDA device (runtime ordinal) of every stream's NVDEC decoder and letterbox kernel (PipelineConfig.gpu.device).
  int decode_device = 0;
};

struct StreamConfig {
  std::string id;  // user's id (for messages only; the pipeline addresses streams by handle)
  // Where frames come from: the input `source.url` (AvFrameSource), or, when `push` is set (input 'push'), frames
  // pushed through Pipeline::PushFrame() (PushFrameSource; source.url then only names the stream in messages, and
  // source.live picks the queue policy: kFile = lossless, kAuto/kLive = live; push->live is set from it).
  decode::SourceOptions source;
  std::optional<ingest::PushOptions> push;
  // The initial value of what can change while the stream runs (fps limit, tracker, detection options;
  // live_config.h); Pipeline::ConfigureStream replaces it.
  LiveConfig live_config;
  ReconnectPolicy reconnect;        // live streams only
  // Decoder (ingest/av_frame_source.h): kAuto = NVDEC when it can take the stream, else CPU with one 'warning' event
  // (reason "nvdec"); kCpu = libavcodec; kGpu = NVDEC or the stream fails (reason "nvdec", not retried).
  DecodeMode decode = DecodeMode::kAuto;
  // priority 'high': its frames take batch positions ahead of normal streams' (Batcher::Acquire).
  bool high_priority = false;
  // Seam a (ingest::RunnerConfig::infer_frame): null = every frame is inferred. No public option sets it yet;
  // native tests and the sanitizer driver do.
  std::function<bool(int64_t frame_index)> infer_frame;
  // Seam d: this stream's analytics after the tracker, in order (post_track_stage.h). One instance per stream.
  std::vector<std::shared_ptr<PostTrackStage>> post_track_stages;
};

}  // namespace camtrack::pipeline
