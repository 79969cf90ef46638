// JpegDecoder: EXIF orientation, bad input, the pixel limit and random damage (docs/push.md).
// Helpers: jpeg_test_util.h.
#include "jpeg_test_util.h"

using namespace ct_jpeg;

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
