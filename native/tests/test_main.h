#pragma once
// A minimal self-registering test harness for the native core tests (no third-party framework to download).
// Usage:  CT_TEST(suite_name_case) { CT_EXPECT(a == b); CT_EXPECT_NEAR(x, y, 1e-3); }
// The executable `camtrack_core_tests [filter]` runs every test whose name contains `filter`, prints one line per
// test and a final `N passed, N failed`, and exits non-zero on any failure. Tests needing ../shared/assets resolve
// them with test_assets.h (CAMTRACK_ASSETS, set by test/unit/native-core.test.ts; skip without them, fail if CI=true).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/common/error.h"

namespace ct_test {

// True when f() throws camtrack::Error with `code` (its message into *message when given); false when it throws
// another code or nothing. Other exception types propagate (the harness reports them as failures).
template <typename F>
bool ThrowsCode(camtrack::ErrorCode code, F&& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const camtrack::Error& e) {
    if (message) *message = e.what();
    return e.code() == code;
  }
  return false;
}

struct Case {
  const char* name;
  std::function<void()> fn;
};
inline std::vector<Case>& Registry() {
  static std::vector<Case> r;
  return r;
}
struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { Registry().push_back({name, std::move(fn)}); }
};
struct Failure {
  std::string what;
};
struct Skip {
  std::string why;
};

// Runs every registered test whose name contains `filter` ("" = all), in registration order, printing one line per
// test and a final `N passed, N failed, N skipped`. Returns the process exit code: 0 if nothing failed, else 1.
// Used by the main() of camtrack_core_tests and camtrack_gpu_tests; single-threaded.
inline int RunAll(const char* filter) {
  int passed = 0, failed = 0, skipped = 0;
  for (auto& c : Registry()) {
    if (*filter && !std::strstr(c.name, filter)) continue;
    try {
      c.fn();
      ++passed;
      std::printf("ok    %s\n", c.name);
    } catch (const Skip& s) {
      ++skipped;
      std::printf("skip  %s: %s\n", c.name, s.why.c_str());
    } catch (const Failure& f) {
      ++failed;
      std::printf("FAIL  %s: %s\n", c.name, f.what.c_str());
    } catch (const std::exception& e) {
      ++failed;
      std::printf("FAIL  %s: exception: %s\n", c.name, e.what());
    }
  }
  std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed == 0 ? 0 : 1;
}
}  // namespace ct_test

#define CT_CONCAT_(a, b) a##b
#define CT_CONCAT(a, b) CT_CONCAT_(a, b)
#define CT_TEST(name)                                                          \
  static void name();                                                          \
  static ::ct_test::Registrar CT_CONCAT(ct_reg_, name)(#name, &name);          \
  static void name()
#define CT_EXPECT(cond)                                                                                   \
  do {                                                                                                    \
    if (!(cond)) {                                                                                        \
      std::ostringstream ct_os;                                                                           \
      ct_os << __FILE__ << ":" << __LINE__ << ": expected " #cond;                                        \
      throw ::ct_test::Failure{ct_os.str()};                                                              \
    }                                                                                                     \
  } while (0)
#define CT_EXPECT_NEAR(a, b, tol)                                                                         \
  do {                                                                                                    \
    const double ct_a = (a), ct_b = (b);                                                                  \
    if (!(std::fabs(ct_a - ct_b) <= (tol))) {                                                             \
      std::ostringstream ct_os;                                                                           \
      ct_os << __FILE__ << ":" << __LINE__ << ": expected " #a " ≈ " #b " (±" << (tol) << "), got " << ct_a \
            << " vs " << ct_b;                                                                            \
      throw ::ct_test::Failure{ct_os.str()};                                                              \
    }                                                                                                     \
  } while (0)
#define CT_SKIP(why) throw ::ct_test::Skip{why}
