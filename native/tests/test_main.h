#pragma once
// The native tests run on GoogleTest (Debian's libgtest-dev; gtest's runner, filters, reports and failure records).
// Tests are written with our three macros, which keep one rule of the old home-made runner: a failed expectation
// ends its test (like ASSERT_TRUE), because many checks sit in helpers that return values, where gtest's ASSERT_*
// cannot be used.
//   CT_TEST(suite_name_case) { CT_EXPECT(a == b); CT_EXPECT_NEAR(x, y, 1e-3); CT_SKIP("why"); }
// CT_EXPECT records a gtest failure with its file and line, then ends the test (throws ct_test::Failure, which the
// test's wrapper catches). A helper may also throw ct_test::Failure{"message"} or ct_test::Skip{"why"}; any other
// exception fails the test through gtest's own handler. New tests may use gtest's EXPECT_*/ASSERT_* as well.
// Every test is `camtrack.<name>`. The executables (camtrack_core_tests, camtrack_gpu_tests) take gtest's flags, or
// one bare word as a filter (the tests whose name contains it: `camtrack_core_tests jpeg`), and end with the line
// `N passed, N failed, N skipped` that test/unit/native-core.test.ts and test/gpu read. Tests needing
// ../shared/assets resolve them with test_assets.h (CAMTRACK_ASSETS; skip without them, fail if CI=true).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace ct_test {

// Runs one test's body: a Skip becomes gtest's skip, a Failure not yet recorded becomes a gtest failure.
inline void RunBody(void (*body)()) {
  try {
    body();
  } catch (const Skip& s) {
    GTEST_SKIP() << s.why;
  } catch (const Failure& f) {
    if (!f.recorded) ADD_FAILURE() << f.what;
  }
}

// main() of the test executables: gtest's flags, or one bare word as a name filter; then gtest's run and the closing
// line `N passed, N failed, N skipped`. Returns the process exit code (0: nothing failed).
inline int RunAll(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() == 2 && !args[1].empty() && args[1][0] != '-') args[1] = "--gtest_filter=*" + args[1] + "*";
  std::vector<char*> ptrs;
  for (auto& a : args) ptrs.push_back(a.data());
  int n = static_cast<int>(ptrs.size());
  ::testing::InitGoogleTest(&n, ptrs.data());
  const int rc = RUN_ALL_TESTS();
  const ::testing::UnitTest* u = ::testing::UnitTest::GetInstance();
  std::printf("%d passed, %d failed, %d skipped\n", u->successful_test_count(), u->failed_test_count(),
              u->skipped_test_count());
  std::fflush(stdout);
  return rc == 0 ? 0 : 1;
}

}  // namespace ct_test

#define CT_TEST(name)                                    \
  static void name();                                    \
  TEST(camtrack, name) { ::ct_test::RunBody(&name); }    \
  static void name()
#define CT_EXPECT(cond)                                                            \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      ADD_FAILURE_AT(__FILE__, __LINE__) << "expected " #cond;                     \
      throw ::ct_test::Failure{std::string(__FILE__) + ": expected " #cond, true}; \
    }                                                                              \
  } while (0)
#define CT_EXPECT_NEAR(a, b, tol)                                                                          \
  do {                                                                                                     \
    const double ct_a = (a), ct_b = (b);                                                                   \
    if (!(std::fabs(ct_a - ct_b) <= (tol))) {                                                              \
      std::ostringstream ct_os;                                                                            \
      ct_os << "expected " #a " ≈ " #b " (±" << (tol) << "), got " << ct_a << " vs " << ct_b;              \
      ADD_FAILURE_AT(__FILE__, __LINE__) << ct_os.str();                                                   \
      throw ::ct_test::Failure{ct_os.str(), true};                                                         \
    }                                                                                                      \
  } while (0)
#define CT_SKIP(why) throw ::ct_test::Skip{why}
