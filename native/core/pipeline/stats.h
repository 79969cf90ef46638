#pragma once
// Stats of the pipeline and its streams: the snapshots Pipeline::Stats() copies the counters and meters
// (core/common/meters.h) into, and VisitStats(), the ONE place that gives each stat its public name. The
// binding builds the JS objects of stats() from it as they are (src/types.ts declares the same names and shapes;
// docs/ingest.md describes them). A new stat: a counter where it happens (the stage that owns it: the stream runner,
// the postprocess thread's per-stream state, the StatsRegistry), a snapshot field filled by Pipeline::Stats() /
// Stream::Snapshot(), one VisitStats line, one field in src/types.ts, one row in docs/ingest.md.
#include <cstdint>
#include <string>
#include <vector>

#include "core/batch/batcher.h"
#include "core/common/error.h"
#include "core/common/meters.h"
#include "core/ingest/push_frame_source.h"
#include "core/ingest/stream_event.h"

namespace camtrack::pipeline {

using camtrack::LatencyHistogram;
using camtrack::RateMeter;

struct StreamStatsSnapshot {
  std::string id, url, codec, last_error, last_error_reason;
  ingest::StreamState state = ingest::StreamState::kConnecting;
  std::string decoder = "cpu";  // "cpu" | "nvdec": the decoder of the current (or last) connection
  ErrorCode last_error_code = ErrorCode::kInternal;  // meaningful when last_error is not empty
  bool live = false;
  int32_t width = 0, height = 0;  // of the newest decoded frame (follows resolution changes)
  double nominal_fps = 0;
  // Summed over all connections of the stream.
  uint64_t packets = 0, decoded = 0, corrupt = 0, submitted = 0, delivered = 0;
  uint64_t dropped_busy = 0, dropped_fps_limit = 0, dropped_inference = 0;
  uint64_t dropped_breaker = 0;  // frames that wanted inference while the backend's breaker was open (no fallback,
                                 // or the fallback failed them: fallback_failed is part of it)
  // The breaker's fallback backend: delivered frames it inferred; submitted frames lost with its failed batches.
  uint64_t fallback_frames = 0, fallback_failed = 0;
  uint64_t dropped_decoder_pool = 0;  // live NVDEC only: frames its surface pool dropped before delivery
  // Submitted without inference (result with inferred = false, tracks predicted; batch/schedule.h), by cause.
  uint64_t skipped_interval = 0, skipped_motion = 0;
  uint64_t reconnect_attempts = 0;  // connection attempts after a loss
  uint64_t reconnects = 0;          // of those, the ones that brought the stream back to live
  double input_fps = 0;             // decoded frames per second (RateMeter), 0 when not live
  double fps = 0;                   // delivered frames per second (RateMeter)
  int64_t frame_age_ms = -1;        // while live: ms since the newest frame was decoded; else -1
  int64_t last_frame_age_ms = -1;   // age of the newest delivered frame when it was delivered
  LatencyHistogram latency;         // of this stream's delivered frames
  // Inference health: failing from a failed batch with this stream's frames until one of its frames is delivered.
  bool inference_failing = false;
  uint64_t inference_failed_batches = 0;        // batches with frames of this stream that failed, all time
  uint64_t inference_consecutive_failures = 0;  // of those, the ones since the last delivered frame
  std::string inference_error;                  // the error that started the current (or last) outage (redacted)
  // Pushed streams (input 'push') only: the push queue's and the pushed frames' counters.
  bool push = false;
  ingest::PushStats push_stats;
};

// Reasons of breaker transitions (infer/breaker.h), the index of PipelineStatsSnapshot::breaker_transitions.
inline constexpr const char* kBreakerReasons[5] = {"consecutive", "window", "cooldown", "probe-ok", "probe-failed"};
inline size_t BreakerReasonIndex(const char* reason) {
  for (size_t i = 0; i < 5; ++i)
    if (std::string(kBreakerReasons[i]) == reason) return i;
  return 0;
}

struct PipelineStatsSnapshot {
  int batch_size = 0;
  uint64_t batches = 0, images = 0, failed_batches = 0, result_waits = 0;
  uint64_t consecutive_failed_batches = 0;  // failed batches since the last one that succeeded (>0: failing)
  std::string inference_error;              // the first error of the current (or last) run of failed batches
  double mean_batch_fill = 0;     // images per batch
  double mean_infer_ms = 0;       // submit → complete
  double latency_p50_ms = 0, latency_p99_ms = 0, latency_max_ms = 0;  // decode → result ready (fine buckets)
  uint64_t latency_samples = 0;
  LatencyHistogram latency;  // the same latencies in the fixed buckets
  // The backend's circuit breaker (infer/breaker.h): its state, times it opened, frames it dropped (all streams),
  // and its transitions by reason (kBreakerReasons order).
  const char* breaker_state = "closed";
  uint64_t breaker_opens = 0, breaker_dropped = 0;
  // Its fallback backend (inference.breaker.fallback): whether there is one, frames it inferred and delivered, its
  // batches and its failed batches.
  bool breaker_fallback = false;
  uint64_t fallback_frames = 0, fallback_batches = 0, fallback_failed_batches = 0;
  uint64_t breaker_transitions[5] = {0, 0, 0, 0, 0};
  int in_flight = 0;
  batch::BatchingState batching;  // how batches are sized now (batch/batcher.h)
  std::vector<StreamStatsSnapshot> streams;
};

// The public names. `v` is called as v(name, value) for a value (a number, bool, string, ErrorCode or an array of
// numbers), v.Object(name, fill) for a nested object (fill(w) writes its fields with a visitor w of the same kind) and
// v.List(name, snapshots) for an array of objects (each visited with VisitStats).
template <class V>
void VisitInferenceHealth(V& v, bool failing, uint64_t failed_batches, uint64_t consecutive, const std::string& error) {
  v("state", failing ? "failing" : "ok");
  v("failedBatches", failed_batches);
  v("consecutiveFailures", consecutive);
  if (!error.empty()) v("lastError", error);
}

template <class V>
void VisitLatencyHistogram(V& v, const LatencyHistogram& h) {
  v("boundsMs", LatencyHistogram::kBoundsMs);
  v("counts", h.counts);
  v("sumMs", h.sum_ms);
  v("count", h.count);
}

template <class V>
void VisitStats(const StreamStatsSnapshot& s, V& v) {
  v("id", s.id);
  v("url", s.url);
  v("state", ingest::StreamStateName(s.state));
  v("live", s.live);
  v("codec", s.codec);
  v("decoder", s.decoder);
  v("width", s.width);
  v("height", s.height);
  v("nominalFps", s.nominal_fps);
  v("packets", s.packets);
  v("framesDecoded", s.decoded);
  v("framesCorrupt", s.corrupt);
  v("framesSubmitted", s.submitted);
  v("framesDelivered", s.delivered);
  v.Object("dropped", [&](auto& d) {
    d("busy", s.dropped_busy);
    d("fpsLimit", s.dropped_fps_limit);
    d("inference", s.dropped_inference);
    d("breaker", s.dropped_breaker);
    d("decoderPool", s.dropped_decoder_pool);
  });
  v.Object("skipped", [&](auto& k) {
    k("interval", s.skipped_interval);
    k("motion", s.skipped_motion);
  });
  v.Object("fallback", [&](auto& f) {
    f("frames", s.fallback_frames);
    f("failed", s.fallback_failed);
  });
  v("lastFrameAgeMs", s.last_frame_age_ms);
  v("frameAgeMs", s.frame_age_ms);
  v("inputFps", s.input_fps);
  v("fps", s.fps);
  v.Object("latencyHistogram", [&](auto& h) { VisitLatencyHistogram(h, s.latency); });
  v("reconnectAttempts", s.reconnect_attempts);
  v("reconnects", s.reconnects);
  v.Object("inference", [&](auto& i) {
    VisitInferenceHealth(i, s.inference_failing, s.inference_failed_batches, s.inference_consecutive_failures,
                         s.inference_error);
  });
  if (s.push) {
    const ingest::PushStats& p = s.push_stats;
    v.Object("push", [&](auto& w) {
      w("codec", ingest::PushCodecName(p.codec));
      w("policy", p.live ? "live" : "lossless");
      w("queueSize", p.queue_size);
      w("queued", p.queued);
      w("pushed", p.pushed);
      w("refused", p.refused);
      w.Object("dropped", [&](auto& d) {
        d("queue", p.dropped_queue);
        d("untilKeyframe", p.dropped_until_keyframe);
      });
      // By decode::FrameFault (frame_error.h), in its order; until_keyframe is a drop, above.
      using F = decode::FrameFault;
      const auto n = [&](F f) { return p.rejected[size_t(f)]; };
      w.Object("rejected", [&](auto& r) {
        r("empty", n(F::kEmpty));
        r("wrongCodec", n(F::kWrongCodec));
        r("truncated", n(F::kTruncated));
        r("corrupt", n(F::kCorrupt));
        r("tooLarge", n(F::kTooLarge));
        r("unsupported", n(F::kUnsupported));
        r("noKeyframe", n(F::kNoKeyframe));
      });
      w("warningsSuppressed", p.warnings_suppressed);
    });
  }
  if (!s.last_error.empty()) {
    v("lastError", s.last_error);
    v("lastErrorCode", s.last_error_code);
    v("lastErrorReason", s.last_error_reason);
  }
}

template <class V>
void VisitStats(const PipelineStatsSnapshot& s, V& v) {
  v("batchSize", s.batch_size);
  v("batches", s.batches);
  v("images", s.images);
  v("failedBatches", s.failed_batches);
  v.Object("inference", [&](auto& i) {
    VisitInferenceHealth(i, s.consecutive_failed_batches > 0, s.failed_batches, s.consecutive_failed_batches,
                         s.inference_error);
  });
  v("meanBatchFill", s.mean_batch_fill);
  v("meanInferMs", s.mean_infer_ms);
  v.Object("latency", [&](auto& l) {
    l("p50Ms", s.latency_p50_ms);
    l("p99Ms", s.latency_p99_ms);
    l("maxMs", s.latency_max_ms);
    l("samples", s.latency_samples);
  });
  v.Object("latencyHistogram", [&](auto& h) { VisitLatencyHistogram(h, s.latency); });
  v.Object("breaker", [&](auto& b) {
    b("state", s.breaker_state);
    b("opens", s.breaker_opens);
    b("droppedFrames", s.breaker_dropped);
    b("fallback", s.breaker_fallback ? "cpu" : "none");
    b("fallbackFrames", s.fallback_frames);
    b("fallbackBatches", s.fallback_batches);
    b("fallbackFailedBatches", s.fallback_failed_batches);
    b.Object("transitions", [&](auto& t) {
      for (size_t i = 0; i < 5; ++i) t(kBreakerReasons[i], s.breaker_transitions[i]);
    });
  });
  v("inFlight", s.in_flight);
  v.Object("batching", [&](auto& b) {
    b("mode", s.batching.mode);
    b("batchCap", s.batching.cap);
    b("waitMs", s.batching.wait_ms);
    b("targetLatencyMs", s.batching.target_ms);
    b("windowP99Ms", s.batching.window_p99_ms);
    b("inferEstimateMs", s.batching.infer_ms);
    b("increases", s.batching.increases);
    b("decreases", s.batching.decreases);
    b("starvationPromotions", s.batching.starvation_promotions);
  });
  v("resultWaits", s.result_waits);
  v.List("streams", s.streams);
}

}  // namespace camtrack::pipeline
