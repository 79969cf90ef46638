#pragma once
// StatsRegistry: the pipeline-wide counters that are not a single stage's own — batches, images, failed batches,
// inference time, and the decode → result latencies (fine log-spaced buckets for p50/p99, the fixed buckets of
// LatencyHistogram, and each stream's own histogram) — under one short lock the postprocess thread takes once per
// batch and once per delivered frame. Per-stream counters live with the stage that counts them (the stream runner,
// the postprocess state); Pipeline::Stats() gathers everything into the snapshots of stats.h, which names it.
// Thread-safe.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/common/meters.h"
#include "core/pipeline/stats.h"

namespace camtrack::pipeline {

class StatsRegistry {
 public:
  StatsRegistry();
  // Postprocess thread: one batch of `images` images was processed (`ok`: inferred; else `error` says why).
  void RecordBatch(int images, bool ok, const std::string& error, double infer_ms);
  // Postprocess thread: one result was delivered `latency_ms` after its frame entered the pipeline; it also goes into
  // `stream_latency` (that stream's histogram, guarded here too).
  void RecordLatency(double latency_ms, LatencyHistogram& stream_latency);
  // A copy of a stream's histogram (see RecordLatency).
  LatencyHistogram StreamLatency(const LatencyHistogram& stream_latency) const;
  // A breaker transition (any thread; rare).
  void RecordBreakerTransition(const char* reason);
  // Source thread: a frame was dropped because the breaker is open (no fallback, or none left); postprocess thread: a
  // frame of a failed fallback batch.
  void RecordBreakerDrop() { breaker_dropped_.fetch_add(1, std::memory_order_relaxed); }
  // Postprocess thread: a batch of the breaker's fallback backend was processed (`ok`: inferred), `delivered` of its
  // frames delivered. Fallback batches are not in batches/images/failedBatches (those are the primary backend's).
  void RecordFallbackBatch(bool ok, int delivered) {
    fallback_batches_.fetch_add(1, std::memory_order_relaxed);
    if (!ok) fallback_failed_batches_.fetch_add(1, std::memory_order_relaxed);
    fallback_frames_.fetch_add(uint64_t(delivered), std::memory_order_relaxed);
  }
  // Fills the pipeline-wide fields of `out` that are kept here.
  void Fill(PipelineStatsSnapshot& out) const;

 private:
  mutable std::mutex mu_;
  uint64_t batches_ = 0, images_ = 0, failed_batches_ = 0, consecutive_failed_ = 0;
  std::string inference_error_;
  double infer_ms_sum_ = 0;
  std::vector<uint64_t> latency_fine_;  // log-spaced buckets for p50/p99, see LatencyBucket()
  uint64_t latency_samples_ = 0;
  double latency_max_ms_ = 0;
  LatencyHistogram latency_;  // the same latencies in fixed buckets
  uint64_t breaker_transitions_[5] = {0, 0, 0, 0, 0};
  std::atomic<uint64_t> breaker_dropped_{0};
  std::atomic<uint64_t> fallback_batches_{0}, fallback_failed_batches_{0}, fallback_frames_{0};
};

}  // namespace camtrack::pipeline
