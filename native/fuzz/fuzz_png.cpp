// libFuzzer target: pushed PNG decode (core/decode/png_decoder.h): signature and IHDR checks with the pixel limit,
// camtrack's bounds-checked chunk walk (ReadPngHeader), then libavcodec's PNG decoder with CRC checks.
//
// Properties besides "no crash, no sanitizer report":
//   - nothing but camtrack::decode::FrameError escapes;
//   - ReadPngHeader and Decode agree: Decode succeeds only where ReadPngHeader accepted the bytes, and the picture
//     has the IHDR size (no larger than the pixel limit);
//   - the decoder stays usable: decoding the same bytes again gives the same outcome.
// The pixel limit is 4 MP (not the 50 MP default) so that one input cannot make a single run slow.
#include <cstddef>
#include <cstdint>

extern "C" {
#include <libavutil/frame.h>
}

#include "core/decode/frame_error.h"
#include "core/decode/picture_buffer.h"
#include "core/decode/png_decoder.h"
#include "fuzz_input.h"

using namespace camtrack::decode;
using camtrack::fuzz::Fail;

namespace {

constexpr int64_t kMaxPixels = 4'000'000;

PngDecoder& Decoder() {
  static PngDecoder d(PngDecoderOptions{kMaxPixels});
  return d;
}

int DecodeOnce(const uint8_t* data, size_t size, PictureBuffer* out, const PngHeader* header) {
  try {
    Decoder().Decode(data, size, out);
  } catch (const FrameError& e) {
    if (out->has_picture()) Fail("a failed decode left a picture in the buffer");
    return 1 + static_cast<int>(e.fault());
  }
  if (header == nullptr) Fail("Decode succeeded where ReadPngHeader failed");
  if (!out->has_picture()) Fail("Decode returned without a picture");
  const AVFrame& f = out->frame();
  if (f.width != header->width || f.height != header->height) Fail("picture size differs from IHDR");
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  PngHeader header;
  bool header_ok = false;
  try {
    header = ReadPngHeader(data, size, kMaxPixels);
    header_ok = true;
    if (header.width <= 0 || header.height <= 0) Fail("ReadPngHeader accepted a header without a size");
    if (int64_t{header.width} * header.height > kMaxPixels) Fail("ReadPngHeader accepted a header over the limit");
  } catch (const FrameError&) {
  }
  PictureBuffer picture;
  const int first = DecodeOnce(data, size, &picture, header_ok ? &header : nullptr);
  const int again = DecodeOnce(data, size, &picture, header_ok ? &header : nullptr);
  if (again != first) Fail("the decoder gave a different outcome for the same bytes the second time");
  return 0;
}
