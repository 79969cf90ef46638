#include <cstdio>
#include <cstdlib>

#include "fuzz_input.h"

namespace camtrack::fuzz {

void Fail(const char* what) {
  std::fprintf(stderr, "camtrack fuzz: property violated: %s\n", what);
  std::abort();
}

}  // namespace camtrack::fuzz
