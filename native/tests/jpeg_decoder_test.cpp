// decode::JpegDecoder (pushed JPEG frames, issue 10): DCT-scale choice, pixels against FFmpeg's own decode of the
// same JPEG, EXIF orientation 1..8, every kind of bad input as a coded FrameError, no buffer growth on repeat, and
// the letterbox geometry of a scaled picture mapped back to the source frame.
//
// Inputs are made at test time (push_fixtures.h): frames of the shared clips encoded by FFmpeg's mjpeg encoder (4K by
// scaling a 1080p frame up), JPEGs encoded by libjpeg-turbo itself (tjCompress2), and the shared images.
#include "jpeg_test_util.h"

using namespace ct_jpeg;

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
