// Stats meters (core/pipeline/stats.h): RateMeter (per-stream input and delivered fps, read without mutation) and
// LatencyHistogram (fixed Prometheus-style buckets), on synthetic time lines: no clock, no threads.
#include <cstdint>

#include "core/pipeline/stats.h"
#include "test_main.h"

namespace {

using camtrack::pipeline::LatencyHistogram;
using camtrack::pipeline::RateMeter;

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kT0 = 1'000'000 * kMs + 37 * kMs;  // an arbitrary steady-clock time, not on a bin edge

// Ticks at `fps` from `from` (inclusive) to `to` (exclusive); returns the time of the next tick.
int64_t TickAt(RateMeter& m, double fps, int64_t from, int64_t to) {
  const int64_t step = int64_t(1e9 / fps);
  int64_t t = from;
  for (; t < to; t += step) m.Tick(t);
  return t;
}

CT_TEST(rate_meter_reads_a_steady_rate_at_any_time_and_reading_changes_nothing) {
  RateMeter m;
  CT_EXPECT(m.PerSecond(kT0) == 0);
  const int64_t step = 40 * kMs;  // 25 fps
  int64_t t = kT0;
  for (int i = 0; i < 150; ++i, t += step) {
    m.Tick(t);
    if (t - kT0 < 1100 * kMs) continue;  // after the first full window
    // Many readers, at several moments between two frames: all read 25 ± 1 (one frame per window edge), and the
    // same moment reads the same value however often it is read.
    for (int64_t dt : {int64_t(0), 7 * kMs, 23 * kMs, 39 * kMs}) {
      const double r = m.PerSecond(t + dt);
      CT_EXPECT_NEAR(r, 25, 1.01);
      CT_EXPECT(m.PerSecond(t + dt) == r);
    }
  }
}

CT_TEST(rate_meter_reports_the_rate_so_far_from_250_ms_and_0_a_second_after_events_stop) {
  RateMeter m;
  const int64_t next = TickAt(m, 25, kT0, kT0 + 150 * kMs);
  CT_EXPECT(m.PerSecond(next) == 0);  // under 250 ms of complete bins: no rate yet
  const int64_t later = TickAt(m, 25, next, kT0 + 500 * kMs);
  CT_EXPECT_NEAR(m.PerSecond(later), 25, 3);  // the rate so far, not 12 (frames over a whole second)
  const int64_t end = TickAt(m, 25, later, kT0 + 3000 * kMs);
  CT_EXPECT_NEAR(m.PerSecond(end), 25, 1.01);
  CT_EXPECT_NEAR(m.PerSecond(end + 500 * kMs), 12.5, 1.01);  // half of the window has no events
  CT_EXPECT(m.PerSecond(end + 1100 * kMs) == 0);
  CT_EXPECT(m.PerSecond(end + 3600'000 * kMs) == 0);  // an hour later: stale bins never count again
}

CT_TEST(rate_meter_restart_forgets_the_previous_connection) {
  RateMeter m;
  int64_t t = TickAt(m, 50, kT0, kT0 + 2000 * kMs);
  CT_EXPECT_NEAR(m.PerSecond(t), 50, 1.01);
  m.Restart();
  CT_EXPECT(m.PerSecond(t) == 0);
  t += 300 * kMs;  // a short outage, then 10 fps: the old 50 fps must not be averaged in
  t = TickAt(m, 10, t, t + 600 * kMs);
  CT_EXPECT_NEAR(m.PerSecond(t), 10, 2.01);
}

CT_TEST(latency_histogram_counts_cumulatively_with_le_bounds_sum_and_count) {
  LatencyHistogram h;
  CT_EXPECT(h.counts.size() == LatencyHistogram::kBoundsMs.size() + 1);
  for (double ms : {0.5, 5.0, 5.001, 99.0, 100.0, 20000.0}) h.Add(ms);
  // Bounds 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, +Inf; `le`: a value on a bound is in its bucket.
  const std::array<uint64_t, 12> want{2, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 6};
  CT_EXPECT(h.counts == want);
  CT_EXPECT(h.count == 6);
  CT_EXPECT_NEAR(h.sum_ms, 0.5 + 5.0 + 5.001 + 99.0 + 100.0 + 20000.0, 1e-9);
}

}  // namespace
