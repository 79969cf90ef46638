#include "core/common/meters.h"

#include <algorithm>

namespace camtrack {

void RateMeter::Restart() {
  first_ns_.store(0, std::memory_order_relaxed);
  for (auto& b : bins_) b.store(0, std::memory_order_relaxed);
}

void RateMeter::Tick(int64_t now_ns) {
  const uint64_t bin = uint64_t(now_ns / kBinNs);
  std::atomic<uint64_t>& slot = bins_[bin % bins_.size()];
  const uint64_t word = slot.load(std::memory_order_relaxed);
  const uint64_t count = (word >> kCountBits) == bin ? (word & kCountMask) : 0;
  slot.store(bin << kCountBits | std::min(count + 1, kCountMask), std::memory_order_relaxed);
  if (first_ns_.load(std::memory_order_relaxed) == 0) first_ns_.store(now_ns, std::memory_order_relaxed);
}

double RateMeter::PerSecond(int64_t now_ns) const {
  const int64_t first = first_ns_.load(std::memory_order_relaxed);
  if (first == 0) return 0;
  const uint64_t current = uint64_t(now_ns / kBinNs);  // incomplete: not counted
  const int64_t end_ns = int64_t(current) * kBinNs;
  const int64_t span_ns = end_ns - std::max(end_ns - kBins * kBinNs, first);
  if (span_ns < kMinSpanNs) return 0;
  uint64_t events = 0;
  for (const auto& b : bins_) {
    const uint64_t word = b.load(std::memory_order_relaxed);
    const uint64_t bin = word >> kCountBits;
    if (bin < current && bin + kBins >= current) events += word & kCountMask;
  }
  return double(events) * 1e9 / double(span_ns);
}

void LatencyHistogram::Add(double ms) {
  for (size_t i = 0; i < kBoundsMs.size(); ++i)
    if (ms <= kBoundsMs[i]) ++counts[i];
  ++counts.back();
  sum_ms += ms;
  ++count;
}

}  // namespace camtrack
