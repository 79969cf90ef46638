#include "decode/annexb_reader.h"

namespace camtrack::decode {
namespace {

// Position of the next 00 00 01 at or after `from`, or `size` if none.
size_t FindStartCode3(const uint8_t* d, size_t size, size_t from) noexcept {
  for (size_t i = from; i + 2 < size; ++i) {
    if (d[i + 2] > 1) {
      i += 2;  // d[i+2] can't be part of a start code ending at or before i+2 unless it is 0 or 1
      continue;
    }
    if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) return i;
  }
  return size;
}

}  // namespace

AnnexBSplitter::AnnexBSplitter(const uint8_t* data, size_t size, bool hevc) noexcept
    : data_(data), size_(data ? size : 0), hevc_(hevc) {}

bool AnnexBSplitter::NextNal(AnnexBNal* nal) noexcept {
  const size_t sc = FindStartCode3(data_, size_, pos_);
  if (sc >= size_) {
    pos_ = size_;
    return false;
  }
  size_t begin = sc;
  if (begin > pos_ && data_[begin - 1] == 0) --begin;  // 4-byte start code (zero_byte)
  const size_t payload = sc + 3;
  size_t next = FindStartCode3(data_, size_, payload);
  size_t end = next;
  if (next < size_ && end > payload && data_[end - 1] == 0) --end;  // the next NAL's zero_byte
  // trailing_zero_8bits between NALs belong to neither payload; keep them in this NAL's span (harmless to decoders)
  size_t payload_end = end;
  while (payload_end > payload && data_[payload_end - 1] == 0) --payload_end;
  nal->data = data_ + begin;
  nal->size = end - begin;
  nal->payload = data_ + payload;
  nal->payload_size = payload_end - payload;
  nal->type = -1;
  if (nal->payload_size > 0) nal->type = hevc_ ? (nal->payload[0] >> 1) & 0x3f : nal->payload[0] & 0x1f;
  pos_ = end;
  return true;
}

bool AnnexBSplitter::IsVcl(const AnnexBNal& nal) const noexcept {
  if (nal.type < 0) return false;
  return hevc_ ? nal.type <= 31 : (nal.type >= 1 && nal.type <= 5);
}

bool AnnexBSplitter::StartsAccessUnit(const AnnexBNal& nal) const noexcept {
  const int t = nal.type;
  if (t < 0) return false;
  if (hevc_) {
    if (t <= 31) return nal.payload_size > 2 && (nal.payload[2] & 0x80) != 0;  // first_slice_segment_in_pic_flag
    return (t >= 32 && t <= 35) || t == 39 || (t >= 41 && t <= 44) || (t >= 48 && t <= 55);
  }
  if (t >= 1 && t <= 5) return nal.payload_size > 1 && (nal.payload[1] & 0x80) != 0;  // first_mb_in_slice == 0
  return (t >= 6 && t <= 9) || (t >= 14 && t <= 18);
}

bool AnnexBSplitter::NextAccessUnit(const uint8_t** au, size_t* au_size) noexcept {
  AnnexBNal nal;
  if (has_pending_) {
    nal = pending_;
    has_pending_ = false;
  } else if (!NextNal(&nal)) {
    return false;
  }
  const uint8_t* begin = nal.data;
  const uint8_t* end = nal.data + nal.size;
  bool has_vcl = IsVcl(nal);
  AnnexBNal next;
  while (NextNal(&next)) {
    if (has_vcl && StartsAccessUnit(next)) {
      pending_ = next;
      has_pending_ = true;
      break;
    }
    has_vcl = has_vcl || IsVcl(next);
    end = next.data + next.size;
  }
  *au = begin;
  *au_size = static_cast<size_t>(end - begin);
  return true;
}

}  // namespace camtrack::decode
