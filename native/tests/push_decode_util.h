#pragma once
// Helpers of push_decode_test.cpp, annexb_decode_test.cpp (one file split in two to keep each under 500 lines).
extern "C" {
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/md5.h>
#include <libavutil/pixfmt.h>
}

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/decode/annexb_decoder.h"
#include "core/decode/annexb_reader.h"
#include "core/decode/ffmpeg_log.h"
#include "core/decode/png_decoder.h"
#include "core/preprocess/letterbox.h"
#include "push_fixtures.h"
#include "test_main.h"

using camtrack::decode::AnnexBDecoder;
using camtrack::decode::AnnexBDecoderOptions;
using camtrack::decode::AnnexBInput;
using camtrack::decode::FrameError;
using camtrack::decode::FrameFault;
using camtrack::decode::PictureBuffer;
using camtrack::decode::PngDecoder;
using camtrack::decode::PngDecoderOptions;
using camtrack::decode::VideoCodec;
using ct_push::Bytes;
using ct_push::TempDir;

namespace ct_pushdec {

// ---- PNG helpers ---------------------------------------------------------------------------------------------

inline PngDecoderOptions PngOptions(int64_t max_pixels = camtrack::decode::kDefaultMaxPixels) {
  PngDecoderOptions o;
  o.max_pixels = max_pixels;
  return o;
}

inline FrameFault PngFault(PngDecoder& dec, const Bytes& b, PictureBuffer* pic, std::string* message = nullptr) {
  try {
    dec.Decode(b.data(), b.size(), pic);
  } catch (const FrameError& e) {
    if (message) *message = e.what();
    CT_EXPECT(e.code() == camtrack::ErrorCode::kDecode && std::string(e.stage()) == "decode");
    CT_EXPECT(!pic->has_picture());
    return e.fault();
  }
  throw ct_test::Failure{"expected a FrameError, the PNG decoded"};
}

// `image` (a shared asset) converted by FFmpeg to a PNG of `pix_fmt`, scaled by `vf` when given.
inline Bytes MakePng(const TempDir& dir, const std::string& image, const std::string& pix_fmt, const std::string& vf = "") {
  const std::string out = dir / ("img-" + pix_fmt + ".png");
  ct_push::RunFfmpeg("-i " + ct_push::Quote(ct_test::AssetPath(image)) + (vf.empty() ? "" : " -vf " + vf) +
                     " -pix_fmt " + pix_fmt + " " + ct_push::Quote(out));
  return ct_push::ReadFile(out);
}

// ---- video helpers -------------------------------------------------------------------------------------------

// MD5 of a picture's pixels packed without padding (what `ffmpeg -f framemd5` hashes for raw video).
inline std::string FrameMd5(const AVFrame& f) {
  const auto fmt = static_cast<AVPixelFormat>(f.format);
  const int size = av_image_get_buffer_size(fmt, f.width, f.height, 1);
  std::vector<uint8_t> buf(static_cast<size_t>(size));
  av_image_copy_to_buffer(buf.data(), size, f.data, f.linesize, fmt, f.width, f.height, 1);
  uint8_t md5[16];
  av_md5_sum(md5, buf.data(), size);
  char hex[33];
  for (int i = 0; i < 16; ++i) std::snprintf(hex + 2 * i, 3, "%02x", md5[i]);
  return hex;
}

// FFmpeg's per-frame MD5s (display order) of the decoded pictures of an elementary stream file.
inline std::vector<std::string> FfmpegFrameMd5s(const TempDir& dir, const std::string& path) {
  const std::string out = dir / "frames.md5";
  ct_push::RunFfmpeg("-i " + ct_push::Quote(path) + " -f framemd5 " + ct_push::Quote(out));
  std::ifstream f(out);
  std::vector<std::string> md5s;
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t comma = line.rfind(',');
    std::string h = line.substr(comma + 1);
    h.erase(0, h.find_first_not_of(' '));
    md5s.push_back(h);
  }
  return md5s;
}

// The access units of an Annex-B file, as AnnexBSplitter cuts them.
inline std::vector<Bytes> AccessUnits(const Bytes& stream, bool hevc) {
  camtrack::decode::AnnexBSplitter split(stream.data(), stream.size(), hevc);
  std::vector<Bytes> aus;
  const uint8_t* au = nullptr;
  size_t n = 0;
  while (split.NextAccessUnit(&au, &n)) aus.emplace_back(au, au + n);
  return aus;
}

// nal_unit_type of the first picture (VCL) NAL unit of an access unit, -1 when it has none.
inline int FirstVclType(const Bytes& au, bool hevc) {
  camtrack::decode::AnnexBSplitter split(au.data(), au.size(), hevc);
  camtrack::decode::AnnexBNal nal;
  while (split.NextNal(&nal)) {
    if (split.IsVcl(nal)) return nal.type;
  }
  return -1;
}

// A short test stream encoded by libx264/libx265 from walking.mp4: `frames` pictures at 320×180, a keyframe every
// `gop` pictures (no scene-cut keyframes), 2 B-frames, parameter sets repeated before each keyframe (as cameras
// send them). Written as Annex-B to dir/name.
inline std::string EncodeStream(const TempDir& dir, const std::string& name, bool hevc, int frames, int gop) {
  const std::string out = dir / name;
  const std::string common = " -frames:v " + std::to_string(frames) + " -vf scale=320:180 -pix_fmt yuv420p -g " +
                             std::to_string(gop) + " -keyint_min " + std::to_string(gop) + " -bf 2 -an ";
  if (hevc) {
    ct_push::RunFfmpeg("-i " + ct_push::Quote(ct_test::AssetPath("videos/walking.mp4")) + common +
                       "-c:v libx265 -preset ultrafast -x265-params log-level=error:scenecut=0:repeat-headers=1 "
                       "-f hevc " + ct_push::Quote(out));
  } else {
    ct_push::RunFfmpeg("-i " + ct_push::Quote(ct_test::AssetPath("videos/walking.mp4")) + common +
                       "-c:v libx264 -preset veryfast -sc_threshold 0 -x264-params repeat-headers=1 "
                       "-f h264 " + ct_push::Quote(out));
  }
  return out;
}

inline AnnexBDecoderOptions VideoOptions(VideoCodec codec, AnnexBInput input = AnnexBInput::kAccessUnits) {
  AnnexBDecoderOptions o;
  o.codec = codec;
  o.input = input;
  o.max_pixels = camtrack::decode::kDefaultMaxPixels;
  o.threads = 1;
  o.keep_damaged = false;
  return o;
}

struct Received {
  std::vector<std::string> md5;  // in the order Receive() gave them (display order)
  std::vector<int64_t> tags;
  std::vector<FrameError> errors;
};

inline void Drain(AnnexBDecoder& dec, PictureBuffer& pic, Received* r) {
  while (dec.Receive(&pic, &r->errors)) {
    r->md5.push_back(FrameMd5(pic.frame()));
    r->tags.push_back(pic.info().tag);
    CT_EXPECT(pic.info().source_width == pic.frame().width && pic.info().scale_denom == 1);
  }
}

// Pushes `aus` [first, end) one access unit per chunk, tag = index, receiving as it goes; then Flush().
inline Received PushAll(AnnexBDecoder& dec, const std::vector<Bytes>& aus, size_t first = 0, size_t end = SIZE_MAX) {
  Received r;
  PictureBuffer pic;
  for (size_t i = first; i < std::min(end, aus.size()); ++i) {
    dec.Push(aus[i].data(), aus[i].size(), static_cast<int64_t>(i), &r.errors);
    Drain(dec, pic, &r);
  }
  dec.Flush(&r.errors);
  Drain(dec, pic, &r);
  return r;
}

}  // namespace ct_pushdec
