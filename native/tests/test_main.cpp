#include "test_main.h"

#include <cstring>
#include <exception>

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : "";
  int passed = 0, failed = 0, skipped = 0;
  for (auto& c : ct_test::Registry()) {
    if (*filter && !std::strstr(c.name, filter)) continue;
    try {
      c.fn();
      ++passed;
      std::printf("ok    %s\n", c.name);
    } catch (const ct_test::Skip& s) {
      ++skipped;
      std::printf("skip  %s: %s\n", c.name, s.why.c_str());
    } catch (const ct_test::Failure& f) {
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
