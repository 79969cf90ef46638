#pragma once
// Per-frame decode faults of pushed frames (JPEG, PNG, H.264/HEVC access units): what went wrong with ONE frame
// whose bytes came from outside (a camera, a client). Such a frame is lost, the stream goes on. The push frame
// source reports each one as a warning event (code + reason word) and counts it by its reason.
//
// FrameError is a camtrack::Error (code kDecode, or kUnsupported for a valid but unsupported JPEG; stage "decode"),
// so anything that catches Error handles it; it adds the fault (a stable reason word) and the tag of the pushed
// chunk it belongs to. Thread-safety: value types.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/common/error.h"

namespace camtrack::decode {

// The pixel limit issue 10 specifies (50 megapixels = 50,000,000; an 8K frame is 33.2 MP). Native code applies
// whatever limit its caller passes (decoder options have no defaults, as the stream schema declares them once); the
// push stream schema's maxPixels defaults to this value (src/config/schema.ts), and tests and benchmarks use it.
constexpr int64_t kDefaultMaxPixels = 50'000'000;

enum class FrameFault {
  kEmpty,           // "empty": a 0-byte frame
  kWrongCodec,      // "wrong_codec": the bytes are another codec's (a PNG where JPEG was declared, …)
  kTruncated,       // "truncated": the bytes end before the picture does
  kCorrupt,         // "corrupt": damaged or not an image of the declared codec at all
  kTooLarge,        // "too_large": width × height over the decoder's max_pixels (checked from the header)
  kUnsupported,     // "unsupported": a valid picture this build cannot decode (12-bit JPEG, unknown sampling, …)
  kNoKeyframe,      // "no_keyframe": H.264/HEVC picture before the stream's first keyframe (nothing to predict from)
  kUntilKeyframe,   // "until_keyframe": picture dropped because the decoder was told to drop until a keyframe
};

// The stable reason word of a fault ("empty", "wrong_codec", …), for events and counters.
const char* FrameFaultName(FrameFault fault) noexcept;

class FrameError : public Error {
 public:
  // `tag`: the caller's tag of the pushed chunk the frame came from (AnnexBDecoder fills it in), -1 when none.
  FrameError(FrameFault fault, std::string message, std::string hint = {}, long long native_code = 0,
             int64_t tag = -1);

  FrameFault fault() const noexcept { return fault_; }
  const char* reason() const noexcept { return FrameFaultName(fault_); }
  int64_t tag() const noexcept { return tag_; }

 private:
  FrameFault fault_;
  int64_t tag_;
};

// What a pushed buffer's first bytes say it is (magic numbers only: a guess, never a validation).
enum class SniffedCodec { kUnknown, kJpeg, kPng, kAnnexB };
// JPEG: FF D8 FF; PNG: 89 'P' 'N' 'G' 0D 0A 1A 0A; Annex-B: 00 00 01 or 00 00 00 01 at the start.
SniffedCodec SniffCodec(const uint8_t* data, size_t size) noexcept;
const char* SniffedCodecName(SniffedCodec codec) noexcept;  // "JPEG", "PNG", "Annex-B H.264/HEVC", "unknown"

}  // namespace camtrack::decode
