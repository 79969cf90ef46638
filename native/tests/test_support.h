#pragma once
// What the native tests share besides the runner (test_main.h): the failure and skip exceptions that helpers throw,
// and ThrowsCode. Kept apart from test_main.h so that executables that are not GoogleTest programs
// (driver/pipeline_driver.cpp, which includes test_assets.h) do not pull in gtest.
#include <string>

#include "core/common/error.h"

namespace ct_test {

// True when f() throws camtrack::Error with `code` (its message into *message when given); false when it throws
// another code or nothing. Other exception types propagate (the runner reports them as failures).
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

// Thrown by a helper (or CT_EXPECT) to end the current test as failed; `recorded`: already reported to GoogleTest
// with its file and line (CT_EXPECT), so the runner does not report it twice.
struct Failure {
  std::string what;
  bool recorded = false;
};
// Thrown (CT_SKIP, test_assets.h for a missing asset outside CI) to end the current test as skipped.
struct Skip {
  std::string why;
};

}  // namespace ct_test
