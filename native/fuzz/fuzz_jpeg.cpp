// libFuzzer target: pushed JPEG decode (core/decode/jpeg_decoder.h): the byte sniffing, the header read with its
// pixel limit, the EXIF orientation reader, the DCT-scale choice and libjpeg-turbo's decode, as the push frame
// source runs them.
//
// Each input goes through ReadHeader, the push path's decoder (kAuto output at the scale a 416×416 model needs; twice,
// to see it stays usable), and an rgb24 one that keeps damaged pictures (keep_damaged: the concealment path) at the
// scale of a 64×64 model (usually 1/8, which keeps the run fast under ASan; the push path covers the larger ones).
// Properties besides "no crash, no sanitizer report":
//   - nothing but camtrack::decode::FrameError escapes (bad bytes of every kind are a coded frame error);
//   - a header over the pixel limit is refused as "too_large" before any pixel is decoded;
//   - a decoded picture has a positive size no larger than the header's, and the decoder stays usable after an
//     error (the next decode of the same bytes gives the same outcome);
//   - an outcome depends on the bytes only: a new decoder gives the same outcome as the long-lived one that decoded
//     every earlier input (libjpeg keeps tables between images; see jpeg_decoder.cpp, Renew).
// The pixel limit is 4 MP (not the 50 MP default) so that one input cannot make a single run slow; the check is the
// same code either way.
#include <cstddef>
#include <cstdint>

extern "C" {
#include <libavutil/frame.h>
}

#include "core/decode/frame_error.h"
#include "core/decode/exif_orientation.h"
#include "core/decode/jpeg_decoder.h"
#include "core/decode/picture_buffer.h"
#include "core/preprocess/letterbox.h"
#include "fuzz_input.h"

using namespace camtrack::decode;
using camtrack::fuzz::Fail;

namespace {

constexpr int64_t kMaxPixels = 4'000'000;

JpegDecoder& PushDecoder() {
  static JpegDecoder d(JpegDecoderOptions{kMaxPixels, false, true, JpegOutput::kAuto});
  return d;
}
JpegDecoder& DamagedDecoder() {
  static JpegDecoder d(JpegDecoderOptions{kMaxPixels, true, true, JpegOutput::kRgb24});
  return d;
}

// 0: decoded, 1 + fault: a FrameError.
int DecodeOnce(JpegDecoder& dec, const uint8_t* data, size_t size, const camtrack::preprocess::ModelInputSpec* spec,
               PictureBuffer* out, const JpegHeader* header) {
  try {
    dec.Decode(data, size, spec, out);
  } catch (const FrameError& e) {
    if (out->has_picture()) Fail("a failed decode left a picture in the buffer");
    return 1 + static_cast<int>(e.fault());
  }
  if (!out->has_picture()) Fail("Decode returned without a picture");
  const AVFrame& f = out->frame();
  if (f.width <= 0 || f.height <= 0) Fail("decoded picture has no size");
  if (header != nullptr && (out->info().source_width != header->display_width ||
                            out->info().source_height != header->display_height)) {
    Fail("decoded source size differs from the header's display size");
  }
  if (int64_t{f.width} * f.height > kMaxPixels) Fail("decoded a picture over the pixel limit");
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  JpegHeader header;
  bool header_ok = false;
  try {
    header = PushDecoder().ReadHeader(data, size);
    header_ok = true;
    if (header.width <= 0 || header.height <= 0) Fail("ReadHeader accepted a header without a size");
    if (int64_t{header.width} * header.height > kMaxPixels) Fail("ReadHeader accepted a header over the pixel limit");
    if (header.orientation < 1 || header.orientation > 8) Fail("orientation outside 1..8");
  } catch (const FrameError&) {
  }
  // Unused otherwise: ReadJpegExifOrientation is noexcept and must stay in 1..8 for any bytes.
  const int orientation = ReadJpegExifOrientation(data, size);
  if (orientation < 1 || orientation > 8) Fail("ReadJpegExifOrientation outside 1..8");

  camtrack::preprocess::ModelInputSpec spec;
  spec.width = 416;
  spec.height = 416;
  PictureBuffer picture;
  const int first = DecodeOnce(PushDecoder(), data, size, &spec, &picture, header_ok ? &header : nullptr);
  if (first == 0 && !header_ok) Fail("Decode succeeded where ReadHeader failed");
  const int again = DecodeOnce(PushDecoder(), data, size, &spec, &picture, header_ok ? &header : nullptr);
  if (again != first) Fail("the decoder gave a different outcome for the same bytes the second time");
  JpegDecoder fresh(JpegDecoderOptions{kMaxPixels, false, true, JpegOutput::kAuto});
  PictureBuffer fresh_picture;
  if (DecodeOnce(fresh, data, size, &spec, &fresh_picture, header_ok ? &header : nullptr) != first)
    Fail("a new decoder gave a different outcome than the one that decoded the earlier inputs");
  camtrack::preprocess::ModelInputSpec tiny;
  tiny.width = 64;
  tiny.height = 64;
  PictureBuffer damaged;
  DecodeOnce(DamagedDecoder(), data, size, &tiny, &damaged, header_ok ? &header : nullptr);
  return 0;
}
