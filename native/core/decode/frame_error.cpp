#include "decode/frame_error.h"

#include <cstring>
#include <utility>

namespace camtrack::decode {

const char* FrameFaultName(FrameFault fault) noexcept {
  switch (fault) {
    case FrameFault::kEmpty: return "empty";
    case FrameFault::kWrongCodec: return "wrong_codec";
    case FrameFault::kTruncated: return "truncated";
    case FrameFault::kCorrupt: return "corrupt";
    case FrameFault::kTooLarge: return "too_large";
    case FrameFault::kUnsupported: return "unsupported";
    case FrameFault::kNoKeyframe: return "no_keyframe";
    case FrameFault::kUntilKeyframe: return "until_keyframe";
  }
  return "corrupt";
}

FrameError::FrameError(FrameFault fault, std::string message, std::string hint, long long native_code, int64_t tag)
    : Error(fault == FrameFault::kUnsupported ? ErrorCode::kUnsupported : ErrorCode::kDecode, "decode",
            std::move(message), std::move(hint), native_code),
      fault_(fault),
      tag_(tag) {}

SniffedCodec SniffCodec(const uint8_t* data, size_t size) noexcept {
  if (!data) return SniffedCodec::kUnknown;
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) return SniffedCodec::kJpeg;
  if (size >= 8 && std::memcmp(data, kPng, 8) == 0) return SniffedCodec::kPng;
  if (size >= 3 && data[0] == 0 && data[1] == 0 && data[2] == 1) return SniffedCodec::kAnnexB;
  if (size >= 4 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 1) return SniffedCodec::kAnnexB;
  return SniffedCodec::kUnknown;
}

const char* SniffedCodecName(SniffedCodec codec) noexcept {
  switch (codec) {
    case SniffedCodec::kJpeg: return "JPEG";
    case SniffedCodec::kPng: return "PNG";
    case SniffedCodec::kAnnexB: return "Annex-B H.264/HEVC";
    case SniffedCodec::kUnknown: return "unknown";
  }
  return "unknown";
}

}  // namespace camtrack::decode
