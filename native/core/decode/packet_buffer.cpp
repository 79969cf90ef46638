#include "decode/packet_buffer.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/buffer.h>
}

#include <climits>
#include <cstring>
#include <string>

#include "common/error.h"

namespace camtrack::decode {

PacketBuffer::~PacketBuffer() { av_buffer_unref(&buf_); }

const uint8_t* PacketBuffer::Fill(const uint8_t* data, size_t size) {
  if (size > static_cast<size_t>(INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE))
    throw Error(ErrorCode::kInternal, "decode", "pushed frame of " + std::to_string(size) + " bytes is too big");
  // A buffer libavcodec still references (a decoder holding a packet) cannot be overwritten: take a new one then.
  if (!buf_ || size > capacity_ || !av_buffer_is_writable(buf_)) {
    const size_t want = size > capacity_ ? ((size + 0xffff) & ~static_cast<size_t>(0xffff)) : capacity_;
    const size_t alloc = want + AV_INPUT_BUFFER_PADDING_SIZE;
    av_buffer_unref(&buf_);
    capacity_ = 0;
    if (alloc > static_cast<size_t>(INT_MAX) || !(buf_ = av_buffer_alloc(alloc)))
      throw Error(ErrorCode::kInternal, "decode", "out of memory for a " + std::to_string(size) + "-byte packet");
    capacity_ = want;
  }
  if (size > 0) std::memcpy(buf_->data, data, size);
  std::memset(buf_->data + size, 0, AV_INPUT_BUFFER_PADDING_SIZE);
  return buf_->data;
}

void PacketBuffer::Ref(AVPacket* pkt, const uint8_t* at, size_t size) {
  av_packet_unref(pkt);
  pkt->buf = av_buffer_ref(buf_);
  if (!pkt->buf) throw Error(ErrorCode::kInternal, "decode", "out of memory referencing a packet");
  pkt->data = const_cast<uint8_t*>(at);
  pkt->size = static_cast<int>(size);
}

}  // namespace camtrack::decode
