#include "core/ingest/reconnect.h"

#include <algorithm>
#include <cmath>

#include "core/common/clock.h"

namespace camtrack::ingest {

Backoff::Backoff(const ReconnectPolicy& policy, uint32_t seed) : policy_(policy), rng_(seed) {}

int64_t Backoff::DelayMs(int failures) {
  const ReconnectPolicy& rp = policy_;
  double delay = double(rp.initial_delay_ms) * std::pow(std::max(1.0, rp.multiplier), std::max(0, failures - 1));
  delay = std::min(delay, double(std::max(rp.initial_delay_ms, rp.max_delay_ms)));
  delay *= 1.0 - std::clamp(rp.jitter, 0.0, 1.0) * unit_(rng_);
  return int64_t(delay);
}

ReconnectPacer::ReconnectPacer(double rate_per_second, double burst)
    : rate_(rate_per_second), burst_(std::max(1.0, burst)), tokens_(std::max(1.0, burst)), refill_ns_(SteadyNowNs()) {}

int64_t ReconnectPacer::TryTake() {
  if (rate_ <= 0) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = SteadyNowNs();
  tokens_ = std::min(burst_, tokens_ + double(now - refill_ns_) / 1e9 * rate_);
  refill_ns_ = now;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return 0;
  }
  return std::max<int64_t>(1, int64_t(std::ceil((1.0 - tokens_) / rate_ * 1000.0)));
}

}  // namespace camtrack::ingest
