#pragma once
// The meters the hot path feeds: RateMeter (events per second, lock-free reads) and LatencyHistogram (fixed
// buckets a Prometheus exporter uses as they are). Used by the stream runner (input rate) and the pipeline's
// postprocess and stats registry (delivered rate, latencies); stats.h turns them into public stats.
#include <array>
#include <atomic>
#include <cstdint>

namespace camtrack {

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
// A plain value: whoever records into it guards it (the pipeline's StatsRegistry). Add() allocates nothing.
struct LatencyHistogram {
  static constexpr std::array<double, 11> kBoundsMs{5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
  std::array<uint64_t, kBoundsMs.size() + 1> counts{};
  double sum_ms = 0;
  uint64_t count = 0;
  void Add(double ms);
};

}  // namespace camtrack
