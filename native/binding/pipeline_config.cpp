#include "binding/pipeline_config.h"

#include <string>

#include "binding/configure.h"
#include "binding/convert.h"
#include "binding/track_convert.h"
#include "core/common/error.h"

namespace camtrack::binding {
namespace {

preprocess::ModelInputSpec ReadInputSpec(const Napi::Object& m) {
  preprocess::ModelInputSpec s;
  s.width = RequireInt(m, "inputWidth");
  s.height = RequireInt(m, "inputHeight");
  s.channel_order = RequireOneOf(m, "channelOrder", {"rgb", "bgr"}) == 1 ? preprocess::ChannelOrder::kBGR
                                                                          : preprocess::ChannelOrder::kRGB;
  s.align = RequireOneOf(m, "letterbox", {"center", "top-left"}) == 1 ? preprocess::LetterboxAlign::kTopLeft
                                                                      : preprocess::LetterboxAlign::kCenter;
  s.pad_value = float(RequireNumber(m, "padValue"));
  s.scale = float(RequireNumber(m, "scale"));
  const auto mean = RequireNumbers(m, "mean"), stdv = RequireNumbers(m, "std");
  if (mean.size() != 3 || stdv.size() != 3)
    throw Error(ErrorCode::kInvalidArgument, "binding", "Expected 3 values for mean and std in the native config");
  for (int c = 0; c < 3; ++c) {
    s.mean[c] = float(mean[c]);
    s.std[c] = float(stdv[c]);
  }
  return s;
}

postprocess::ParserConfig ReadParser(const Napi::Object& m) {
  postprocess::ParserConfig p;
  const std::string layout = RequireString(m, "layout");
  if (!postprocess::ParseLayoutName(layout, &p.layout))
    throw Error(ErrorCode::kInvalidArgument, "binding", "unknown output layout '" + layout + "'",
                "use 'ultralytics', 'yolox' or 'e2e'");
  p.input_width = RequireInt(m, "inputWidth");
  p.input_height = RequireInt(m, "inputHeight");
  p.num_classes = RequireInt(m, "numClasses");
  p.num_anchors = RequireInt(m, "numAnchors");
  p.score_threshold = float(RequireNumber(m, "scoreThreshold"));
  p.nms_iou = float(RequireNumber(m, "nmsIou"));
  p.class_agnostic_nms = RequireBool(m, "classAgnosticNms");
  p.nms_for_end_to_end = RequireBool(m, "nmsForEndToEnd");
  p.max_detections = RequireInt(m, "maxDetections");
  // The YOLOX grid's strides, where the model says (absent: ParserConfig's {8, 16, 32}).
  const auto strides = OptionalNumbers(m, "strides");
  if (!strides.empty()) {
    p.strides.clear();
    for (double s : strides) p.strides.push_back(int(s));
  }
  return p;
}

}  // namespace

NativePipelineConfig ReadPipelineConfig(const Napi::Object& cfg) {
  NativePipelineConfig c;
  Napi::Object m = RequireObject(cfg, "model");
  c.model.input = ReadInputSpec(m);
  c.model.parser = ReadParser(m);
  c.model.batch_size = RequireInt(m, "batchSize");
  c.model.fixed_batch = RequireBool(m, "fixedBatch");
  c.model.output_elems_per_image = size_t(RequireNumber(m, "outputElemsPerImage"));
  Napi::Object b = RequireObject(cfg, "batching");
  c.batching.max_wait_ms = RequireInt(b, "maxWaitMs");
  c.batching.result_capacity = RequireInt(b, "resultCapacity");
  // batching.targetLatencyMs (src/config/schema.ts); absent: no target (static batching, default starvation bound)
  if (b.Has("targetLatencyMs")) c.batching.target_latency_ms = RequireNumber(b, "targetLatencyMs");
  if (b.Has("breaker")) {  // inference.breaker (src/config/schema.ts); absent: the breaker never opens
    Napi::Object br = RequireObject(b, "breaker");
    c.batching.breaker.consecutive_failures = RequireInt(br, "consecutiveFailures");
    c.batching.breaker.window_batches = RequireInt(br, "windowBatches");
    c.batching.breaker.window_failure_ratio = RequireNumber(br, "windowFailureRatio");
    c.batching.breaker.cooldown_ms = RequireInt(br, "cooldownMs");
    c.batching.breaker.probe_frames = RequireInt(br, "probeFrames");
    const std::string fallback = RequireString(br, "fallback");  // 'none' | 'cpu' (validated by the schema)
    if (fallback != "none" && fallback != "cpu")
      throw Error(ErrorCode::kInvalidArgument, "binding",
                  "config.batching.breaker.fallback must be 'none' or 'cpu', got '" + fallback + "'");
    c.batching.breaker_fallback = fallback == "cpu";
  }
  Napi::Object ig = RequireObject(cfg, "ingest");
  c.ingest.reconnect_rate_per_second = RequireNumber(ig, "reconnectRatePerSecond");
  c.ingest.reconnect_burst = RequireNumber(ig, "reconnectBurst");
  c.ingest.decode_device = RequireInt(RequireObject(cfg, "gpu"), "device");
  return c;
}

pipeline::StreamConfig ReadStream(const Napi::Object& o) {
  pipeline::StreamConfig c;
  c.id = RequireString(o, "id");
  c.source.url = RequireString(o, "url");
  c.source.rtsp_transport = RequireString(o, "rtspTransport");
  c.source.open_timeout_ms = RequireInt(o, "openTimeoutMs");
  c.source.read_timeout_ms = RequireInt(o, "readTimeoutMs");
  c.source.loop = RequireBool(o, "loop");
  c.source.decoder_threads = RequireInt(o, "decoderThreads");
  c.source.input_formats = RequireString(o, "inputFormats");
  const int live = RequireInt(o, "live");
  if (live < int(decode::LiveMode::kAuto) || live > int(decode::LiveMode::kLive))
    throw Error(ErrorCode::kInvalidArgument, "binding",
                "Expected -1 (auto), 0 (file) or 1 (live) for live in the native config but received " +
                    std::to_string(live));
  c.source.live = decode::LiveMode(live);
  static constexpr pipeline::DecodeMode kDecodeModes[] = {pipeline::DecodeMode::kAuto, pipeline::DecodeMode::kCpu,
                                                          pipeline::DecodeMode::kGpu};
  c.decode = kDecodeModes[RequireOneOf(o, "decode", {"auto", "cpu", "gpu"})];
  c.live_config = ReadLiveConfig(o);
  c.high_priority = RequireOneOf(o, "priority", {"normal", "high"}) == 1;  // stream option priority  // fpsLimit, tracker, detection, inference, motion (configure.cpp)
  Napi::Object rc = RequireObject(o, "reconnect");
  c.reconnect.stall_timeout_ms = RequireInt(rc, "stallTimeoutMs");
  c.reconnect.initial_delay_ms = RequireInt(rc, "initialDelayMs");
  c.reconnect.max_delay_ms = RequireInt(rc, "maxDelayMs");
  c.reconnect.multiplier = RequireNumber(rc, "multiplier");
  c.reconnect.jitter = RequireNumber(rc, "jitter");
  c.reconnect.max_attempts = RequireInt(rc, "maxAttempts");
  c.reconnect.max_lag_ms = RequireInt(rc, "maxLagMs");
  // input 'push': frames come from pushFrame() (core/ingest/push_frame_source.h); `codec` is there only then. The
  // queue policy follows `live` (Pipeline::AddStream). The push fields are read for every stream (they have schema
  // defaults, so a complete config always has them), used only by a pushed one.
  const bool push = RequireOneOf(o, "input", {"url", "push"}) == 1;
  ingest::PushOptions p;
  p.queue_size = RequireInt(o, "pushQueueSize");
  p.max_pixels = int64_t(RequireNumber(o, "maxPixels"));
  p.decoder_threads = c.source.decoder_threads;
  if (push) {
    static constexpr ingest::PushCodec kCodecs[] = {ingest::PushCodec::kJpeg, ingest::PushCodec::kPng,
                                                    ingest::PushCodec::kH264, ingest::PushCodec::kHevc};
    p.codec = kCodecs[RequireOneOf(o, "codec", {"jpeg", "png", "h264", "hevc"})];
    c.push = p;
  }
  return c;
}

}  // namespace camtrack::binding
