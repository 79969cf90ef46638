#pragma once
// PngDecoder: pushed PNG frames decoded by libavcodec (AV_CODEC_ID_PNG), one frame per call.
//
// Per frame, Decode():
//   1. 0 bytes → "empty"; a JPEG / Annex-B signature → "wrong_codec"; no PNG signature → "corrupt";
//   2. reads IHDR (it must be the first chunk: length 13, width and height 1..2^31-1) and rejects a frame over
//      max_pixels before decoding → "too_large";
//   3. walks the chunk structure (length + type + CRC per chunk, bounds-checked) up to IEND: a frame that ends
//      before IEND → "truncated" (libavcodec's decoder would return the rows it got without complaint);
//   4. decodes with CRC checks and errors made fatal (AV_EF_CRCCHECK | AV_EF_EXPLODE): a damaged chunk → "corrupt".
// The picture is libavcodec's frame (rgb24, rgba, gray, pal8, 16-bit formats, …; CpuLetterboxer reads rgb24
// directly and converts the others with swscale), referenced into the caller's PictureBuffer (no copy). PNG has no
// scaled decode: PictureInfo::scale_denom is 1.
//
// Allocation: the packet buffer is reused (PacketBuffer); the picture comes from libavcodec's frame pool.
// Ownership/threading: one decoder per stream or thread (NOT thread-safe); owns its AVCodecContext.
#include <cstddef>
#include <cstdint>

#include "core/decode/frame_error.h"
#include "core/decode/packet_buffer.h"
#include "core/decode/picture_buffer.h"

extern "C" {
struct AVCodecContext;
struct AVPacket;
}

namespace camtrack::decode {

// Set by the caller (no default: 0 is refused).
struct PngDecoderOptions {
  int64_t max_pixels = 0;  // width × height from IHDR over this → "too_large" (> 0; kDefaultMaxPixels)
};

// IHDR, as read by ReadPngHeader.
struct PngHeader {
  int width = 0;
  int height = 0;
  int bit_depth = 0;
  int color_type = 0;
};

// Steps 1–3 of Decode() without decoding: signature, IHDR (and the pixel limit), chunk walk to IEND. Throws
// FrameError; pure otherwise (thread-safe).
PngHeader ReadPngHeader(const uint8_t* data, size_t size, int64_t max_pixels);

class PngDecoder {
 public:
  // Opens libavcodec's PNG decoder. Throws Error(kInvalidArgument) for max_pixels <= 0, Error(kUnsupported) when
  // this FFmpeg has no PNG decoder, Error(kDecode) when it cannot be opened.
  explicit PngDecoder(PngDecoderOptions options);
  ~PngDecoder();
  PngDecoder(const PngDecoder&) = delete;
  PngDecoder& operator=(const PngDecoder&) = delete;

  // Decodes one PNG into *out (info(): source size = picture size, scale 1). Throws FrameError for bad input
  // (out then holds no picture), Error(kInternal) when out of memory; the decoder stays usable.
  void Decode(const uint8_t* data, size_t size, PictureBuffer* out);

 private:
  PngDecoderOptions options_;
  AVCodecContext* dec_ = nullptr;
  AVPacket* pkt_ = nullptr;
  PacketBuffer bytes_;
};

}  // namespace camtrack::decode
