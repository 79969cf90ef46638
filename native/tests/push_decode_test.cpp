// decode::PngDecoder and decode::AnnexBDecoder (pushed PNG frames and H.264/HEVC access units, issue 10): pictures
// equal to FFmpeg's decode of the same bytes, the keyframe gate and DropUntilKeyframe(), tags through reordering,
// and every kind of bad input as a coded FrameError, never a crash. Inputs are made at test time with the ffmpeg
// CLI from the shared clips and images (push_fixtures.h).
#include "push_decode_util.h"

using namespace ct_pushdec;

// ---- PNG ----------------------------------------------------------------------------------------------------
CT_TEST(png_decodes_exactly_what_ffmpeg_decodes) {
  TempDir dir;
  PngDecoder dec(PngOptions());
  PictureBuffer pic;
  // rgb24 (CpuLetterboxer's direct path), and the other common PNG layouts (read through its swscale fallback).
  struct Case {
    const char* pix_fmt;
    int format;
  };
  const Case cases[] = {{"rgb24", AV_PIX_FMT_RGB24},   {"rgba", AV_PIX_FMT_RGBA},     {"gray", AV_PIX_FMT_GRAY8},
                        {"rgb48be", AV_PIX_FMT_RGB48BE}, {"pal8", AV_PIX_FMT_PAL8},     {"ya8", AV_PIX_FMT_YA8}};
  camtrack::preprocess::CpuLetterboxer lb;
  camtrack::preprocess::ModelInputSpec spec;
  spec.width = spec.height = 320;
  std::vector<float> tensor(size_t(3) * 320 * 320);
  for (const Case& c : cases) {
    const Bytes png = MakePng(dir, "images/bus.jpg", c.pix_fmt);
    const std::string path = dir / "check.png";
    ct_push::WriteFile(path, png);
    dec.Decode(png.data(), png.size(), &pic);
    CT_EXPECT(pic.frame().width == 810 && pic.frame().height == 1080);
    CT_EXPECT(pic.frame().format == c.format);
    CT_EXPECT(pic.info().source_width == 810 && pic.info().source_height == 1080 && pic.info().scale_denom == 1);
    if (c.format == AV_PIX_FMT_RGB24) {
      const Bytes ref = ct_push::FfmpegDecodeRaw(dir, path, "rgb24");
      const ct_push::Diff d =
          ct_push::Compare(pic.frame().data[0], pic.frame().linesize[0], ref.data(), 810, 1080, 3);
      CT_EXPECT(d.max == 0);  // lossless: the same pixels
    }
    const camtrack::LetterboxInfo li = pic.ToSource(lb.Run(pic.frame(), spec, tensor.data()));
    CT_EXPECT(li.src_width == 810 && li.src_height == 1080);
  }
}

CT_TEST(png_bad_input_is_a_coded_frame_error_and_the_decoder_goes_on) {
  camtrack::decode::InstallFfmpegLogHandler();
  TempDir dir;
  const Bytes good = MakePng(dir, "images/dog.jpg", "rgb24", "scale=192:144");
  PngDecoder dec(PngOptions());
  PictureBuffer pic;
  auto still_works = [&] {
    dec.Decode(good.data(), good.size(), &pic);
    CT_EXPECT(pic.has_picture() && pic.frame().width == 192);
  };
  std::string msg;
  still_works();
  CT_EXPECT(PngFault(dec, Bytes{}, &pic) == FrameFault::kEmpty);
  const Bytes jpeg = ct_push::ReadFile(ct_test::AssetPath("images/dog.jpg"));
  CT_EXPECT(PngFault(dec, jpeg, &pic, &msg) == FrameFault::kWrongCodec);
  CT_EXPECT(msg.find("JPEG data where PNG was declared") != std::string::npos);
  CT_EXPECT(PngFault(dec, Bytes{0, 0, 1, 0x65, 0x88}, &pic) == FrameFault::kWrongCodec);
  CT_EXPECT(PngFault(dec, Bytes{'G', 'I', 'F', '8', '9', 'a', 0, 0, 0}, &pic) == FrameFault::kCorrupt);
  still_works();
  // Truncated: in the signature, in IHDR, half-way, and with only IEND missing (libavcodec alone would accept that).
  CT_EXPECT(PngFault(dec, Bytes(good.begin(), good.begin() + 5), &pic) == FrameFault::kTruncated);
  CT_EXPECT(PngFault(dec, Bytes(good.begin(), good.begin() + 20), &pic) == FrameFault::kTruncated);
  CT_EXPECT(PngFault(dec, Bytes(good.begin(), good.begin() + good.size() / 2), &pic) == FrameFault::kTruncated);
  CT_EXPECT(PngFault(dec, Bytes(good.begin(), good.end() - 12), &pic, &msg) == FrameFault::kTruncated);
  still_works();
  // Corrupt: a flipped byte inside the image data (the chunk's CRC no longer matches), IHDR not first, a chunk
  // length over 2^31.
  Bytes flipped = good;
  flipped[flipped.size() / 2] ^= 0x5a;
  CT_EXPECT(PngFault(dec, flipped, &pic, &msg) == FrameFault::kCorrupt);
  Bytes not_ihdr = good;
  not_ihdr[12] = 'X';
  CT_EXPECT(PngFault(dec, not_ihdr, &pic) == FrameFault::kCorrupt);
  Bytes huge_len = good;
  huge_len[33] = 0x80;  // the length of the chunk after IHDR (8 + 25 = 33)
  CT_EXPECT(PngFault(dec, huge_len, &pic) == FrameFault::kCorrupt);
  still_works();
  // Over the pixel limit, from IHDR: 10000 × 10000 claimed (the data behind it could not be that size).
  Bytes big = good;
  for (int i : {16, 20}) big[i] = 0, big[i + 1] = 0, big[i + 2] = 10000 >> 8, big[i + 3] = 10000 & 0xff;
  CT_EXPECT(PngFault(dec, big, &pic, &msg) == FrameFault::kTooLarge);
  CT_EXPECT(msg.find("10000x10000") != std::string::npos);
  PngDecoder exact(PngOptions(192 * 144));
  exact.Decode(good.data(), good.size(), &pic);
  PngDecoder below(PngOptions(192 * 144 - 1));
  CT_EXPECT(PngFault(below, good, &pic) == FrameFault::kTooLarge);
  CT_EXPECT(ct_test::ThrowsCode(camtrack::ErrorCode::kInvalidArgument, [] { PngDecoder bad(PngOptions(0)); }));
  still_works();
}

CT_TEST(png_random_damage_never_crashes) {
  camtrack::decode::InstallFfmpegLogHandler();
  TempDir dir;
  const Bytes base = MakePng(dir, "images/zidane.jpg", "rgb24", "scale=96:54");
  PngDecoder dec(PngOptions());
  PictureBuffer pic;
  std::mt19937 rng(99);
  int decoded = 0, errors = 0;
  for (int i = 0; i < 1500; ++i) {
    const Bytes m = ct_push::Mutate(base, rng);
    try {
      dec.Decode(m.data(), m.size(), &pic);
      ++decoded;
    } catch (const FrameError&) {
      ++errors;
      CT_EXPECT(!pic.has_picture());
    }
  }
  std::printf("      1500 mutated PNGs: %d decoded, %d frame errors\n", decoded, errors);
  CT_EXPECT(errors > 0);
  dec.Decode(base.data(), base.size(), &pic);
  CT_EXPECT(pic.frame().width == 96);
}
