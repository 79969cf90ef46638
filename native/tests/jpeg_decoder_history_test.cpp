// JpegDecoder: a frame's outcome does not depend on the frames decoded before it (docs/push.md).
//
// libjpeg keeps quantization and Huffman tables in its decompressor from one image to the next (JPEG's abbreviated
// datastreams), and TurboJPEG 2.1 offers no call that clears them. A reused handle therefore decoded a JPEG that
// lacks a table with the previous frame's table: a frame without quantization tables "decoded" into a wrong picture,
// a Motion-JPEG frame without Huffman tables (standard tables implied) was read with the previous frame's custom
// ones. The fuzzer found it (the same bytes gave a different outcome on the second decode). Helpers: jpeg_test_util.h.
#include "jpeg_test_util.h"

using namespace ct_jpeg;

namespace {

// `jpeg` without its marker segments of type `marker` (FF `marker`) that come before the first SOS.
Bytes WithoutSegments(const Bytes& jpeg, uint8_t marker) {
  Bytes out(jpeg.begin(), jpeg.begin() + 2);  // SOI
  size_t i = 2;
  while (i + 4 <= jpeg.size() && jpeg[i] == 0xff && jpeg[i + 1] != 0xda) {
    const size_t len = size_t(jpeg[i + 2]) << 8 | jpeg[i + 3];
    if (jpeg[i + 1] != marker) out.insert(out.end(), jpeg.begin() + ptrdiff_t(i), jpeg.begin() + ptrdiff_t(i + 2 + len));
    i += 2 + len;
  }
  out.insert(out.end(), jpeg.begin() + ptrdiff_t(i), jpeg.end());
  return out;
}

int CountSegments(const Bytes& jpeg, uint8_t marker) {
  int n = 0;
  for (size_t i = 0; i + 1 < jpeg.size(); ++i) n += jpeg[i] == 0xff && jpeg[i + 1] == marker;
  return n;
}

// A textured RGB picture (so that the Huffman tables matter).
std::vector<uint8_t> Texture(int w, int h) {
  std::vector<uint8_t> rgb(size_t(w) * h * 3);
  std::mt19937 rng(7);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) rgb[(size_t(y) * w + x) * 3 + c] = uint8_t((x * (c + 1) + y * 3 + rng() % 64) & 0xff);
  return rgb;
}

}  // namespace

CT_TEST(jpeg_without_quantization_tables_fails_the_same_after_a_good_frame) {
  const std::vector<uint8_t> rgb = Texture(96, 64);
  const Bytes good = TurboEncode(rgb.data(), 96, 64, TJSAMP_420);
  const Bytes no_dqt = WithoutSegments(good, 0xdb);
  CT_EXPECT(CountSegments(good, 0xdb) > 0 && CountSegments(no_dqt, 0xdb) == 0);
  PictureBuffer pic;
  JpegDecoder fresh(Options());
  std::string fresh_message;
  CT_EXPECT(FaultOf(fresh, no_dqt, &pic, &fresh_message) == FrameFault::kCorrupt);
  CT_EXPECT(fresh_message.find("Quantization table") != std::string::npos);
  // The same decoder after good frames, and with the good frame in between: the same error each time.
  JpegDecoder reused(Options());
  for (int round = 0; round < 3; ++round) {
    reused.Decode(good.data(), good.size(), nullptr, &pic);
    CT_EXPECT(pic.has_picture());
    std::string message;
    CT_EXPECT(FaultOf(reused, no_dqt, &pic, &message) == FrameFault::kCorrupt);
    CT_EXPECT(message == fresh_message);
  }
}

CT_TEST(motion_jpeg_frame_without_huffman_tables_uses_the_standard_ones_after_a_custom_table_frame) {
  const std::vector<uint8_t> rgb = Texture(96, 64);
  // Baseline TurboJPEG output uses the standard tables; without its DHT segments it is a Motion-JPEG style frame.
  const Bytes standard = TurboEncode(rgb.data(), 96, 64, TJSAMP_420);
  const Bytes mjpeg = WithoutSegments(standard, 0xc4);
  CT_EXPECT(CountSegments(mjpeg, 0xc4) == 0);
  // A frame with its own (optimised) Huffman tables in the same table slots: FFmpeg's mjpeg encoder writes them.
  TempDir dir;
  const Bytes custom = ct_push::ClipFrameJpeg(dir, "videos/walking.mp4", 3, ",scale=96:64", "yuvj420p", 2);
  CT_EXPECT(CountSegments(custom, 0xc4) > 0);

  JpegDecoderOptions o = Options(JpegOutput::kRgb24);
  JpegDecoder fresh(o);
  PictureBuffer want, pic;
  fresh.Decode(standard.data(), standard.size(), nullptr, &want);
  JpegDecoder fresh_mjpeg(o);
  fresh_mjpeg.Decode(mjpeg.data(), mjpeg.size(), nullptr, &pic);
  ct_push::Diff d = ct_push::Compare(pic.frame().data[0], pic.frame().linesize[0], want.frame().data[0], 96, 64, 3);
  CT_EXPECT(d.max == 0);  // standard tables implied: the same picture

  JpegDecoder reused(o);
  for (int round = 0; round < 3; ++round) {
    reused.Decode(custom.data(), custom.size(), nullptr, &pic);
    try {
      reused.Decode(mjpeg.data(), mjpeg.size(), nullptr, &pic);
    } catch (const FrameError& e) {
      throw ct_test::Failure{std::string("the Motion-JPEG frame failed after a custom-table frame: ") + e.what()};
    }
    d = ct_push::Compare(pic.frame().data[0], pic.frame().linesize[0], want.frame().data[0], 96, 64, 3);
    CT_EXPECT(d.max == 0);
  }
}
