#pragma once
// JpegDecoder: pushed JPEG frames decoded by libjpeg-turbo (TurboJPEG API) at the size the model needs.
//
// Per frame, Decode():
//   1. checks the bytes: 0 bytes → "empty"; a PNG / Annex-B signature → "wrong_codec"; no JPEG signature → "corrupt";
//   2. reads the header only (tjDecompressHeader3: width, height, subsampling, colorspace) and rejects a frame over
//      max_pixels (width × height) before any pixel is decoded → "too_large";
//   3. reads the EXIF orientation (exif_orientation.h; applied after decode, on the small picture);
//   4. picks the strongest DCT scale 1/2, 1/4 or 1/8 whose output is still at least as large as the letterboxed
//      image in both dimensions (ChooseScale; e.g. 1080p into a 416×416 model: letterboxed 416×234, 1/4 → 480×270);
//   5. decodes into the caller's PictureBuffer, reusing the tjhandle and the buffer's storage:
//        - 4:2:0 JPEGs (what FFmpeg's mjpeg encoder, most cameras and libjpeg's defaults make) with orientation 1:
//          straight into Y, Cb, Cr planes (tjDecompressToYUVPlanes), exposed as a full-range BT.601 yuv420p AVFrame.
//          CpuLetterboxer reads yuv420p directly (no swscale) and converts to RGB only at the model's resolution,
//          so libjpeg-turbo's chroma upsampling and colour conversion of the whole decoded picture are skipped, and
//          the picture takes 1.5 instead of 3 bytes per pixel. Measured (bench/native/jpeg_bench.cpp, docs/push.md):
//          decode + letterbox 1.29x faster than via rgb24 at full size (1080p into 416); at the DCT scales the
//          pipeline uses, where the picture is already small, the two are equal within noise (0.92-1.05);
//        - anything else (4:2:2, 4:4:4, 4:4:0, 4:1:1, grey, or an orientation other than 1): packed RGB24
//          (tjDecompress2), which CpuLetterboxer also reads directly (its rgb24 path, no swscale); a yuv422p or
//          yuv444p frame would instead take the letterboxer's swscale fallback, a full-size conversion per frame.
//          Rotations/flips then copy the scaled picture once (OrientPixels).
//      JpegOutput::kRgb24 forces the second form (benchmarks and tests compare the two).
// Bad bytes of every kind throw FrameError (frame_error.h) and leave the decoder usable for the next frame:
// "truncated" (the data ends before the image does), "corrupt", "unsupported" (a valid JPEG libjpeg-turbo's 8-bit
// API cannot decode: 12-bit precision, lossless, CMYK/YCCK, which libjpeg-turbo 2.1 cannot convert to RGB),
// "too_large", "empty", "wrong_codec".
//
// Allocation: none by this class after warm-up (the handle is made once, the buffer grows only when a picture is
// bigger than any before, the rotation scratch likewise). libjpeg-turbo itself still allocates its per-image working
// memory inside each tjDecompress* call (its pool allocator; not reachable through the TurboJPEG API).
// Ownership/threading: one decoder per stream or thread (NOT thread-safe); it owns its tjhandle.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/decode/frame_error.h"
#include "core/decode/picture_buffer.h"
#include "core/preprocess/letterbox.h"

namespace camtrack::decode {

enum class JpegOutput {
  kAuto,   // yuv420p planes for 4:2:0 JPEGs without rotation, rgb24 otherwise (see above)
  kRgb24,  // always packed RGB24
};

// Every field is set explicitly by the caller (the push frame source copies them from the stream's config); the
// initialisers are neutral values, not defaults: max_pixels 0 is refused.
struct JpegDecoderOptions {
  int64_t max_pixels = 0;  // width × height over this → FrameError "too_large" (> 0; kDefaultMaxPixels)
  // libjpeg warnings (data that ends early, damaged entropy-coded data libjpeg can skip): false = the frame is a
  // FrameError ("truncated"/"corrupt"), decoding stops at the first warning; true = the picture libjpeg produced
  // (missing parts grey) is delivered with PictureInfo::concealed set.
  bool keep_damaged = false;
  bool apply_exif_orientation = true;  // false: pictures as stored (orientation reported as 1)
  JpegOutput output = JpegOutput::kAuto;
};

// What the header says (ReadHeader).
struct JpegHeader {
  int width = 0;    // as stored
  int height = 0;
  int subsampling = -1;  // TJSAMP_* (TJSAMP_420 = 2, …)
  int colorspace = -1;   // TJCS_* (TJCS_YCbCr = 1, …)
  int orientation = 1;   // EXIF orientation (1 when absent or apply_exif_orientation is off)
  int display_width = 0;   // after orientation (width/height swapped for 5..8)
  int display_height = 0;
};

// A DCT scale: the picture is decoded at 1/denom, giving width × height (ceil of the divided size).
struct JpegScale {
  int denom = 1;
  int width = 0;
  int height = 0;
};

class JpegDecoder {
 public:
  // Creates the TurboJPEG decompressor. Throws Error(kInvalidArgument) for max_pixels <= 0, Error(kInternal) when
  // libjpeg-turbo cannot make a handle.
  explicit JpegDecoder(JpegDecoderOptions options);
  ~JpegDecoder();
  JpegDecoder(JpegDecoder&&) noexcept;
  JpegDecoder& operator=(JpegDecoder&&) noexcept;
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  // Steps 1–3 of Decode(): the header and orientation, no pixels. Throws FrameError as Decode() does (including
  // "too_large").
  JpegHeader ReadHeader(const uint8_t* data, size_t size);

  // The strongest of the DCT scales 1/2, 1/4, 1/8 (those tjGetScalingFactors offers) whose output of a
  // width × height picture (as displayed) is at least as large as the letterboxed image of that picture in `spec`
  // (ComputeResizedSize) in both dimensions; 1/1 when none is. Pure; throws Error(kInvalidArgument) for a
  // non-positive size or a bad spec (as ComputeResizedSize).
  static JpegScale ChooseScale(int width, int height, const preprocess::ModelInputSpec& spec);

  // Decodes one frame into *out: at ChooseScale(display size, *spec) when `spec` is given, at full size when it is
  // null. On success out->frame() is the upright picture and out->info() says how it maps back (source size = the
  // displayed full size, scale_denom, orientation). Throws FrameError for bad input (out then holds no picture) and
  // Error(kInternal) when out of memory; the decoder stays usable either way.
  void Decode(const uint8_t* data, size_t size, const preprocess::ModelInputSpec* spec, PictureBuffer* out);

  const JpegDecoderOptions& options() const noexcept { return options_; }

 private:
  struct Impl;
  JpegDecoderOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace camtrack::decode
