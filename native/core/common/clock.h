#pragma once
// Monotonic and wall clocks in one place, as plain integers (no allocation, cheap to copy across threads).
#include <chrono>
#include <cstdint>

namespace camtrack {

inline int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
inline int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace camtrack
