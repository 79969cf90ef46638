#include "decode/exif_orientation.h"

#include <algorithm>
#include <cstring>

namespace camtrack::decode {
namespace {

// A bounds-checked view of the TIFF structure inside an APP1 Exif segment. Offsets are relative to its start.
class TiffReader {
 public:
  TiffReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  // Parses the byte-order mark and the magic number; false when it is not TIFF.
  bool Init() {
    if (size_ < 8) return false;
    if (data_[0] == 'I' && data_[1] == 'I') {
      little_ = true;
    } else if (data_[0] == 'M' && data_[1] == 'M') {
      little_ = false;
    } else {
      return false;
    }
    uint16_t magic = 0;
    return U16(2, &magic) && magic == 42;
  }
  bool U16(size_t at, uint16_t* v) const {
    if (at > size_ || size_ - at < 2) return false;
    const uint8_t* p = data_ + at;
    *v = little_ ? static_cast<uint16_t>(p[0] | p[1] << 8) : static_cast<uint16_t>(p[0] << 8 | p[1]);
    return true;
  }
  bool U32(size_t at, uint32_t* v) const {
    if (at > size_ || size_ - at < 4) return false;
    const uint8_t* p = data_ + at;
    *v = little_ ? (uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24)
                 : (uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]));
    return true;
  }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  bool little_ = true;
};

// Orientation from the TIFF structure of an Exif block (IFD0 only, as EXIF puts the primary image's tags there).
int OrientationFromTiff(const uint8_t* tiff, size_t size) {
  TiffReader r(tiff, size);
  if (!r.Init()) return 1;
  uint32_t ifd0 = 0;
  if (!r.U32(4, &ifd0) || ifd0 < 8) return 1;
  uint16_t count = 0;
  if (!r.U16(ifd0, &count)) return 1;
  constexpr uint16_t kOrientationTag = 0x0112;
  constexpr uint16_t kShort = 3, kLong = 4;
  for (uint32_t i = 0; i < count; ++i) {
    const size_t entry = static_cast<size_t>(ifd0) + 2 + 12 * static_cast<size_t>(i);
    uint16_t tag = 0, type = 0;
    uint32_t n = 0;
    if (!r.U16(entry, &tag) || !r.U16(entry + 2, &type) || !r.U32(entry + 4, &n)) return 1;  // runs off the block
    if (tag != kOrientationTag) continue;
    if (n != 1) return 1;
    uint32_t value = 0;
    if (type == kShort) {
      uint16_t v16 = 0;
      if (!r.U16(entry + 8, &v16)) return 1;
      value = v16;
    } else if (type == kLong) {  // not what the standard says (SHORT), but written by some tools
      if (!r.U32(entry + 8, &value)) return 1;
    } else {
      return 1;
    }
    return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
  }
  return 1;
}

}  // namespace

int ReadJpegExifOrientation(const uint8_t* data, size_t size) noexcept {
  if (!data || size < 4 || data[0] != 0xff || data[1] != 0xd8) return 1;
  size_t pos = 2;
  // Each iteration consumes at least one byte, so the walk ends within `size` steps.
  while (pos < size) {
    if (data[pos] != 0xff) return 1;  // not at a marker: malformed (or entropy data): stop looking
    while (pos < size && data[pos] == 0xff) ++pos;  // fill bytes
    if (pos >= size) return 1;
    const uint8_t marker = data[pos++];
    if (marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;  // no length field
    if (marker == 0xda || marker == 0xd9) return 1;  // start of scan / end of image: no Exif before the pixels
    if (size - pos < 2) return 1;
    const size_t length = static_cast<size_t>(data[pos]) << 8 | data[pos + 1];  // includes the 2 length bytes
    if (length < 2 || length > size - pos) return 1;
    const uint8_t* payload = data + pos + 2;
    const size_t payload_size = length - 2;
    static const uint8_t kExif[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (marker == 0xe1 && payload_size >= 6 && std::memcmp(payload, kExif, 6) == 0)
      return OrientationFromTiff(payload + 6, payload_size - 6);  // the first Exif block decides
    pos += length;
  }
  return 1;
}

void OrientPixels(const uint8_t* src, ptrdiff_t src_pitch, int w, int h, int bpp, int orientation, uint8_t* dst,
                  ptrdiff_t dst_pitch) noexcept {
  if (w <= 0 || h <= 0 || bpp <= 0) return;
  const ptrdiff_t W = w, H = h, B = bpp, D = dst_pitch;
  // Destination of source pixel (x, y) = start + x * step_x + y * step_y (derivation: exif_orientation.h's table,
  // e.g. 6 = rotate 90 clockwise puts source (x, y) at displayed (H-1-y, x)).
  uint8_t* start = dst;
  ptrdiff_t step_x = B, step_y = D;
  switch (orientation) {
    case 2: start = dst + (W - 1) * B, step_x = -B, step_y = D; break;
    case 3: start = dst + (H - 1) * D + (W - 1) * B, step_x = -B, step_y = -D; break;
    case 4: start = dst + (H - 1) * D, step_x = B, step_y = -D; break;
    case 5: start = dst, step_x = D, step_y = B; break;
    case 6: start = dst + (H - 1) * B, step_x = D, step_y = -B; break;
    case 7: start = dst + (W - 1) * D + (H - 1) * B, step_x = -D, step_y = -B; break;
    case 8: start = dst + (W - 1) * D, step_x = -D, step_y = B; break;
    default:  // 1: row copies
      for (int y = 0; y < h; ++y) std::memcpy(dst + y * D, src + y * src_pitch, static_cast<size_t>(W * B));
      return;
  }
  // Tiles keep both the rows read and the columns written (rotations) in cache.
  constexpr int kTile = 32;
  for (int ty = 0; ty < h; ty += kTile) {
    const int y_end = std::min(h, ty + kTile);
    for (int tx = 0; tx < w; tx += kTile) {
      const int x_end = std::min(w, tx + kTile);
      for (int y = ty; y < y_end; ++y) {
        const uint8_t* s = src + y * src_pitch + tx * B;
        uint8_t* d = start + y * step_y + tx * step_x;
        if (bpp == 3) {
          for (int x = tx; x < x_end; ++x, s += 3, d += step_x) d[0] = s[0], d[1] = s[1], d[2] = s[2];
        } else if (bpp == 1) {
          for (int x = tx; x < x_end; ++x, ++s, d += step_x) *d = *s;
        } else {
          for (int x = tx; x < x_end; ++x, s += B, d += step_x) std::memcpy(d, s, static_cast<size_t>(B));
        }
      }
    }
  }
}

}  // namespace camtrack::decode
