#pragma once
// BatchController: chooses the batch cap (how many images a batch takes before it is dispatched) and the wait (how
// long a partly filled batch may wait for more) of a dynamic-batch model so that the p99 latency of its frames stays
// under a target while batches are as large as that allows (batching.targetLatencyMs; docs/scheduling.md, "Adaptive
// batching and priorities").
//
// The rule, AIMD on the measured latency:
//   - every delivered inferred frame's latency from its batch position to its result (what batching adds: fill
//     wait, the batch ahead on the worker, inference, postprocess; not the wait for a position, which is overload
//     that a larger cap relieves — until 2026-12-05 a live frame's wait counted, when only high ones waited) goes
//     into a window of kWindow samples. Its p99 is taken by nearest rank, which for 64
//     samples is the largest one;
//   - multiplicative decrease: so one frame over the target puts the window's p99 over it, and the controller does
//     not wait for the window to fill: cap = max(1, floor(cap · kDecrease)) at once, a new window starts, and the
//     next kSettlePerCap · (old cap) samples are ignored (frames already batched under the old cap: up to two
//     workers × two slots × cap), so one slow burst shrinks the cap once, not once per frame of it;
//   - additive increase, only when batching pays: a full window with p99 < kIncreaseBelow · target in which
//     positions were scarce (OnScarce: a frame found no free batch position, or yielded its turn because positions
//     were scarce) grows the cap by one (up to max_batch), unless the inference time estimated for cap + 1 is
//     kIncreaseBelow · target / 2 or more (a batch's time is submit → complete, which includes waiting behind the
//     batch ahead on its worker; a frame's latency is at least that plus the batch's fill wait, so a size that slow
//     cannot stay under the target on a saturated worker, and probing it costs a burst of late frames). Without
//     scarcity a larger cap buys no throughput (every frame already found a position) and costs latency (a partly
//     filled batch waits for more);
//   - idle decrease: kIdleWindows full windows in a row without scarcity shrink the cap by one (not below 1): when
//     the load falls, the batches stop waiting for images that the workers do not need to share a batch. A full
//     window between kIncreaseBelow · target and the target, with scarcity: hold. A new window after every
//     decision;
//   - the wait is half the slack left by inference: (target − inference time of a batch of `cap`) / 2, at least 0.
//     Half, because a batch that is dispatched may still wait for the batch ahead of it on the worker. The inference
//     time of each batch size is a running average (EWMA, kInferAlpha) of the completed batches of that size; a
//     size not seen yet is estimated from the largest size seen below it, scaled linearly.
// Fixed-size arrays only: nothing is allocated after construction. Not thread-safe (the Batcher calls it under its
// mutex).
#include <array>
#include <cstdint>
#include <vector>

namespace camtrack::batch {

struct BatchControllerConfig {
  double target_ms = 0;   // > 0
  int max_batch = 1;      // the largest cap (batching.maxBatchSize), >= 1
  int initial_cap = 1;    // clamped into [1, max_batch]
};

class BatchController {
 public:
  static constexpr int kWindow = 64;              // latency samples per decision
  static constexpr double kIncreaseBelow = 0.8;   // grow while p99 < 0.8 · target
  static constexpr double kDecrease = 0.5;        // shrink to half when p99 > target
  static constexpr double kInferAlpha = 0.2;      // EWMA weight of a new inference time
  static constexpr int kSettlePerCap = 4;         // samples ignored after a decrease, per image of the old cap
  static constexpr int kIdleWindows = 2;          // windows in a row without scarcity before the cap shrinks by one

  explicit BatchController(BatchControllerConfig config);

  // One delivered frame's latency, ms (the postprocess thread's measure). May decide (see above).
  void OnLatency(double latency_ms);
  // A batch of `images` completed after `infer_ms` of inference.
  void OnBatch(int images, double infer_ms);
  // Batch positions were scarce: a frame found none free, or yielded its turn to other contending streams (see above).
  void OnScarce() { ++scarce_; }

  int cap() const { return cap_; }
  // The current wait, ms (see the rule above).
  double wait_ms() const;
  // Estimated inference time of a batch of `n` images, ms (0 while nothing was measured).
  double infer_estimate_ms(int n) const;
  // The p99 of the last decision's window, ms: of a full window, or the sample over the target that shrank it (0
  // before the first decision).
  double last_p99_ms() const { return last_p99_ms_; }
  uint64_t increases() const { return increases_; }
  // Multiplicative (over the target) and idle (no scarcity) decreases together.
  uint64_t decreases() const { return decreases_; }
  const BatchControllerConfig& config() const { return config_; }

 private:
  void Decide();

  const BatchControllerConfig config_;
  int cap_ = 1;
  std::array<double, kWindow> window_{};
  std::array<double, kWindow> scratch_{};
  int filled_ = 0;
  int settle_ = 0;  // samples still to ignore after a decrease
  uint64_t scarce_ = 0;  // OnScarce calls in the current window
  int idle_windows_ = 0;  // full windows in a row without scarcity
  double last_p99_ms_ = 0;
  uint64_t increases_ = 0, decreases_ = 0;
  std::vector<double> infer_ms_;  // index = batch size; < 0: not measured yet (sized once, at construction)
};

}  // namespace camtrack::batch
