#include "core/pipeline/stats_registry.h"

#include <algorithm>
#include <cmath>

namespace camtrack::pipeline {
namespace {

// Latency histogram: log-spaced buckets, 5 % wide, from 10 µs. Bucket k covers [0.01·1.05^k, 0.01·1.05^(k+1)) ms.
constexpr int kLatencyBuckets = 400;
constexpr double kLatencyBase = 0.01, kLatencyStep = 1.05;
int LatencyBucket(double ms) {
  if (ms <= kLatencyBase) return 0;
  const int b = int(std::log(ms / kLatencyBase) / std::log(kLatencyStep));
  return std::min(b, kLatencyBuckets - 1);
}
double BucketUpperMs(int b) { return kLatencyBase * std::pow(kLatencyStep, b + 1); }

}  // namespace

StatsRegistry::StatsRegistry() : latency_fine_(kLatencyBuckets, 0) {}

void StatsRegistry::RecordBatch(int images, bool ok, const std::string& error, double infer_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  ++batches_;
  images_ += images;
  if (ok) {
    consecutive_failed_ = 0;
  } else {
    ++failed_batches_;
    if (++consecutive_failed_ == 1) inference_error_ = error;  // the first error of the outage
  }
  infer_ms_sum_ += infer_ms;
}

void StatsRegistry::RecordLatency(double latency_ms, LatencyHistogram& stream_latency) {
  std::lock_guard<std::mutex> lock(mu_);
  ++latency_fine_[LatencyBucket(latency_ms)];
  ++latency_samples_;
  latency_max_ms_ = std::max(latency_max_ms_, latency_ms);
  latency_.Add(latency_ms);
  stream_latency.Add(latency_ms);
}

LatencyHistogram StatsRegistry::StreamLatency(const LatencyHistogram& stream_latency) const {
  std::lock_guard<std::mutex> lock(mu_);
  return stream_latency;
}

void StatsRegistry::RecordBreakerTransition(const char* reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++breaker_transitions_[BreakerReasonIndex(reason)];
}

void StatsRegistry::Fill(PipelineStatsSnapshot& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < 5; ++i) out.breaker_transitions[i] = breaker_transitions_[i];
  out.breaker_dropped = breaker_dropped_.load(std::memory_order_relaxed);
  out.fallback_frames = fallback_frames_.load(std::memory_order_relaxed);
  out.fallback_batches = fallback_batches_.load(std::memory_order_relaxed);
  out.fallback_failed_batches = fallback_failed_batches_.load(std::memory_order_relaxed);
  out.batches = batches_;
  out.images = images_;
  out.failed_batches = failed_batches_;
  out.consecutive_failed_batches = consecutive_failed_;
  out.inference_error = inference_error_;
  out.mean_batch_fill = batches_ ? double(images_) / double(batches_) : 0;
  out.mean_infer_ms = batches_ ? infer_ms_sum_ / double(batches_) : 0;
  out.latency_samples = latency_samples_;
  out.latency_max_ms = latency_max_ms_;
  out.latency = latency_;
  if (latency_samples_) {
    const uint64_t p50 = (latency_samples_ + 1) / 2, p99 = uint64_t(std::ceil(0.99 * double(latency_samples_)));
    uint64_t acc = 0;
    bool got50 = false;
    for (int b = 0; b < kLatencyBuckets; ++b) {
      acc += latency_fine_[b];
      if (!got50 && acc >= p50) {
        out.latency_p50_ms = std::min(BucketUpperMs(b), latency_max_ms_);
        got50 = true;
      }
      if (acc >= p99) {
        out.latency_p99_ms = std::min(BucketUpperMs(b), latency_max_ms_);
        break;
      }
    }
  }
}

}  // namespace camtrack::pipeline
