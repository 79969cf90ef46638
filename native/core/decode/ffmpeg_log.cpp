#include "core/decode/ffmpeg_log.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

extern "C" {
#include <libavutil/log.h>
}

#include "core/common/redact.h"

namespace camtrack::decode {
namespace {

int LevelFromEnv() {
  const char* v = std::getenv("CAMTRACK_FFMPEG_LOG");
  if (!v || !*v || !std::strcmp(v, "quiet")) return AV_LOG_QUIET;
  if (!std::strcmp(v, "error")) return AV_LOG_ERROR;
  if (!std::strcmp(v, "warning")) return AV_LOG_WARNING;
  if (!std::strcmp(v, "info")) return AV_LOG_INFO;
  if (!std::strcmp(v, "verbose")) return AV_LOG_VERBOSE;
  if (!std::strcmp(v, "debug")) return AV_LOG_DEBUG;
  return AV_LOG_ERROR;
}

void RedactingCallback(void* avcl, int level, const char* fmt, va_list vl) {
  if (level > av_log_get_level()) return;
  char line[1024];
  int print_prefix = 1;
  av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &print_prefix);
  // scheme://user:pass@host → scheme://***@host, ?token=… → ?token=*** (FFmpeg prints the URLs it opens).
  std::fputs(RedactSecretsIn(line).c_str(), stderr);
}

void SilentCallback(void*, int, const char*, va_list) {}

}  // namespace

void InstallFfmpegLogHandler() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    const int level = LevelFromEnv();
    av_log_set_level(level);
    av_log_set_callback(level == AV_LOG_QUIET ? SilentCallback : RedactingCallback);
  });
}

}  // namespace camtrack::decode
