/*
 * glibc compatibility of the prebuilt addon (cmake/prebuilt.cmake adds this file to it, and only to it).
 *
 * Debian 12's static libstdc++ (linked with -static-libstdc++) calls arc4random() in std::random_device; that symbol
 * is new in glibc 2.36, so the addon would not load on Ubuntu 22.04 (glibc 2.35). This hidden definition is resolved
 * inside the addon at link time instead, through getrandom() (glibc 2.25), and is not exported.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/random.h>

__attribute__((visibility("hidden"))) uint32_t arc4random(void) {
  uint32_t v = 0;
  /* Blocks only until the kernel's pool is initialised; reads of up to 256 bytes are then never short. */
  while (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
    if (errno != EINTR) break;
  }
  return v;
}
