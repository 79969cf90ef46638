#pragma once
// PacketBuffer (internal to core/decode): pushed bytes made into libavcodec packets. libavcodec's decoders and
// parsers read up to AV_INPUT_BUFFER_PADDING_SIZE bytes past the end of their input, which the pushed bytes (held
// as they came from JS) do not have; so the bytes are copied once into a padded, reference-counted buffer, and
// packets are references into it (avcodec_send_packet then takes a reference instead of making its own copy).
// The buffer is reused while libavcodec holds no reference to it, and grows only when a frame is bigger than any
// before. Ownership: owns its AVBufferRef. Thread-safety: none (one per decoder).
#include <cstddef>
#include <cstdint>

extern "C" {
struct AVBufferRef;
struct AVPacket;
}

namespace camtrack::decode {

class PacketBuffer {
 public:
  PacketBuffer() = default;
  ~PacketBuffer();
  PacketBuffer(const PacketBuffer&) = delete;
  PacketBuffer& operator=(const PacketBuffer&) = delete;

  // Copies data[0, size) in, zeroes the padding after it, returns where the copy starts. Throws Error(kInternal)
  // when out of memory or size is over INT_MAX - padding (libavcodec packet sizes are int).
  const uint8_t* Fill(const uint8_t* data, size_t size);
  // Makes *pkt (unreferenced first) a reference to [at, at + size) inside the last Fill()'s copy. Throws
  // Error(kInternal) when out of memory.
  void Ref(AVPacket* pkt, const uint8_t* at, size_t size);

 private:
  AVBufferRef* buf_ = nullptr;
  size_t capacity_ = 0;  // usable bytes before the padding
};

}  // namespace camtrack::decode
