#include "core/infer/breaker.h"

#include <cmath>
#include <utility>

#include "core/common/error.h"

namespace camtrack::infer {

const char* BreakerStateName(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed: return "closed";
    case BreakerState::kOpen: return "open";
    case BreakerState::kHalfOpen: return "half-open";
  }
  return "closed";
}

CircuitBreaker::CircuitBreaker(BreakerConfig config) : config_(config) {
  const bool ratio_ok = config.window_batches == 0 ||
                        (config.window_failure_ratio > 0 && config.window_failure_ratio <= 1 &&
                         std::isfinite(config.window_failure_ratio));
  if (config.consecutive_failures < 0 || config.window_batches < 0 || !ratio_ok || config.cooldown_ms < 0 ||
      config.probe_frames < 1)
    throw Error(ErrorCode::kInvalidArgument, "config",
                "Expected consecutiveFailures >= 0, windowBatches >= 0 with a failure ratio in (0, 1], cooldownMs >= 0 "
                "and probeFrames >= 1 for the circuit breaker",
                "the breaker's options are validated by src/config; this is a bug in the caller");
  window_.assign(size_t(config.window_batches), 0);
}

BreakerState CircuitBreaker::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

uint64_t CircuitBreaker::opens() const {
  std::lock_guard<std::mutex> lock(mu_);
  return opens_;
}

bool CircuitBreaker::AllowFrame(int64_t now_ms, BreakerTransition* t, bool* changed) {
  *changed = false;
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == BreakerState::kClosed) return true;
  if (state_ == BreakerState::kOpen) {
    if (now_ms - opened_ms_ < config_.cooldown_ms) return false;
    *t = BreakerTransition{BreakerState::kOpen, BreakerState::kHalfOpen, "cooldown",
                           "cooldown of " + std::to_string(config_.cooldown_ms) + " ms over: probing the backend"};
    *changed = true;
    state_ = BreakerState::kHalfOpen;
    probe_admitted_ = 0;
  }
  if (probe_admitted_ >= config_.probe_frames) return false;
  ++probe_admitted_;
  return true;
}

void CircuitBreaker::Open(const char* reason, std::string message, int64_t now_ms, BreakerTransition* t) {
  *t = BreakerTransition{state_, BreakerState::kOpen, reason, std::move(message)};
  state_ = BreakerState::kOpen;
  opened_ms_ = now_ms;
  ++opens_;
}

void CircuitBreaker::OnBatch(bool ok, int64_t now_ms, const std::string& error, BreakerTransition* t,
                             bool* changed) {
  *changed = false;
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == BreakerState::kOpen) return;  // batches in flight when it opened
  if (state_ == BreakerState::kHalfOpen) {
    *changed = true;
    if (ok) {
      *t = BreakerTransition{BreakerState::kHalfOpen, BreakerState::kClosed, "probe-ok", "the probe batch succeeded"};
      state_ = BreakerState::kClosed;
      consecutive_ = 0;
      window_pos_ = window_count_ = window_failed_ = 0;
    } else {
      Open("probe-failed", "the probe batch failed: " + error, now_ms, t);
    }
    return;
  }
  consecutive_ = ok ? 0 : consecutive_ + 1;
  if (!window_.empty()) {
    if (window_count_ == window_.size()) window_failed_ -= window_[window_pos_];
    else ++window_count_;
    window_[window_pos_] = ok ? 0 : 1;
    window_failed_ += window_[window_pos_];
    window_pos_ = (window_pos_ + 1) % window_.size();
  }
  if (config_.consecutive_failures > 0 && consecutive_ >= config_.consecutive_failures) {
    *changed = true;
    Open("consecutive", std::to_string(consecutive_) + " inference batches failed in a row: " + error, now_ms, t);
  } else if (!window_.empty() && window_count_ == window_.size() &&
             double(window_failed_) >= config_.window_failure_ratio * double(window_.size())) {
    *changed = true;
    Open("window",
         std::to_string(window_failed_) + " of the last " + std::to_string(window_.size()) +
             " inference batches failed: " + error,
         now_ms, t);
  }
}

}  // namespace camtrack::infer
