#pragma once
// FuzzInput: reads typed values off the front of a libFuzzer input (the parameters a target derives from the bytes),
// leaving the rest as the payload. Reading past the end yields zeros, so every input is usable. Header-only, used
// by the targets in this folder only.
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace camtrack::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(Byte() | (Byte() << 8)); }
  int64_t I64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(Byte()) << (8 * i);
    int64_t s;
    std::memcpy(&s, &v, sizeof s);
    return s;
  }
  float Float() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(Byte()) << (8 * i);
    float f;
    std::memcpy(&f, &v, sizeof f);
    return f;
  }
  // The bytes not read yet.
  const uint8_t* rest() const { return data_ + (pos_ < size_ ? pos_ : size_); }
  size_t rest_size() const { return pos_ < size_ ? size_ - pos_ : 0; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// A violated property: abort with a message (libFuzzer saves the input as crash-*).
[[noreturn]] void Fail(const char* what);

}  // namespace camtrack::fuzz
