// libFuzzer target: the Annex-B reader (core/decode/annexb_reader.h), which splits pushed H.264/HEVC bytes into NAL
// units and access units before anything reaches libavcodec.
//
// Each input is split as H.264 and as HEVC, once NAL by NAL and once access unit by access unit. Properties checked
// besides "no crash, no sanitizer report" (the splitter is noexcept, so a throw terminates and is reported):
//   - every NAL and access unit lies inside the buffer, payload inside its NAL, NAL types in range;
//   - NALs come in order without overlap; access units are contiguous, in order, non-empty, and together cover the
//     buffer from the first start code to the end;
//   - both loops end (the number of units is bounded by the buffer size).
#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "core/decode/annexb_reader.h"
#include "fuzz_input.h"

using camtrack::decode::AnnexBNal;
using camtrack::decode::AnnexBSplitter;
using camtrack::fuzz::Fail;

namespace {

bool Inside(const uint8_t* base, size_t size, const uint8_t* p, size_t n) {
  return p >= base && n <= size && static_cast<size_t>(p - base) <= size - n;
}

void SplitNals(const uint8_t* data, size_t size, bool hevc) {
  AnnexBSplitter s(data, size, hevc);
  AnnexBNal nal;
  const uint8_t* last_end = data;
  size_t count = 0;
  while (s.NextNal(&nal)) {
    if (++count > size) Fail("NextNal returned more NAL units than there are bytes");
    if (!Inside(data, size, nal.data, nal.size)) Fail("NAL outside the buffer");
    if (nal.data < last_end) Fail("NAL units overlap or go backwards");
    if (!Inside(nal.data, nal.size, nal.payload, nal.payload_size)) Fail("NAL payload outside its NAL");
    if (nal.type < -1 || nal.type > (hevc ? 63 : 31)) Fail("NAL type out of range");
    s.IsVcl(nal);
    s.StartsAccessUnit(nal);
    last_end = nal.data + nal.size;
  }
}

void SplitAccessUnits(const uint8_t* data, size_t size, bool hevc) {
  AnnexBSplitter s(data, size, hevc);
  const uint8_t* au = nullptr;
  size_t au_size = 0;
  const uint8_t* expected = nullptr;  // where the next access unit must start (contiguous)
  size_t count = 0;
  while (s.NextAccessUnit(&au, &au_size)) {
    if (++count > size) Fail("NextAccessUnit returned more access units than there are bytes");
    if (au_size == 0) Fail("empty access unit");
    if (!Inside(data, size, au, au_size)) Fail("access unit outside the buffer");
    if (expected != nullptr && au != expected) Fail("access units not contiguous");
    expected = au + au_size;
  }
  if (expected != nullptr && expected != data + size) Fail("access units stop before the end of the buffer");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (bool hevc : {false, true}) {
    SplitNals(data, size, hevc);
    SplitAccessUnits(data, size, hevc);
  }
  return 0;
}
