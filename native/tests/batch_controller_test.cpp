// BatchController (core/batch/batch_controller.h) on its own, with synthetic latencies: it grows while batch positions
// are scarce and latency is low, shrinks when latency exceeds the target and (by one) when positions stop being scarce,
// stays within [1, max_batch], sizes the wait from the measured inference time, and refuses a config without a target.
#include <algorithm>

#include "core/batch/batch_controller.h"
#include "test_main.h"

namespace {

using camtrack::batch::BatchController;
using camtrack::batch::BatchControllerConfig;

BatchControllerConfig Config(double target, int max_batch, int initial = 1) {
  BatchControllerConfig c;
  c.target_ms = target;
  c.max_batch = max_batch;
  c.initial_cap = initial;
  return c;
}

// One decision window of identical latencies; `scarce`: batch positions were scarce during it (the batcher's signal).
void Window(BatchController& b, double latency_ms, bool scarce = true) {
  for (int i = 0; i < BatchController::kWindow; ++i) {
    if (scarce) b.OnScarce();
    b.OnLatency(latency_ms);
  }
}

CT_TEST(batch_controller_grows_while_positions_are_scarce_up_to_max) {
  BatchController b(Config(100, 8));
  CT_EXPECT(b.cap() == 1);
  // Fewer samples than a window: no decision yet.
  for (int i = 0; i < BatchController::kWindow - 1; ++i) b.OnLatency(10);
  CT_EXPECT(b.cap() == 1);
  b.OnScarce();  // once in the window is enough
  b.OnLatency(10);
  CT_EXPECT(b.cap() == 2);  // additive: one per window
  CT_EXPECT_NEAR(b.last_p99_ms(), 10, 1e-9);
  for (int w = 0; w < 20; ++w) Window(b, 30);
  CT_EXPECT(b.cap() == 8);  // never above max_batch
  CT_EXPECT(b.increases() == 7);
  CT_EXPECT(b.decreases() == 0);
}

CT_TEST(batch_controller_without_scarcity_does_not_grow_and_an_idle_cap_shrinks_by_one) {
  // Fast windows in which every frame found a position: a larger cap buys nothing, so it stays 1.
  BatchController b(Config(100, 8));
  for (int w = 0; w < 10; ++w) Window(b, 10, false);
  CT_EXPECT(b.cap() == 1);
  CT_EXPECT(b.increases() == 0 && b.decreases() == 0);
  // A cap grown under scarcity comes down by one per kIdleWindows windows once the scarcity ends.
  BatchController c(Config(100, 8, 5));
  Window(c, 10, false);
  CT_EXPECT(c.cap() == 5);  // one idle window: not yet
  Window(c, 10, false);
  CT_EXPECT(c.cap() == 4);
  Window(c, 10, true);  // scarce again: grows, and the idle count starts over
  CT_EXPECT(c.cap() == 5);
  Window(c, 10, false);
  CT_EXPECT(c.cap() == 5);
  for (int w = 0; w < 20; ++w) Window(c, 10, false);
  CT_EXPECT(c.cap() == 1);  // never below 1
  CT_EXPECT(c.increases() == 1);
  CT_EXPECT(c.decreases() == 5);  // 5 → 4, then 5 → 4 → 3 → 2 → 1
  // A slow window without scarcity shrinks it the same way (by one), not multiplicatively.
  BatchController d(Config(100, 8, 4));
  Window(d, 90, false);
  Window(d, 90, false);
  CT_EXPECT(d.cap() == 3);
}

CT_TEST(batch_controller_does_not_grow_into_a_batch_too_slow_for_the_target) {
  // Batches of 1 take 30 ms (submit → complete): a batch of 2 is estimated at 60 ms >= 0.8 · 100 / 2, so fast
  // windows do not grow the cap. Measured faster later (10 ms), it grows again.
  BatchController b(Config(100, 8));
  b.OnBatch(1, 30);
  for (int w = 0; w < 5; ++w) Window(b, 20);
  CT_EXPECT(b.cap() == 1);
  CT_EXPECT(b.increases() == 0);
  for (int i = 0; i < 30; ++i) b.OnBatch(1, 10);  // EWMA converges to ~10
  Window(b, 20);
  CT_EXPECT(b.cap() == 2);
  b.OnBatch(2, 39);  // 39 < 40: may grow to 3? estimate(3) = 39 · 3 / 2 = 58.5 >= 40: no
  Window(b, 20);
  CT_EXPECT(b.cap() == 2);
}

CT_TEST(batch_controller_holds_between_080_and_target) {
  BatchController b(Config(100, 8, 4));
  for (int w = 0; w < 5; ++w) Window(b, 90);  // 0.8·target <= p99 <= target: hold
  CT_EXPECT(b.cap() == 4);
  CT_EXPECT(b.increases() == 0 && b.decreases() == 0);
}

CT_TEST(batch_controller_shrinks_multiplicatively_when_over_target_down_to_one) {
  BatchController b(Config(100, 16, 16));
  b.OnLatency(150);  // one frame over the target: the window's p99 is over, it shrinks at once
  CT_EXPECT(b.cap() == 8);
  CT_EXPECT_NEAR(b.last_p99_ms(), 150, 1e-9);
  // The next 4 · 16 samples are frames batched under the old cap: ignored, however slow.
  for (int i = 0; i < 4 * 16; ++i) b.OnLatency(400);
  CT_EXPECT(b.cap() == 8);
  b.OnLatency(150);
  CT_EXPECT(b.cap() == 4);
  for (int i = 0; i < 1000; ++i) b.OnLatency(500);
  CT_EXPECT(b.cap() == 1);  // never below 1
  CT_EXPECT(b.decreases() == 4);  // 16 → 8 → 4 → 2 → 1
  CT_EXPECT(b.increases() == 0);
}

CT_TEST(batch_controller_decides_on_p99_not_mean) {
  // 63 fast samples and one slow one: the nearest-rank p99 of 64 samples is the slowest, so it shrinks.
  BatchController b(Config(100, 8, 8));
  for (int i = 0; i < BatchController::kWindow - 1; ++i) b.OnLatency(5);
  b.OnLatency(250);
  CT_EXPECT(b.cap() == 4);
  CT_EXPECT_NEAR(b.last_p99_ms(), 250, 1e-9);
  // A window of fast samples whose mean is far under the target but whose p99 is between 0.8 · target and the
  // target: it holds (the mean would have grown it).
  BatchController c(Config(100, 8, 4));
  for (int i = 0; i < BatchController::kWindow - 1; ++i) c.OnLatency(5);
  c.OnScarce();
  c.OnLatency(95);
  CT_EXPECT(c.cap() == 4);
  CT_EXPECT_NEAR(c.last_p99_ms(), 95, 1e-9);
}

// Feeds `samples` latencies computed from the current cap (a synthetic closed loop of a saturating load: positions
// always scarce); returns how many were over the target.
template <class F>
int Loop(BatchController& b, int samples, F latency_of_cap) {
  int over = 0;
  for (int i = 0; i < samples; ++i) {
    const double l = latency_of_cap(b.cap());
    if (l > b.config().target_ms) ++over;
    b.OnScarce();
    b.OnLatency(l);
    CT_EXPECT(b.cap() >= 1 && b.cap() <= b.config().max_batch);
  }
  return over;
}

CT_TEST(batch_controller_adapts_when_load_changes) {
  // Light load → grows; inference slows down (latency over target) → shrinks; light again → grows back.
  BatchController b(Config(100, 8));
  for (int w = 0; w < 10; ++w) Window(b, 20);
  CT_EXPECT(b.cap() == 8);
  b.OnLatency(130);
  CT_EXPECT(b.cap() == 4);
  for (int i = 0; i < 4 * 8; ++i) b.OnLatency(130);  // settling: ignored
  Window(b, 40);
  Window(b, 40);
  CT_EXPECT(b.cap() == 6);
  // Closed loop: latency = 15 ms per image of the cap. It grows while 15 · cap < 80 and settles at 6 (90 ms:
  // between 0.8 · target and target), never above, and no frame is ever over the target.
  BatchController c(Config(100, 16));
  CT_EXPECT(Loop(c, 60 * BatchController::kWindow, [](int cap) { return 15.0 * cap; }) == 0);
  CT_EXPECT(c.cap() == 6);
  // Closed loop with a cliff: 15 ms per image, plus 200 ms above cap 4 (the machine saturates). It probes cap 5
  // once per cycle (2, 3, 4: a window each; 5: one frame over, back to 2, 20 samples ignored): under 2 % of the
  // frames are over the target, and it ends in [2, 5].
  BatchController d(Config(100, 16));
  const int n = 100 * BatchController::kWindow;
  const int over = Loop(d, n, [](int cap) { return 15.0 * cap + (cap > 4 ? 200 : 0); });
  CT_EXPECT(over > 0);
  CT_EXPECT(over < n / 50);
  CT_EXPECT(d.cap() >= 2 && d.cap() <= 5);
  CT_EXPECT(d.decreases() > 10);
}

CT_TEST(batch_controller_wait_from_measured_inference_time) {
  BatchController b(Config(100, 8, 4));
  CT_EXPECT_NEAR(b.infer_estimate_ms(4), 0, 1e-9);
  CT_EXPECT_NEAR(b.wait_ms(), 50, 1e-9);  // nothing measured: half the target
  b.OnBatch(2, 20);
  CT_EXPECT_NEAR(b.infer_estimate_ms(2), 20, 1e-9);
  CT_EXPECT_NEAR(b.infer_estimate_ms(4), 40, 1e-9);  // scaled from size 2
  CT_EXPECT_NEAR(b.wait_ms(), 30, 1e-9);             // (100 − 40) / 2
  b.OnBatch(4, 30);
  CT_EXPECT_NEAR(b.wait_ms(), 35, 1e-9);
  b.OnBatch(4, 40);  // EWMA: 30 + 0.2 · (40 − 30) = 32
  CT_EXPECT_NEAR(b.infer_estimate_ms(4), 32, 1e-9);
  b.OnBatch(4, 500);  // slower than the target: the wait is 0, never negative
  CT_EXPECT(b.wait_ms() >= 0);
  for (int i = 0; i < 30; ++i) b.OnBatch(4, 500);
  CT_EXPECT_NEAR(b.wait_ms(), 0, 1e-9);
  b.OnBatch(0, 10);    // ignored
  b.OnBatch(9, 10);    // above max_batch: ignored
  b.OnBatch(1, -1);    // ignored
  CT_EXPECT_NEAR(b.infer_estimate_ms(1), 20, 1e-9);  // size 1 not seen, none below: the smallest seen above
}

CT_TEST(batch_controller_refuses_bad_config) {
  CT_EXPECT(ct_test::ThrowsCode(camtrack::ErrorCode::kInvalidArgument, [] { BatchController b(Config(0, 8)); }));
  CT_EXPECT(ct_test::ThrowsCode(camtrack::ErrorCode::kInvalidArgument, [] { BatchController b(Config(100, 0)); }));
  BatchController b(Config(100, 4, 99));
  CT_EXPECT(b.cap() == 4);  // initial cap clamped
}

}  // namespace
