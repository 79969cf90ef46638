#include "decode/picture_buffer.h"

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/mem.h>
}

#include <string>
#include <utility>

#include "common/error.h"

namespace camtrack::decode {

PictureBuffer::PictureBuffer() : frame_(av_frame_alloc()) {
  if (!frame_) throw Error(ErrorCode::kInternal, "decode", "out of memory allocating a picture frame");
}

PictureBuffer::~PictureBuffer() { Release(); }

PictureBuffer::PictureBuffer(PictureBuffer&& other) noexcept
    : frame_(std::exchange(other.frame_, nullptr)),
      storage_(std::exchange(other.storage_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      info_(std::exchange(other.info_, PictureInfo{})) {}

PictureBuffer& PictureBuffer::operator=(PictureBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    frame_ = std::exchange(other.frame_, nullptr);
    storage_ = std::exchange(other.storage_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    info_ = std::exchange(other.info_, PictureInfo{});
  }
  return *this;
}

void PictureBuffer::Release() noexcept {
  // av_frame_free unreferences a libavcodec picture; a view of storage_ has no buffer references, so it frees only
  // the shell. The storage goes after it.
  av_frame_free(&frame_);
  av_free(storage_);
  storage_ = nullptr;
  capacity_ = 0;
}

bool PictureBuffer::has_picture() const noexcept { return frame_ && frame_->data[0] && frame_->width > 0; }

void PictureBuffer::Clear() noexcept {
  if (frame_) av_frame_unref(frame_);  // also resets every field (a storage view has no buffers to release)
  info_ = PictureInfo{};
}

uint8_t* PictureBuffer::Reserve(size_t bytes) {
  Clear();
  if (!frame_) throw Error(ErrorCode::kInvalidState, "decode", "PictureBuffer used after move");
  if (bytes > capacity_) {
    // Round up to 64 KiB so that slightly different sizes (odd dimensions) do not each grow it.
    const size_t want = (bytes + 0xffff) & ~static_cast<size_t>(0xffff);
    av_free(storage_);
    storage_ = static_cast<uint8_t*>(av_malloc(want));
    if (!storage_) {
      capacity_ = 0;
      throw Error(ErrorCode::kInternal, "decode", "out of memory for a " + std::to_string(want) + "-byte picture");
    }
    capacity_ = want;
  }
  return storage_;
}

LetterboxInfo PictureBuffer::ToSource(const LetterboxInfo& of_picture) const noexcept {
  LetterboxInfo out = of_picture;
  out.scale = of_picture.scale / static_cast<float>(info_.scale_denom > 0 ? info_.scale_denom : 1);
  if (info_.source_width > 0 && info_.source_height > 0) {
    out.src_width = info_.source_width;
    out.src_height = info_.source_height;
  }
  return out;
}

}  // namespace camtrack::decode
