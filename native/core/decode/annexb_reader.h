#pragma once
// AnnexBSplitter: splits an in-memory H.264 / HEVC Annex-B elementary stream (start-code delimited NAL units,
// e.g. `ffmpeg -c:v copy -bsf:v h264_mp4toannexb -f h264`) into access units (one coded picture with its
// parameter sets / SEI), so each can be fed to a decoder as one packet with its own timestamp.
//
// Access-unit boundaries follow H.264 7.4.1.2.3 / HEVC 7.4.2.4.4: a new AU starts, once the current one has a
// picture (VCL NAL), at an AUD, parameter set, prefix SEI or reserved "first in AU" NAL type, or at the first
// slice of a new picture (H.264 first_mb_in_slice == 0; HEVC first_slice_segment_in_pic_flag == 1).
// Ownership: borrows the buffer (the caller keeps it alive and unmodified); returned views point into it.
// No allocation. Thread-safety: one user per splitter.
#include <cstddef>
#include <cstdint>

namespace camtrack::decode {

// One NAL unit found in an Annex-B buffer: `data` starts at its first start-code byte, `payload` at its header.
struct AnnexBNal {
  const uint8_t* data = nullptr;  // first byte of the start code (00 00 01 or 00 00 00 01)
  size_t size = 0;                // start code + NAL bytes, up to the next start code
  const uint8_t* payload = nullptr;
  size_t payload_size = 0;
  int type = -1;  // nal_unit_type (H.264: 5 bits; HEVC: 6 bits)
};

class AnnexBSplitter {
 public:
  AnnexBSplitter(const uint8_t* data, size_t size, bool hevc) noexcept;

  // Next NAL unit; false at the end. Bytes before the first start code are skipped.
  bool NextNal(AnnexBNal* nal) noexcept;
  // Next access unit as one span [*au, *au + *au_size) of the buffer; false at the end.
  bool NextAccessUnit(const uint8_t** au, size_t* au_size) noexcept;

  // Classification helpers (exposed for tests): is `nal` a picture (VCL) NAL, and does it start a new AU when the
  // current AU already holds a picture?
  bool IsVcl(const AnnexBNal& nal) const noexcept;
  bool StartsAccessUnit(const AnnexBNal& nal) const noexcept;

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;  // next byte to scan for a start code
  bool hevc_;
  AnnexBNal pending_{};  // a NAL read ahead by NextAccessUnit (belongs to the next AU)
  bool has_pending_ = false;
};

}  // namespace camtrack::decode
