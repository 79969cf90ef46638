// decode::JpegDecoder (pushed JPEG frames, issue 10): DCT-scale choice, pixels against FFmpeg's own decode of the
// same JPEG, EXIF orientation 1..8, every kind of bad input as a coded FrameError, no buffer growth on repeat, and
// the letterbox geometry of a scaled picture mapped back to the source frame.
//
// Inputs are made at test time (push_fixtures.h): frames of the shared clips encoded by FFmpeg's mjpeg encoder (4K by
// scaling a 1080p frame up), JPEGs encoded by libjpeg-turbo itself (tjCompress2), and the shared images.
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

namespace {

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

ModelInputSpec Spec(int size, LetterboxAlign align = LetterboxAlign::kCenter) {
  ModelInputSpec s;
  s.width = size;
  s.height = size;
  s.align = align;
  return s;
}

JpegDecoderOptions Options(JpegOutput output = JpegOutput::kAuto) {
  JpegDecoderOptions o;
  o.max_pixels = camtrack::decode::kDefaultMaxPixels;
  o.keep_damaged = false;
  o.apply_exif_orientation = true;
  o.output = output;
  return o;
}

// The fault of the FrameError Decode() throws, or a test failure when it throws none / something else.
FrameFault FaultOf(JpegDecoder& dec, const Bytes& b, PictureBuffer* pic, std::string* message = nullptr) {
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
Bytes ExifSegment(int orientation, bool big_endian, bool as_long = false) {
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
Bytes WithSegment(const Bytes& jpeg, const Bytes& segment) {
  size_t at = 2;
  if (jpeg.size() > 6 && jpeg[2] == 0xff && jpeg[3] == 0xe0) at = 4 + (size_t(jpeg[4]) << 8 | jpeg[5]);
  Bytes out(jpeg.begin(), jpeg.begin() + static_cast<ptrdiff_t>(at));
  out.insert(out.end(), segment.begin(), segment.end());
  out.insert(out.end(), jpeg.begin() + static_cast<ptrdiff_t>(at), jpeg.end());
  return out;
}

// Offset of the first SOFn marker's segment (FF C0..C3), or 0.
size_t FindSof(const Bytes& j) {
  for (size_t i = 2; i + 9 < j.size(); ++i) {
    if (j[i] == 0xff && j[i + 1] >= 0xc0 && j[i + 1] <= 0xc3) return i;
  }
  return 0;
}

// libjpeg-turbo's own encoder: `rgb` (w × h, packed) as a JPEG with `subsamp` (TJSAMP_*).
Bytes TurboEncode(const uint8_t* rgb, int w, int h, int subsamp, int quality = 90, int pixel_format = TJPF_RGB) {
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
void ExpectLikeFfmpeg(const TempDir& dir, const std::string& jpeg_path, const PictureBuffer& pic, const char* what) {
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

}  // namespace

// ---- scale choice --------------------------------------------------------------------------------------------

CT_TEST(jpeg_scale_choice_table) {
  // Ground truth, by hand: the letterboxed size r·w × r·h with r = min(S/w, S/h), and the strongest 1/d with
  // ceil(w/d) >= it and ceil(h/d) >= it (d in 1, 2, 4, 8).
  struct Row {
    int w, h, model, denom, out_w, out_h;
  };
  const Row rows[] = {
      {1280, 720, 416, 2, 640, 360},    // letterboxed 416x234; 1/4 = 320x180 too small
      {1920, 1080, 416, 4, 480, 270},   // letterboxed 416x234 (the example)
      {3840, 2160, 416, 8, 480, 270},   // letterboxed 416x234
      {1280, 720, 640, 2, 640, 360},    // letterboxed 640x360: 1/2 matches exactly
      {1920, 1080, 640, 2, 960, 540},   // letterboxed 640x360; 1/4 = 480x270 too small
      {3840, 2160, 640, 4, 960, 540},   // letterboxed 640x360
      {1080, 1920, 416, 4, 270, 480},   // portrait: letterboxed 234x416
      {2160, 3840, 640, 4, 540, 960},   // portrait 4K
      {320, 240, 640, 1, 320, 240},     // smaller than the model: never scaled down
      {810, 1080, 416, 2, 405, 540},    // bus.jpg: letterboxed 312x416; 1/4 = 203x270 too small
      {1921, 1081, 416, 4, 481, 271},   // odd sizes: ceil
      {8000, 8000, 320, 8, 1000, 1000}, // 1/8 is the strongest offered
  };
  for (LetterboxAlign align : {LetterboxAlign::kCenter, LetterboxAlign::kTopLeft}) {
    for (const Row& r : rows) {
      const JpegScale s = JpegDecoder::ChooseScale(r.w, r.h, Spec(r.model, align));
      if (s.denom != r.denom || s.width != r.out_w || s.height != r.out_h) {
        std::printf("      %dx%d into %d: got 1/%d %dx%d, want 1/%d %dx%d\n", r.w, r.h, r.model, s.denom, s.width,
                    s.height, r.denom, r.out_w, r.out_h);
      }
      CT_EXPECT(s.denom == r.denom && s.width == r.out_w && s.height == r.out_h);
      const auto target = camtrack::preprocess::ComputeResizedSize(r.w, r.h, Spec(r.model, align));
      if (s.denom > 1) CT_EXPECT(s.width >= target.width && s.height >= target.height);
    }
  }
  CT_EXPECT(ct_test::ThrowsCode(camtrack::ErrorCode::kInvalidArgument,
                                [] { JpegDecoder::ChooseScale(0, 10, Spec(416)); }));
}

// ---- pixels against FFmpeg ----------------------------------------------------------------------------------

CT_TEST(jpeg_full_scale_decode_matches_ffmpeg_on_clip_frames) {
  TempDir dir;
  JpegDecoder dec(Options());
  PictureBuffer pic;
  struct Clip {
    const char* path;
    int frame, w, h;
  };
  const Clip clips[] = {{"videos/walking.mp4", 10, 1280, 720},
                        {"videos/mmtracking-demo.mp4", 4, 1920, 1080},
                        {"videos/car-detection.mp4", 20, 768, 432}};
  for (const Clip& c : clips) {
    const Bytes jpeg = ct_push::ClipFrameJpeg(dir, c.path, c.frame);
    const std::string path = dir / "clip.jpg";
    ct_push::WriteFile(path, jpeg);
    dec.Decode(jpeg.data(), jpeg.size(), nullptr, &pic);  // full scale
    CT_EXPECT(pic.frame().width == c.w && pic.frame().height == c.h);
    CT_EXPECT(pic.frame().format == AV_PIX_FMT_YUV420P);  // mjpeg yuvj420p → the planar path
    CT_EXPECT(pic.frame().color_range == AVCOL_RANGE_JPEG);
    CT_EXPECT(pic.info().scale_denom == 1 && pic.info().source_width == c.w && pic.info().source_height == c.h);
    ExpectLikeFfmpeg(dir, path, pic, c.path);
    // The rgb24 form of the same JPEG.
    JpegDecoder rgb(Options(JpegOutput::kRgb24));
    PictureBuffer pic_rgb;
    rgb.Decode(jpeg.data(), jpeg.size(), nullptr, &pic_rgb);
    CT_EXPECT(pic_rgb.frame().format == AV_PIX_FMT_RGB24);
    ExpectLikeFfmpeg(dir, path, pic_rgb, c.path);
  }
}

CT_TEST(jpeg_full_scale_decode_matches_ffmpeg_on_shared_images_and_other_samplings) {
  TempDir dir;
  JpegDecoder dec(Options());
  PictureBuffer pic;
  // The shared images (SOURCES.md sizes): bus, zidane, street are 4:2:0 (planar path); dog.jpg is 4:4:0 (rgb24).
  struct Image {
    const char* path;
    int w, h, format;
  };
  const Image images[] = {{"images/bus.jpg", 810, 1080, AV_PIX_FMT_YUV420P},
                          {"images/zidane.jpg", 1280, 720, AV_PIX_FMT_YUV420P},
                          {"images/dog.jpg", 768, 576, AV_PIX_FMT_RGB24},
                          {"images/street.jpg", 1330, 1330, AV_PIX_FMT_YUV420P}};
  for (const Image& im : images) {
    const std::string path = ct_test::AssetPath(im.path);
    const Bytes jpeg = ct_push::ReadFile(path);
    dec.Decode(jpeg.data(), jpeg.size(), nullptr, &pic);
    CT_EXPECT(pic.frame().width == im.w && pic.frame().height == im.h);
    CT_EXPECT(pic.frame().format == im.format);
    ExpectLikeFfmpeg(dir, path, pic, im.path);
  }
  // FFmpeg's mjpeg encoder at 4:2:2 and 4:4:4 (cameras often send 4:2:2): the rgb24 path.
  for (const char* fmt : {"yuvj422p", "yuvj444p"}) {
    const Bytes jpeg = ct_push::ClipFrameJpeg(dir, "videos/walking.mp4", 4, "", fmt);
    const std::string path = dir / (std::string(fmt) + ".jpg");
    ct_push::WriteFile(path, jpeg);
    dec.Decode(jpeg.data(), jpeg.size(), nullptr, &pic);
    CT_EXPECT(pic.frame().format == AV_PIX_FMT_RGB24);
    ExpectLikeFfmpeg(dir, path, pic, fmt);
  }
  // libjpeg-turbo's own encoder (4:2:0 and 4:2:2) from FFmpeg's rgb24 decode of a clip frame.
  const Bytes src = ct_push::ClipFrameJpeg(dir, "videos/car-detection.mp4", 12);
  ct_push::WriteFile(dir / "src.jpg", src);
  const Bytes rgb = ct_push::FfmpegDecodeRaw(dir, dir / "src.jpg", "rgb24");
  for (int sub : {TJSAMP_420, TJSAMP_422}) {
    const Bytes jpeg = TurboEncode(rgb.data(), 768, 432, sub);
    const std::string path = dir / "turbo.jpg";
    ct_push::WriteFile(path, jpeg);
    dec.Decode(jpeg.data(), jpeg.size(), nullptr, &pic);
    CT_EXPECT(pic.frame().format == (sub == TJSAMP_420 ? AV_PIX_FMT_YUV420P : AV_PIX_FMT_RGB24));
    ExpectLikeFfmpeg(dir, path, pic, sub == TJSAMP_420 ? "libjpeg-turbo 4:2:0" : "libjpeg-turbo 4:2:2");
  }
  // Greyscale (libjpeg-turbo's encoder; FFmpeg's mjpeg encoder writes no greyscale JPEG): rgb24 with R = G = B.
  const Bytes grey = TurboEncode(rgb.data(), 768, 432, TJSAMP_GRAY);
  dec.Decode(grey.data(), grey.size(), nullptr, &pic);
  CT_EXPECT(pic.frame().format == AV_PIX_FMT_RGB24);
  const uint8_t* row = pic.frame().data[0] + 100 * pic.frame().linesize[0];
  for (int x = 0; x < pic.frame().width; ++x) CT_EXPECT(row[3 * x] == row[3 * x + 1] && row[3 * x] == row[3 * x + 2]);
}

CT_TEST(jpeg_scaled_decode_is_the_same_picture_at_the_chosen_size) {
  // 720p, 1080p and 4K (1080p scaled up by FFmpeg) into a 416 and a 640 model: the picture has the chosen size,
  // and it is the same picture as the full decode box-averaged by the scale (the scaled IDCT is close to that).
  TempDir dir;
  JpegDecoder dec(Options());
  struct Input {
    const char* clip;
    int frame;
    const char* vf;
    int w, h;
  };
  const Input inputs[] = {{"videos/walking.mp4", 3, "", 1280, 720},
                          {"videos/mmtracking-demo.mp4", 4, "", 1920, 1080},
                          {"videos/mmtracking-demo.mp4", 4, ",scale=3840:2160:flags=bicubic", 3840, 2160}};
  for (const Input& in : inputs) {
    const Bytes jpeg = ct_push::ClipFrameJpeg(dir, in.clip, in.frame, in.vf);
    PictureBuffer full;
    dec.Decode(jpeg.data(), jpeg.size(), nullptr, &full);
    for (int model : {416, 640}) {
      const ModelInputSpec spec = Spec(model);
      const JpegScale want = JpegDecoder::ChooseScale(in.w, in.h, spec);
      PictureBuffer pic;
      dec.Decode(jpeg.data(), jpeg.size(), &spec, &pic);
      CT_EXPECT(pic.frame().width == want.width && pic.frame().height == want.height);
      CT_EXPECT(pic.info().scale_denom == want.denom);
      CT_EXPECT(pic.info().source_width == in.w && pic.info().source_height == in.h);
      // Luma: box average of the full decode over d × d blocks (whole blocks only).
      const int d = want.denom;
      double sum = 0;
      int n = 0;
      for (int y = 0; y + 1 < in.h / d; ++y) {
        for (int x = 0; x + 1 < in.w / d; ++x) {
          int acc = 0;
          for (int j = 0; j < d; ++j)
            for (int i = 0; i < d; ++i) acc += full.frame().data[0][(y * d + j) * full.frame().linesize[0] + x * d + i];
          const double box = double(acc) / (d * d);
          sum += std::fabs(box - pic.frame().data[0][y * pic.frame().linesize[0] + x]);
          ++n;
        }
      }
      const double mean = sum / n;
      std::printf("      %dx%d into %d: 1/%d → %dx%d, mean |scaled - box(full)| %.2f\n", in.w, in.h, model, d,
                  want.width, want.height, mean);
      CT_EXPECT(mean <= 1.0);  // measured 0.01–0.19
    }
  }
}

// ---- EXIF orientation ---------------------------------------------------------------------------------------

CT_TEST(orient_pixels_follows_the_exif_table) {
  // A 3 × 2 picture   a b c      displayed, per EXIF's definitions (hand-written, not derived from the code):
  //                   d e f
  const uint8_t src[6] = {'a', 'b', 'c', 'd', 'e', 'f'};
  const char* want[9] = {nullptr,
                         "abcdef",   // 1 as stored (3 × 2)
                         "cbafed",   // 2 mirrored left-right
                         "fedcba",   // 3 rotated 180
                         "defabc",   // 4 mirrored top-bottom
                         "adbecf",   // 5 transposed (2 × 3): rows "ad", "be", "cf"
                         "daebfc",   // 6 rotated 90° clockwise: rows "da", "eb", "fc"
                         "fcebda",   // 7 transverse: rows "fc", "eb", "da"
                         "cfbead"};  // 8 rotated 90° counter-clockwise: rows "cf", "be", "ad"
  for (int o = 1; o <= 8; ++o) {
    const bool swap = camtrack::decode::OrientationSwapsAxes(o);
    uint8_t dst[6] = {};
    camtrack::decode::OrientPixels(src, 3, 3, 2, 1, o, dst, swap ? 2 : 3);
    CT_EXPECT(std::string(reinterpret_cast<char*>(dst), 6) == want[o]);
  }
}

CT_TEST(jpeg_exif_orientation_1_to_8_turns_the_picture_upright) {
  TempDir dir;
  // An odd-sized picture (so that a transposition is not mistaken for the identity), 4:2:0.
  const Bytes base = ct_push::ClipFrameJpeg(dir, "videos/walking.mp4", 6, ",scale=333:187");
  JpegDecoder dec(Options());
  PictureBuffer stored;
  JpegDecoderOptions as_stored = Options(JpegOutput::kRgb24);
  as_stored.apply_exif_orientation = false;
  JpegDecoder plain(as_stored);
  plain.Decode(base.data(), base.size(), nullptr, &stored);
  CT_EXPECT(stored.frame().width == 333 && stored.frame().height == 187);
  for (int o = 1; o <= 8; ++o) {
    for (bool big_endian : {false, true}) {
      const Bytes jpeg = WithSegment(base, ExifSegment(o, big_endian, /*as_long=*/o == 7));
      CT_EXPECT(camtrack::decode::ReadJpegExifOrientation(jpeg.data(), jpeg.size()) == o);
      PictureBuffer pic;
      dec.Decode(jpeg.data(), jpeg.size(), nullptr, &pic);
      const bool swap = camtrack::decode::OrientationSwapsAxes(o);
      const int w = swap ? 187 : 333, h = swap ? 333 : 187;
      CT_EXPECT(pic.frame().width == w && pic.frame().height == h);
      CT_EXPECT(pic.info().orientation == o && pic.info().source_width == w && pic.info().source_height == h);
      // Orientation 1 stays on the planar path; the others are rgb24, exactly the stored pixels turned.
      if (o == 1) {
        CT_EXPECT(pic.frame().format == AV_PIX_FMT_YUV420P);
        continue;
      }
      CT_EXPECT(pic.frame().format == AV_PIX_FMT_RGB24);
      std::vector<uint8_t> want(size_t(w) * h * 3);
      camtrack::decode::OrientPixels(stored.frame().data[0], stored.frame().linesize[0], 333, 187, 3, o, want.data(),
                                     w * 3);
      const ct_push::Diff d = ct_push::Compare(pic.frame().data[0], pic.frame().linesize[0], want.data(), w, h, 3);
      CT_EXPECT(d.max == 0);
    }
  }
  // Scaled decode of a rotated 1080p frame: the scale is chosen for the displayed (portrait) size.
  const Bytes hd = WithSegment(ct_push::ClipFrameJpeg(dir, "videos/mmtracking-demo.mp4", 2), ExifSegment(6, false));
  const ModelInputSpec spec = Spec(416);
  PictureBuffer pic;
  dec.Decode(hd.data(), hd.size(), &spec, &pic);
  CT_EXPECT(pic.info().source_width == 1080 && pic.info().source_height == 1920);
  CT_EXPECT(pic.info().scale_denom == 4);
  CT_EXPECT(pic.frame().width == 270 && pic.frame().height == 480);
}

CT_TEST(jpeg_exif_reader_survives_malformed_blocks) {
  TempDir dir;
  const Bytes base = ct_push::ClipFrameJpeg(dir, "videos/car-detection.mp4", 10, ",scale=64:48");
  const Bytes good = ExifSegment(6, false);
  auto orientation = [](const Bytes& b) { return camtrack::decode::ReadJpegExifOrientation(b.data(), b.size()); };
  CT_EXPECT(orientation(base) == 1);                        // no Exif at all
  CT_EXPECT(orientation(WithSegment(base, good)) == 6);
  CT_EXPECT(orientation(WithSegment(base, ExifSegment(9, false))) == 1);   // out of range
  CT_EXPECT(orientation(WithSegment(base, ExifSegment(0, true))) == 1);
  // IFD0 offset pointing outside the block, a huge entry count, a bad byte-order mark, a cut block.
  Bytes far = good;
  far[14] = 0xff, far[15] = 0xff;  // IFD0 offset (bytes 14..17: after FF E1 len "Exif\0\0" "II" 2A 00)
  CT_EXPECT(orientation(WithSegment(base, far)) == 1);
  Bytes many = good;
  many[18] = 0xff, many[19] = 0xff;  // entry count 65535: the two real entries are read, then the block ends
  CT_EXPECT(orientation(WithSegment(base, many)) == 6);
  many[32] = 0x13;  // and without the Orientation entry (its tag now 0x0113) the walk stops at the block's end
  CT_EXPECT(orientation(WithSegment(base, many)) == 1);
  Bytes bom = good;
  bom[10] = 'X';
  CT_EXPECT(orientation(WithSegment(base, bom)) == 1);
  Bytes cut(good.begin(), good.begin() + 24);  // the segment length still claims the whole block
  CT_EXPECT(orientation(WithSegment(base, cut)) == 1);
  // The segment's own length running past the frame; tiny and empty inputs.
  Bytes overlong = {0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 'E', 'x', 'i', 'f', 0, 0};
  CT_EXPECT(orientation(overlong) == 1);
  CT_EXPECT(camtrack::decode::ReadJpegExifOrientation(nullptr, 0) == 1);
  const uint8_t two[2] = {0xff, 0xd8};
  CT_EXPECT(camtrack::decode::ReadJpegExifOrientation(two, 2) == 1);
  // Random damage to the Exif block never reads outside it (ASan checks) and never gives a value outside 1..8.
  std::mt19937 rng(7);
  const Bytes with = WithSegment(base, good);
  for (int i = 0; i < 2000; ++i) {
    const Bytes m = ct_push::Mutate(with, rng, 2);
    const int o = orientation(m);
    CT_EXPECT(o >= 1 && o <= 8);
  }
  // A broken Exif block does not stop the frame from decoding.
  JpegDecoder dec(Options());
  PictureBuffer pic;
  const Bytes broken = WithSegment(base, far);
  dec.Decode(broken.data(), broken.size(), nullptr, &pic);
  CT_EXPECT(pic.frame().width == 64 && pic.info().orientation == 1);
}

// ---- bad input ----------------------------------------------------------------------------------------------

CT_TEST(jpeg_bad_input_is_a_coded_frame_error_and_the_decoder_goes_on) {
  TempDir dir;
  const Bytes good = ct_push::ClipFrameJpeg(dir, "videos/walking.mp4", 20);
  JpegDecoder dec(Options());
  PictureBuffer pic;
  auto still_works = [&] {
    dec.Decode(good.data(), good.size(), nullptr, &pic);
    CT_EXPECT(pic.has_picture() && pic.frame().width == 1280);
  };
  std::string msg;
  // 0 bytes.
  CT_EXPECT(FaultOf(dec, Bytes{}, &pic) == FrameFault::kEmpty);
  still_works();
  // A PNG where JPEG was declared (sniffed before anything is parsed).
  ct_push::RunFfmpeg("-i " + ct_push::Quote(ct_test::AssetPath("images/dog.jpg")) + " " +
                     ct_push::Quote(dir / "dog.png"));
  const Bytes png = ct_push::ReadFile(dir / "dog.png");
  CT_EXPECT(FaultOf(dec, png, &pic, &msg) == FrameFault::kWrongCodec);
  CT_EXPECT(msg.find("PNG data where JPEG was declared") != std::string::npos);
  still_works();
  // Annex-B H.264 bytes where JPEG was declared; random bytes.
  CT_EXPECT(FaultOf(dec, Bytes{0, 0, 0, 1, 0x67, 0x42, 0, 0x1e}, &pic) == FrameFault::kWrongCodec);
  CT_EXPECT(FaultOf(dec, Bytes{'h', 'e', 'l', 'l', 'o'}, &pic) == FrameFault::kCorrupt);
  // Truncated: half the frame, the header only, the SOI only.
  CT_EXPECT(FaultOf(dec, Bytes(good.begin(), good.begin() + good.size() / 2), &pic, &msg) == FrameFault::kTruncated);
  const size_t sof = FindSof(good);
  CT_EXPECT(sof > 0);
  CT_EXPECT(FaultOf(dec, Bytes(good.begin(), good.begin() + sof + 6), &pic) == FrameFault::kTruncated);
  CT_EXPECT(FaultOf(dec, Bytes{0xff, 0xd8, 0xff}, &pic) == FrameFault::kTruncated);
  still_works();
  // Corrupt: a Huffman table with an impossible definition; a SOF with 0 components; a stray marker in the data.
  Bytes bad_sof = good;
  bad_sof[sof + 9] = 0;  // number of components
  CT_EXPECT(FaultOf(dec, bad_sof, &pic, &msg) == FrameFault::kCorrupt);
  Bytes bad_dht = good;
  for (size_t i = 2; i + 4 < bad_dht.size(); ++i) {
    if (bad_dht[i] == 0xff && bad_dht[i + 1] == 0xc4) {  // DHT: counts of codes per length all 0xff
      for (size_t k = 0; k < 16; ++k) bad_dht[i + 5 + k] = 0xff;
      break;
    }
  }
  CT_EXPECT(FaultOf(dec, bad_dht, &pic) == FrameFault::kCorrupt);
  Bytes stray = good;
  stray[stray.size() / 2] = 0xff;
  stray[stray.size() / 2 + 1] = 0xd9;  // an EOI in the middle of the scan: the rest of the picture is missing
  const FrameFault stray_fault = FaultOf(dec, stray, &pic);
  CT_EXPECT(stray_fault == FrameFault::kCorrupt || stray_fault == FrameFault::kTruncated);
  still_works();
  // Unsupported: 12-bit precision (patched SOF: libjpeg-turbo's 8-bit API refuses it).
  Bytes twelve = good;
  twelve[sof + 4] = 12;
  CT_EXPECT(FaultOf(dec, twelve, &pic, &msg) == FrameFault::kUnsupported);
  still_works();
  // CMYK (YCCK) JPEG, as libjpeg-turbo writes it from CMYK pixels: libjpeg-turbo 2.1 converts it to RGB, or refuses
  // it as unsupported; either is fine, anything else is not.
  {
    std::vector<uint8_t> cmyk(64 * 48 * 4);
    for (size_t i = 0; i < cmyk.size(); ++i) cmyk[i] = uint8_t(i * 7);
    const Bytes ycck = TurboEncode(cmyk.data(), 64, 48, TJSAMP_420, 90, TJPF_CMYK);
    try {
      dec.Decode(ycck.data(), ycck.size(), nullptr, &pic);
      std::printf("      CMYK JPEG: decoded to %s\n", pic.frame().format == AV_PIX_FMT_RGB24 ? "rgb24" : "?");
      CT_EXPECT(pic.frame().format == AV_PIX_FMT_RGB24 && pic.frame().width == 64);
    } catch (const FrameError& e) {
      std::printf("      CMYK JPEG: %s (%s)\n", e.reason(), e.what());
      CT_EXPECT(e.fault() == FrameFault::kUnsupported);
    }
    still_works();
  }
  // With keep_damaged, the truncated frame is delivered (grey where data is missing) and flagged.
  JpegDecoderOptions keep = Options();
  keep.keep_damaged = true;
  JpegDecoder tolerant(keep);
  const Bytes half(good.begin(), good.begin() + good.size() / 2);
  tolerant.Decode(half.data(), half.size(), nullptr, &pic);
  CT_EXPECT(pic.has_picture() && pic.info().concealed && pic.frame().width == 1280);
}

CT_TEST(jpeg_over_the_pixel_limit_is_refused_from_the_header) {
  TempDir dir;
  const Bytes good = ct_push::ClipFrameJpeg(dir, "videos/walking.mp4", 20);
  // A header claiming 10000 × 10000 (100 MP) with the 720p data behind it: refused as too_large, which it can only
  // be before decoding (the data would not decode as that size).
  Bytes huge = good;
  const size_t sof = FindSof(huge);
  huge[sof + 5] = 10000 >> 8, huge[sof + 6] = 10000 & 0xff;  // height
  huge[sof + 7] = 10000 >> 8, huge[sof + 8] = 10000 & 0xff;  // width
  JpegDecoder dec(Options());
  PictureBuffer pic;
  std::string msg;
  CT_EXPECT(FaultOf(dec, huge, &pic, &msg) == FrameFault::kTooLarge);
  CT_EXPECT(msg.find("10000x10000") != std::string::npos && msg.find("50.0 MP") != std::string::npos);
  CT_EXPECT(ct_test::ThrowsCode(camtrack::ErrorCode::kDecode, [&] { dec.ReadHeader(huge.data(), huge.size()); }));
  CT_EXPECT(pic.capacity() == 0);  // nothing was allocated for it
  // The limit is the option: 1280 × 720 = 921,600 pixels passes at that limit, fails one pixel below it.
  JpegDecoderOptions o = Options();
  o.max_pixels = 1280 * 720;
  JpegDecoder exact(o);
  exact.Decode(good.data(), good.size(), nullptr, &pic);
  o.max_pixels = 1280 * 720 - 1;
  JpegDecoder below(o);
  CT_EXPECT(FaultOf(below, good, &pic) == FrameFault::kTooLarge);
  o.max_pixels = 0;
  CT_EXPECT(ct_test::ThrowsCode(camtrack::ErrorCode::kInvalidArgument, [&] { JpegDecoder bad(o); }));
}

CT_TEST(jpeg_random_damage_never_crashes) {
  // Mutated frames: each either decodes or throws a FrameError; any other exception (or a crash, or an ASan report
  // in the sanitizer build) fails. The decoder is reused throughout, as a stream's would be.
  TempDir dir;
  const Bytes base = ct_push::ClipFrameJpeg(dir, "videos/walking.mp4", 7, ",scale=160:90");
  JpegDecoder dec(Options());
  JpegDecoderOptions keep = Options();
  keep.keep_damaged = true;
  JpegDecoder tolerant(keep);
  PictureBuffer pic;
  const ModelInputSpec spec = Spec(64);
  std::mt19937 rng(12345);
  int decoded = 0, errors = 0;
  for (int i = 0; i < 1500; ++i) {
    const Bytes m = ct_push::Mutate(base, rng);
    for (JpegDecoder* d : {&dec, &tolerant}) {
      try {
        d->Decode(m.data(), m.size(), i % 2 ? &spec : nullptr, &pic);
        ++decoded;
        CT_EXPECT(pic.has_picture());
      } catch (const FrameError&) {
        ++errors;
        CT_EXPECT(!pic.has_picture());
      }
    }
  }
  std::printf("      1500 mutated frames × 2 decoders: %d decoded, %d frame errors\n", decoded, errors);
  CT_EXPECT(errors > 0 && decoded > 0);
  dec.Decode(base.data(), base.size(), nullptr, &pic);
  CT_EXPECT(pic.frame().width == 160);
}

// ---- buffers ------------------------------------------------------------------------------------------------

CT_TEST(jpeg_repeated_decodes_reuse_the_buffer) {
  TempDir dir;
  const Bytes a = ct_push::ClipFrameJpeg(dir, "videos/walking.mp4", 10);
  const Bytes b = ct_push::ClipFrameJpeg(dir, "videos/walking.mp4", 11);
  const Bytes small = ct_push::ClipFrameJpeg(dir, "videos/walking.mp4", 12, ",scale=640:360");
  const Bytes rotated = WithSegment(a, ExifSegment(6, false));
  const Bytes big = ct_push::ClipFrameJpeg(dir, "videos/mmtracking-demo.mp4", 3);
  JpegDecoder dec(Options());
  PictureBuffer pic;
  const ModelInputSpec spec = Spec(416);
  const Bytes* frames[4] = {&a, &b, &small, &rotated};
  for (const ModelInputSpec* s : {static_cast<const ModelInputSpec*>(nullptr), &spec}) {
    for (const Bytes* f : frames) dec.Decode(f->data(), f->size(), s, &pic);  // warm-up: each kind once
    const uint8_t* storage = pic.storage();
    const size_t capacity = pic.capacity();
    CT_EXPECT(storage != nullptr && capacity > 0);
    for (int i = 0; i < 40; ++i) {
      const Bytes& frame = *frames[i % 4];
      dec.Decode(frame.data(), frame.size(), s, &pic);
      CT_EXPECT(pic.storage() == storage && pic.capacity() == capacity);
      CT_EXPECT(pic.frame().data[0] >= storage && pic.frame().data[0] < storage + capacity);
    }
  }
  // A bigger picture grows it once; the same size again does not.
  dec.Decode(big.data(), big.size(), nullptr, &pic);
  const uint8_t* grown = pic.storage();
  const size_t grown_capacity = pic.capacity();
  dec.Decode(big.data(), big.size(), nullptr, &pic);
  CT_EXPECT(pic.storage() == grown && pic.capacity() == grown_capacity);
  dec.Decode(a.data(), a.size(), nullptr, &pic);
  CT_EXPECT(pic.storage() == grown);  // never shrinks
  // Moving the buffer moves the storage.
  PictureBuffer moved(std::move(pic));
  CT_EXPECT(moved.storage() == grown && moved.has_picture() && !pic.has_picture());
}

// ---- into the letterboxer -----------------------------------------------------------------------------------

CT_TEST(jpeg_scaled_picture_letterboxes_like_the_full_frame) {
  // 1080p into a 416 model: the 1/4 picture's letterbox, restated by ToSource(), has the full frame's geometry, and
  // its tensor is close to the letterbox of the full decode (the difference is the downscaling filter: the DCT
  // scale averages, the letterbox's bilinear of the full frame samples 4.6× apart without averaging).
  TempDir dir;
  const Bytes jpeg = ct_push::ClipFrameJpeg(dir, "videos/mmtracking-demo.mp4", 4);
  JpegDecoder dec(Options());
  for (LetterboxAlign align : {LetterboxAlign::kCenter, LetterboxAlign::kTopLeft}) {
    ModelInputSpec spec = Spec(416, align);
    PictureBuffer scaled, full;
    dec.Decode(jpeg.data(), jpeg.size(), &spec, &scaled);
    dec.Decode(jpeg.data(), jpeg.size(), nullptr, &full);
    CT_EXPECT(scaled.info().scale_denom == 4);
    camtrack::preprocess::CpuLetterboxer lb;
    const size_t n = size_t(3) * spec.width * spec.height;
    std::vector<float> a(n), b(n);
    const camtrack::LetterboxInfo li = scaled.ToSource(lb.Run(scaled.frame(), spec, a.data()));
    const camtrack::LetterboxInfo lf = full.ToSource(lb.Run(full.frame(), spec, b.data()));
    const camtrack::LetterboxInfo want = camtrack::preprocess::ComputeLetterbox(1920, 1080, spec);
    CT_EXPECT(li.src_width == 1920 && li.src_height == 1080);
    CT_EXPECT(li.pad_x == want.pad_x && li.pad_y == want.pad_y);
    CT_EXPECT_NEAR(li.scale, want.scale, 1e-6);
    CT_EXPECT(lf.src_width == 1920 && lf.pad_y == want.pad_y);
    CT_EXPECT_NEAR(lf.scale, want.scale, 1e-6);
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += std::fabs(a[i] - b[i]);
    const double mean255 = sum / n * 255.0;  // spec.scale is 1/255
    std::printf("      1080p → 416 (%s): mean |scaled - full| %.2f of 255\n",
                align == LetterboxAlign::kCenter ? "center" : "top-left", mean255);
    CT_EXPECT(mean255 <= 2.5);  // measured 1.31
  }
}
