#include "core/snapshot/jpeg_encoder.h"

#include <turbojpeg.h>

#include <algorithm>
#include <string>

#include "core/common/error.h"

namespace camtrack::snapshot {

JpegEncoder::~JpegEncoder() {
  if (buf_) tjFree(buf_);
  if (handle_) tjDestroy(handle_);
}

void JpegEncoder::Encode(const uint8_t* rgb, int width, int height, int stride, int quality) {
  if (!rgb || width <= 0 || height <= 0 || stride < width * 3)
    throw Error(ErrorCode::kInvalidArgument, "snapshot", "JPEG encoder: no picture to encode");
  if (!handle_) {
    handle_ = tjInitCompress();
    if (!handle_) throw Error(ErrorCode::kInternal, "snapshot", std::string("tjInitCompress: ") + tjGetErrorStr2(nullptr));
  }
  const unsigned long need = tjBufSize(width, height, TJSAMP_420);
  if (need > capacity_) {
    if (buf_) tjFree(buf_);
    buf_ = tjAlloc(int(need));
    capacity_ = buf_ ? need : 0;
    if (!buf_) throw Error(ErrorCode::kInternal, "snapshot", "JPEG encoder: out of memory");
  }
  unsigned long size = capacity_;
  unsigned char* out = buf_;
  const int q = std::clamp(quality, 1, 100);
  if (tjCompress2(handle_, rgb, width, stride, height, TJPF_RGB, &out, &size, TJSAMP_420, q,
                  TJFLAG_NOREALLOC | TJFLAG_FASTDCT) != 0) {
    size_ = 0;
    throw Error(ErrorCode::kInternal, "snapshot", std::string("tjCompress2: ") + tjGetErrorStr2(handle_));
  }
  size_ = size;
}

}  // namespace camtrack::snapshot
