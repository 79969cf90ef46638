#pragma once
// CircuitBreaker: one rule for a failing inference backend (issue 14, part 2; docs/scheduling.md "Circuit breaker").
// One per backend (per native pipeline, core/pipeline/pipeline.cpp): sources ask AllowFrame() before a frame takes a
// batch position (a refused frame is dropped with cause `breaker`, counted), the postprocess thread reports each
// batch with OnBatch(), and the pipeline turns transitions into stream events and stats (breaker_state, opens).
//
//   closed ──(consecutive_failures failed batches in a row, or ≥ window_failure_ratio of the last window_batches
//             batches failed)──► open
//   open ──(cooldown_ms passed; the next AllowFrame)──► half-open
//   half-open: admits up to probe_frames frames (the probe); the first batch result decides:
//             success ──► closed (the failure history starts again), failure ──► open (a new cooldown)
//
// While open (and in half-open once the probe's frames are admitted) AllowFrame() says no: the caller drops the
// frame and counts it (cause `breaker`), or sends it to the fallback backend's workers (batch::Pool::kFallback,
// inference.breaker.fallback 'cpu'), whose batch results are never reported here. Batch results that arrive while open (batches already in flight when it
// opened) change nothing. Every transition is reported to the caller once, with a reason word and a message.
//
// Threading: AllowFrame() from source threads, OnBatch() from the postprocess thread: one mutex, held for a few
// comparisons. No allocation after construction (the window is a fixed ring), except a transition's message.
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace camtrack::infer {

struct BreakerConfig {
  int consecutive_failures = 0;      // open after this many failed batches in a row (0: this rule is off)
  int window_batches = 0;            // the windowed rule's window, in batches (0: off)
  double window_failure_ratio = 0;   // open when at least this fraction of a full window failed (0 < r <= 1)
  int64_t cooldown_ms = 0;           // open → half-open after this long
  int probe_frames = 1;              // frames admitted in half-open before its first result decides
};

enum class BreakerState { kClosed, kOpen, kHalfOpen };
const char* BreakerStateName(BreakerState s);

struct BreakerTransition {
  BreakerState from = BreakerState::kClosed, to = BreakerState::kClosed;
  const char* reason = "";  // "consecutive", "window", "cooldown", "probe-ok", "probe-failed"
  std::string message;      // with the counts and the error that tripped it
};

class CircuitBreaker {
 public:
  // Throws Error(kInvalidArgument) for a config it cannot use (negative values, a ratio outside (0, 1]).
  explicit CircuitBreaker(BreakerConfig config);

  // A frame wants inference at `now_ms` (steady clock). False: drop it (cause breaker). Sets *t and returns with
  // `changed` true when this call moved the breaker (open → half-open).
  bool AllowFrame(int64_t now_ms, BreakerTransition* t, bool* changed);
  // A batch finished (`ok`) or failed with `error`, at `now_ms`. *changed: whether it moved the breaker.
  void OnBatch(bool ok, int64_t now_ms, const std::string& error, BreakerTransition* t, bool* changed);

  BreakerState state() const;
  uint64_t opens() const;  // times it opened, all time

 private:
  void Open(const char* reason, std::string message, int64_t now_ms, BreakerTransition* t);

  const BreakerConfig config_;
  mutable std::mutex mu_;
  BreakerState state_ = BreakerState::kClosed;
  int consecutive_ = 0;
  std::vector<uint8_t> window_;  // ring of the last window_batches results (1: failed)
  size_t window_pos_ = 0, window_count_ = 0, window_failed_ = 0;
  int64_t opened_ms_ = 0;
  int probe_admitted_ = 0;
  uint64_t opens_ = 0;
};

}  // namespace camtrack::infer
