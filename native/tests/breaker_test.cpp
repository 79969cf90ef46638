// CircuitBreaker (core/infer/breaker.h): table-driven sequences of batch results and frame requests → states and
// transitions (consecutive rule, windowed rule, cooldown, half-open probe success and failure, results of batches
// in flight while open), and configs it refuses.
#include <string>
#include <vector>

#include "core/infer/breaker.h"
#include "test_main.h"

namespace {

using camtrack::infer::BreakerConfig;
using camtrack::infer::BreakerState;
using camtrack::infer::BreakerTransition;
using camtrack::infer::CircuitBreaker;

// One step: at time `t` ms, 'F' a failed batch, 'S' a successful batch, 'A' a frame asks to be admitted.
// `expect`: after the step, the state ('c' closed, 'o' open, 'h' half-open) and for 'A' whether it was admitted
// ('+' / '-'); transitions are collected as "reason" words.
struct Step {
  int64_t t;
  char op;
};

std::string Run(const BreakerConfig& c, const std::vector<Step>& steps, std::vector<std::string>* reasons) {
  CircuitBreaker b(c);
  std::string out;
  for (const Step& s : steps) {
    BreakerTransition tr;
    bool changed = false;
    if (s.op == 'A') {
      out += b.AllowFrame(s.t, &tr, &changed) ? '+' : '-';
    } else {
      b.OnBatch(s.op == 'S', s.t, "boom", &tr, &changed);
    }
    if (changed) reasons->push_back(tr.reason);
    const BreakerState st = b.state();
    out += st == BreakerState::kClosed ? 'c' : st == BreakerState::kOpen ? 'o' : 'h';
  }
  return out;
}

std::vector<Step> Seq(const std::string& ops, int64_t dt = 100) {
  std::vector<Step> v;
  for (size_t i = 0; i < ops.size(); ++i) v.push_back({int64_t(i) * dt, ops[i]});
  return v;
}

CT_TEST(breaker_transitions_table) {
  struct Case {
    const char* name;
    BreakerConfig config;
    std::vector<Step> steps;
    std::string expect;
    std::vector<std::string> reasons;
  };
  BreakerConfig consecutive3;
  consecutive3.consecutive_failures = 3;
  consecutive3.cooldown_ms = 250;
  BreakerConfig window;
  window.window_batches = 4;
  window.window_failure_ratio = 0.5;
  window.cooldown_ms = 250;
  BreakerConfig probe2 = consecutive3;
  probe2.probe_frames = 2;
  const std::vector<Case> cases = {
      {"successes keep it closed", consecutive3, Seq("SSASS"), "cc+ccc", {}},
      {"2 failures, a success, 2 failures: never 3 in a row", consecutive3, Seq("FFSFF"), "ccccc", {}},
      {"3 failures in a row open it; frames are refused", consecutive3, Seq("FFFA"), "cco-o", {"consecutive"}},
      // Opened at t=200; cooldown 250: the frame at 300 is refused, the one at 500 is the probe (half-open).
      {"cooldown, then one probe frame; the probe's success closes it", consecutive3,
       {{0, 'F'}, {100, 'F'}, {200, 'F'}, {300, 'A'}, {500, 'A'}, {510, 'A'}, {600, 'S'}, {700, 'A'}},
       "cco-o+h-hc+c", {"consecutive", "cooldown", "probe-ok"}},
      {"the probe fails: open again, a new cooldown", consecutive3,
       {{0, 'F'}, {100, 'F'}, {200, 'F'}, {500, 'A'}, {600, 'F'}, {700, 'A'}, {900, 'A'}},
       "cco+ho-o+h", {"consecutive", "cooldown", "probe-failed", "cooldown"}},
      {"batches in flight when it opened change nothing", consecutive3, Seq("FFFSSF"), "ccoooo", {"consecutive"}},
      {"probe_frames 2 admits two frames in half-open", probe2,
       {{0, 'F'}, {1, 'F'}, {2, 'F'}, {300, 'A'}, {301, 'A'}, {302, 'A'}}, "cco+h+h-h", {"consecutive", "cooldown"}},
      // Window of 4 at ratio 0.5: F S F S fills it with 2 failures → open (no 2 in a row needed).
      {"windowed: half of the last 4 failed", window, Seq("FSFS"), "ccco", {"window"}},
      {"windowed: the window must be full first", window, Seq("FSF"), "ccc", {}},
      {"windowed: 1 of 4 is not enough", window, Seq("SSSFSSS"), "ccccccc", {}},
  };
  for (const Case& c : cases) {
    std::vector<std::string> reasons;
    const std::string got = Run(c.config, c.steps, &reasons);
    if (got != c.expect || reasons != c.reasons)
      std::fprintf(stderr, "  %s: got %s (%zu transitions), want %s\n", c.name, got.c_str(), reasons.size(),
                   c.expect.c_str());
    CT_EXPECT(got == c.expect);
    CT_EXPECT(reasons == c.reasons);
  }
}

CT_TEST(breaker_counts_opens_and_says_why) {
  BreakerConfig c;
  c.consecutive_failures = 2;
  c.cooldown_ms = 10;
  CircuitBreaker b(c);
  BreakerTransition t;
  bool changed = false;
  b.OnBatch(false, 0, "worker exited", &t, &changed);
  b.OnBatch(false, 1, "worker exited", &t, &changed);
  CT_EXPECT(changed && t.from == BreakerState::kClosed && t.to == BreakerState::kOpen);
  CT_EXPECT(t.message.find("2 inference batches failed in a row: worker exited") != std::string::npos);
  CT_EXPECT(b.opens() == 1);
  CT_EXPECT(std::string(camtrack::infer::BreakerStateName(b.state())) == "open");
}

CT_TEST(breaker_refuses_unusable_configs) {
  using camtrack::ErrorCode;
  BreakerConfig ratio;
  ratio.window_batches = 4;
  ratio.window_failure_ratio = 1.5;
  CT_EXPECT(ct_test::ThrowsCode(ErrorCode::kInvalidArgument, [&] { CircuitBreaker b(ratio); }));
  BreakerConfig negative;
  negative.cooldown_ms = -1;
  CT_EXPECT(ct_test::ThrowsCode(ErrorCode::kInvalidArgument, [&] { CircuitBreaker b(negative); }));
  BreakerConfig no_probe;
  no_probe.probe_frames = 0;
  CT_EXPECT(ct_test::ThrowsCode(ErrorCode::kInvalidArgument, [&] { CircuitBreaker b(no_probe); }));
}

}  // namespace
