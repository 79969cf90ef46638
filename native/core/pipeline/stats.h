#pragma once
// Stats of the pipeline and its streams: the meters the hot path feeds (RateMeter, LatencyHistogram), the snapshots
// Pipeline::Stats() copies them into, and VisitStats(), the ONE place that gives each stat its public name. The
// binding builds the JS objects of stats() from it as they are (src/types.ts declares the same names and shapes;
// docs/ingest.md describes them). A new stat: a counter where it happens, a snapshot field, one VisitStats line, one
// field in src/types.ts, one row in docs/ingest.md.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/common/error.h"

namespace camtrack::pipeline {

// Events per second over the last second (frames decoded, results delivered). One writer thread calls Tick() and
// Restart(); any thread reads PerSecond() without a lock and without changing anything, so the rate is a property
// of what is counted, never of who reads it or how often. 100 ms bins in a ring of eleven (ten complete ones and the
// one being filled), each one atomic word (bin number << 24 | count): a reader never pairs a count with the wrong
// bin. The rate is that of the last ten
// complete bins (so it lags by up to 100 ms and drops to 0 about a second after the events stop). Until a second
// has passed since the first event after a Restart(), it is the rate so far, once that spans 250 ms (0 before).
// A read racing a Restart() may be off once (benign: stats, not control).
class RateMeter {
 public:
  // Writer: forget the events so far (a new connection); the next Tick() starts the count again.
  void Restart();
  // Writer: one event at `now_ns` (steady clock, non-decreasing).
  void Tick(int64_t now_ns);
  // Any thread: events per second in the window ending at the start of `now_ns`'s bin.
  double PerSecond(int64_t now_ns) const;

  static constexpr int kBins = 10;
  static constexpr int64_t kBinNs = 100'000'000, kMinSpanNs = 250'000'000;

 private:
  static constexpr int kCountBits = 24;
  static constexpr uint64_t kCountMask = (uint64_t(1) << kCountBits) - 1;
  std::array<std::atomic<uint64_t>, kBins + 1> bins_{};
  std::atomic<int64_t> first_ns_{0};  // first event since the last Restart(); 0: none
};

// Decode → result latency in fixed buckets that a Prometheus exporter uses as they are: counts[i] is the number of
// observations <= kBoundsMs[i] (cumulative, `le`), the last entry the number of all of them (`+Inf`, == count).
// A plain value: whoever records into it guards it (Pipeline: stats_mu_). Add() allocates nothing.
struct LatencyHistogram {
  static constexpr std::array<double, 11> kBoundsMs{5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
  std::array<uint64_t, kBoundsMs.size() + 1> counts{};
  double sum_ms = 0;
  uint64_t count = 0;
  void Add(double ms);
};

struct StreamStatsSnapshot {
  std::string id, url, state, codec, last_error, last_error_reason;
  std::string decoder = "cpu";  // "cpu" | "nvdec": the decoder of the current (or last) connection
  ErrorCode last_error_code = ErrorCode::kInternal;  // meaningful when last_error is not empty
  bool live = false;
  int32_t width = 0, height = 0;  // of the newest decoded frame (follows resolution changes)
  double nominal_fps = 0;
  // Summed over all connections of the stream.
  uint64_t packets = 0, decoded = 0, corrupt = 0, submitted = 0, delivered = 0;
  uint64_t dropped_busy = 0, dropped_fps_limit = 0, dropped_inference = 0;
  uint64_t dropped_decoder_pool = 0;  // live NVDEC only: frames its surface pool dropped before delivery
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
};

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
  int in_flight = 0;
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
  v("state", s.state);
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
    d("decoderPool", s.dropped_decoder_pool);
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
  v("inFlight", s.in_flight);
  v("resultWaits", s.result_waits);
  v.List("streams", s.streams);
}

}  // namespace camtrack::pipeline
