#pragma once
// JpegEncoder: packed RGB24 pixels → a baseline JPEG (libjpeg-turbo's TurboJPEG tjCompress2, 4:2:0), into a buffer
// the encoder owns and reuses. The buffer is sized once for the largest picture seen (tjBufSize) and passed with
// TJFLAG_NOREALLOC, so encoding a picture no larger than an earlier one allocates nothing.
//
// Used by SnapshotSlot (snapshot_slot.h) for `stream.snapshot()` / the serve routes' snapshot.jpg and stream.mjpeg.
// Ownership/threading: one encoder per stream; NOT thread-safe (its slot's state machine hands it to one thread at a
// time). Throws Error(kInternal) when TurboJPEG fails (with its message).
#include <cstddef>
#include <cstdint>

namespace camtrack::snapshot {

class JpegEncoder {
 public:
  JpegEncoder() = default;
  ~JpegEncoder();
  JpegEncoder(const JpegEncoder&) = delete;
  JpegEncoder& operator=(const JpegEncoder&) = delete;

  // `rgb`: height rows of `stride` bytes, each starting with width RGB24 pixels. `quality` 1..100 (clamped).
  void Encode(const uint8_t* rgb, int width, int height, int stride, int quality);
  const uint8_t* data() const noexcept { return buf_; }
  size_t size() const noexcept { return size_; }

 private:
  void* handle_ = nullptr;  // tjhandle, made at the first Encode()
  uint8_t* buf_ = nullptr;  // tjAlloc'd, capacity_ bytes
  unsigned long capacity_ = 0;
  size_t size_ = 0;
};

}  // namespace camtrack::snapshot
