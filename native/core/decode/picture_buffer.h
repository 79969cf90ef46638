#pragma once
// PictureBuffer: the caller-owned home of ONE decoded picture of a pushed frame (JpegDecoder, PngDecoder,
// AnnexBDecoder write into it), in a form preprocess::CpuLetterboxer::Run() reads directly, plus how that picture
// maps back to the full-size coded frame (DCT-scaled JPEG decode, EXIF orientation).
//
// Ownership: the buffer owns an AVFrame shell (allocated once) and, for JPEG output, its pixel storage (grown only
// when a picture needs more, never shrunk: after the first picture of the largest size, decoding into it allocates
// nothing). PNG and video pictures are references to libavcodec's pooled frame buffers, held until the next
// decode into this buffer or its destruction. frame() and everything it points to stay valid until then.
// Thread-safety: none; one buffer per stream (the push frame source keeps one as its current frame).
#include <cstddef>
#include <cstdint>

#include "core/common/geometry.h"

extern "C" {
struct AVFrame;
}

namespace camtrack::decode {

// How the picture in a PictureBuffer relates to the frame that was pushed.
struct PictureInfo {
  // The frame at full size as it is meant to be displayed (after EXIF orientation): the coordinate system results
  // are reported in.
  int source_width = 0;
  int source_height = 0;
  // The picture was decoded at 1/scale_denom of the full size (JPEG DCT scaling: 1, 2, 4 or 8; 1 otherwise), so a
  // picture pixel spans scale_denom × scale_denom source pixels (the last row/column may be partial).
  int scale_denom = 1;
  // EXIF orientation that was applied (1..8; 1 = none). The picture is already upright.
  int orientation = 1;
  // AnnexBDecoder: the caller's tag of the pushed chunk the picture's access unit began in; -1 otherwise.
  int64_t tag = -1;
  // The decoder reported damage it concealed (only delivered when the decoder's keep_damaged option is set).
  bool concealed = false;
};

class PictureBuffer {
 public:
  PictureBuffer();  // throws Error(kInternal) when the AVFrame shell cannot be allocated
  ~PictureBuffer();
  PictureBuffer(PictureBuffer&& other) noexcept;
  PictureBuffer& operator=(PictureBuffer&& other) noexcept;
  PictureBuffer(const PictureBuffer&) = delete;
  PictureBuffer& operator=(const PictureBuffer&) = delete;

  // True once a picture was decoded into the buffer (and no later decode failed half-way).
  bool has_picture() const noexcept;
  // The picture: a software AVFrame (JPEG: yuv420p full-range BT.601 or rgb24; PNG and video: what libavcodec
  // decoded). Hand it to CpuLetterboxer::Run(). Only meaningful when has_picture().
  const AVFrame& frame() const noexcept { return *frame_; }
  const PictureInfo& info() const noexcept { return info_; }

  // The letterbox geometry CpuLetterboxer::Run(frame(), …) returned, restated for the source frame: boxes found in
  // the model input map back with x_src = (x_in - pad_x) / scale into source_width × source_height coordinates.
  // (Pads and the resized image are those of the decoded picture; only the scale and the size change.)
  LetterboxInfo ToSource(const LetterboxInfo& of_picture) const noexcept;

  // Pixel storage owned by the buffer (JPEG output): where it starts and how many bytes it holds. Tests use it to
  // check that decoding the same size again allocates nothing.
  const uint8_t* storage() const noexcept { return storage_; }
  size_t capacity() const noexcept { return capacity_; }

  // ---- decoder side -----------------------------------------------------------------------------------------
  // Drops the current picture (unreferences the frame, resets info()).
  void Clear() noexcept;
  // Clear(), then makes sure the owned storage holds at least `bytes` (reallocating only when it is smaller; the
  // old contents are lost) and returns it, aligned as av_malloc aligns (for SIMD). Throws Error(kInternal) when out
  // of memory.
  uint8_t* Reserve(size_t bytes);
  AVFrame* mutable_frame() noexcept { return frame_; }
  PictureInfo* mutable_info() noexcept { return &info_; }

 private:
  void Release() noexcept;

  AVFrame* frame_ = nullptr;
  uint8_t* storage_ = nullptr;  // av_malloc'ed
  size_t capacity_ = 0;
  PictureInfo info_;
};

}  // namespace camtrack::decode
