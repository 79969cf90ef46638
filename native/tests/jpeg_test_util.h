#pragma once
// Helpers of jpeg_decoder_test.cpp, jpeg_decoder_faults_test.cpp (one file split in two to keep each under 500 lines).
#include <turbojpeg.h>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/decode/exif_orientation.h"
#include "core/decode/jpeg_decoder.h"
#include "core/preprocess/letterbox.h"
#include "push_fixtures.h"
#include "test_main.h"

using camtrack::decode::FrameError;
using camtrack::decode::FrameFault;
using camtrack::decode::JpegDecoder;
using camtrack::decode::JpegDecoderOptions;
using camtrack::decode::JpegOutput;
using camtrack::decode::JpegScale;
using camtrack::decode::PictureBuffer;
using camtrack::preprocess::LetterboxAlign;
using camtrack::preprocess::ModelInputSpec;
using ct_push::Bytes;
using ct_push::TempDir;

namespace ct_jpeg {

// Tolerances of the pixel comparisons against FFmpeg's decode of the same JPEG. Both decoders implement accurate
// integer IDCTs (libjpeg-turbo's islow, FFmpeg's simple IDCT), so planes differ by rounding only; rgb24 adds two
// different chroma upsamplers (libjpeg-turbo's "fancy" triangular filter vs swscale's), which differ on colour edges.
// Measured on the inputs below (FFmpeg 5.1, libjpeg-turbo 2.1.5): planes max |Δ| 1, mean |Δ| <= 0.025; rgb24 mean
// |Δ| <= 0.82 with <= 0.64 % of the samples more than 8 apart (dog.jpg, 4:4:0; 4:2:0 frames <= 0.04 %). Limits:
//   yuv420p planes (no colour conversion on either side): max |Δ| <= kPlaneMax, mean |Δ| <= kPlaneMean;
//   rgb24: mean |Δ| <= kRgbMean and at most kRgbOverFraction of the samples off by more than kRgbOverThreshold.
constexpr int kPlaneMax = 2;
constexpr double kPlaneMean = 0.1;
constexpr double kRgbMean = 1.5;
constexpr int kRgbOverThreshold = 8;
constexpr double kRgbOverFraction = 0.01;

inline ModelInputSpec Spec(int size, LetterboxAlign align = LetterboxAlign::kCenter) {
  ModelInputSpec s;
  s.width = size;
  s.height = size;
  s.align = align;
  return s;
}

inline JpegDecoderOptions Options(JpegOutput output = JpegOutput::kAuto) {
  JpegDecoderOptions o;
  o.max_pixels = camtrack::decode::kDefaultMaxPixels;
  o.keep_damaged = false;
  o.apply_exif_orientation = true;
  o.output = output;
  return o;
}

// The fault of the FrameError Decode() throws, or a test failure when it throws none / something else.
inline FrameFault FaultOf(JpegDecoder& dec, const Bytes& b, PictureBuffer* pic, std::string* message = nullptr) {
  try {
    dec.Decode(b.data(), b.size(), nullptr, pic);
  } catch (const FrameError& e) {
    if (message) *message = e.what();
    CT_EXPECT(e.code() == camtrack::ErrorCode::kDecode || e.code() == camtrack::ErrorCode::kUnsupported);
    CT_EXPECT(std::string(e.stage()) == "decode");
    CT_EXPECT(!pic->has_picture());
    return e.fault();
  }
  throw ct_test::Failure{"expected a FrameError, the frame decoded"};
}

// An APP1 Exif segment holding IFD0 with one Orientation entry (SHORT, or LONG when `as_long`).
inline Bytes ExifSegment(int orientation, bool big_endian, bool as_long = false) {
  uint8_t tiff[64] = {};
  size_t n = 0;
  auto u16 = [&](unsigned v) {
    tiff[n++] = uint8_t(big_endian ? v >> 8 : v);
    tiff[n++] = uint8_t(big_endian ? v : v >> 8);
  };
  auto u32 = [&](uint32_t v) {
    if (big_endian) u16(v >> 16), u16(v & 0xffff);
    else u16(v & 0xffff), u16(v >> 16);
  };
  tiff[n++] = big_endian ? 'M' : 'I';
  tiff[n++] = big_endian ? 'M' : 'I';
  u16(42);
  u32(8);      // IFD0 right after the header
  u16(2);      // two entries: an unrelated one first (ImageDescription offset), then Orientation
  u16(0x010e), u16(2), u32(4), u32(0);
  u16(0x0112), u16(as_long ? 4 : 3), u32(1);
  if (as_long) u32(uint32_t(orientation));
  else u16(unsigned(orientation)), u16(0);
  u32(0);  // no next IFD
  const size_t len = 2 + 6 + n;  // the length field counts itself
  uint8_t seg[80] = {0xff, 0xe1, uint8_t(len >> 8), uint8_t(len), 'E', 'x', 'i', 'f', 0, 0};
  std::memcpy(seg + 10, tiff, n);
  return Bytes(seg, seg + 10 + n);
}

// `jpeg` with `segment` inserted after its APP0 (JFIF) segment when it has one, else right after SOI.
inline Bytes WithSegment(const Bytes& jpeg, const Bytes& segment) {
  size_t at = 2;
  if (jpeg.size() > 6 && jpeg[2] == 0xff && jpeg[3] == 0xe0) at = 4 + (size_t(jpeg[4]) << 8 | jpeg[5]);
  Bytes out(jpeg.begin(), jpeg.begin() + static_cast<ptrdiff_t>(at));
  out.insert(out.end(), segment.begin(), segment.end());
  out.insert(out.end(), jpeg.begin() + static_cast<ptrdiff_t>(at), jpeg.end());
  return out;
}

// Offset of the first SOFn marker's segment (FF C0..C3), or 0.
inline size_t FindSof(const Bytes& j) {
  for (size_t i = 2; i + 9 < j.size(); ++i) {
    if (j[i] == 0xff && j[i + 1] >= 0xc0 && j[i + 1] <= 0xc3) return i;
  }
  return 0;
}

// libjpeg-turbo's own encoder: `rgb` (w × h, packed) as a JPEG with `subsamp` (TJSAMP_*).
inline Bytes TurboEncode(const uint8_t* rgb, int w, int h, int subsamp, int quality = 90, int pixel_format = TJPF_RGB) {
  tjhandle c = tjInitCompress();
  unsigned char* out = nullptr;
  unsigned long size = 0;
  const int rc = tjCompress2(c, rgb, w, 0, h, pixel_format, &out, &size, subsamp, quality, TJFLAG_ACCURATEDCT);
  std::string err = rc ? tjGetErrorStr2(c) : "";
  Bytes b;
  if (rc == 0) b.assign(out, out + size);
  tjFree(out);
  tjDestroy(c);
  if (rc != 0) throw ct_test::Failure{"tjCompress2: " + err};
  return b;
}

// A picture in `pic` compared with FFmpeg's decode of the same JPEG file.
inline void ExpectLikeFfmpeg(const TempDir& dir, const std::string& jpeg_path, const PictureBuffer& pic, const char* what) {
  const AVFrame& f = pic.frame();
  if (f.format == AV_PIX_FMT_YUV420P) {
    const Bytes ref = ct_push::FfmpegDecodeRaw(dir, jpeg_path, "yuvj420p");
    const int cw = (f.width + 1) / 2, ch = (f.height + 1) / 2;
    CT_EXPECT(ref.size() == size_t(f.width) * f.height + 2 * size_t(cw) * ch);
    const uint8_t* planes[3] = {ref.data(), ref.data() + size_t(f.width) * f.height,
                                ref.data() + size_t(f.width) * f.height + size_t(cw) * ch};
    for (int p = 0; p < 3; ++p) {
      const int w = p ? cw : f.width, h = p ? ch : f.height;
      const ct_push::Diff d = ct_push::Compare(f.data[p], f.linesize[p], planes[p], w, h, 1);
      std::printf("      %s plane %d: max |d| %d, mean |d| %.3f\n", what, p, d.max, d.mean);
      CT_EXPECT(d.max <= kPlaneMax);
      CT_EXPECT(d.mean <= kPlaneMean);
    }
  } else {
    CT_EXPECT(f.format == AV_PIX_FMT_RGB24);
    const Bytes ref = ct_push::FfmpegDecodeRaw(dir, jpeg_path, "rgb24");
    CT_EXPECT(ref.size() == size_t(f.width) * f.height * 3);
    const ct_push::Diff d = ct_push::Compare(f.data[0], f.linesize[0], ref.data(), f.width, f.height, 3,
                                             kRgbOverThreshold);
    std::printf("      %s rgb24: max |d| %d, mean |d| %.3f, > %d: %.4f%%\n", what, d.max, d.mean, kRgbOverThreshold,
                100 * d.over);
    CT_EXPECT(d.mean <= kRgbMean);
    CT_EXPECT(d.over <= kRgbOverFraction);
  }
}

}  // namespace ct_jpeg
