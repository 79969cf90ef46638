// The push frame source (core/ingest/push_frame_source.h, issue 10): the per-stream queue's policies (live drops the
// oldest JPEG, or every queued access unit and then skips to a keyframe; lossless reports full, refuses, drains at
// half), its end and close, the source's decoding of queued frames with the frame numbers of their pushes, bad frames
// as rate-limited warnings, and whole pipelines fed by pushes (JPEG with bad frames among good ones; H.264 access
// units of a clip with reordered pictures), with null inference workers. Inputs are made with the ffmpeg CLI from the
// shared clips (push_fixtures.h).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <turbojpeg.h>

#include "core/decode/annexb_reader.h"
#include "core/decode/ffmpeg_log.h"
#include "core/ingest/av_frame_source.h"
#include "core/ingest/push_frame_source.h"
#include "core/pipeline/pipeline.h"
#include "null_worker.h"
#include "push_fixtures.h"
#include "test_main.h"
#include "tracker_reference.h"

namespace {

using camtrack::ErrorCode;
using camtrack::ingest::Connection;
using camtrack::ingest::OwnedBytes;
using camtrack::ingest::PushCodec;
using camtrack::ingest::PushedBytes;
using camtrack::ingest::PushedFrame;
using camtrack::ingest::PushFrameSource;
using camtrack::ingest::PushInput;
using camtrack::ingest::PushOptions;
using camtrack::ingest::SourceWarning;
using camtrack::pipeline::EventKind;
using camtrack::pipeline::FrameResult;
using camtrack::pipeline::Pipeline;
using camtrack::pipeline::StreamEvent;
using ct_push::Bytes;
using ct_push::TempDir;

constexpr int kInput = 160, kBatch = 4;

PushOptions Options(PushCodec codec, bool live, int queue_size, int64_t max_pixels = 50'000'000) {
  PushOptions o;
  o.codec = codec;
  o.live = live;
  o.queue_size = queue_size;
  o.max_pixels = max_pixels;
  o.decoder_threads = 1;
  return o;
}

// Bytes that count their own release (every PushedBytes must be let go of exactly once).
struct ReleaseCount {
  std::mutex mu;
  std::set<int64_t> released;
  int twice = 0;  // released more than once (checked by the tests)
};
class CountedBytes final : public PushedBytes {
 public:
  CountedBytes(Bytes b, int64_t id, std::shared_ptr<ReleaseCount> c) : b_(std::move(b)), id_(id), c_(std::move(c)) {}
  ~CountedBytes() override {
    std::lock_guard<std::mutex> lock(c_->mu);
    if (!c_->released.insert(id_).second) ++c_->twice;
  }
  const uint8_t* data() const noexcept override { return b_.data(); }
  size_t size() const noexcept override { return b_.size(); }

 private:
  Bytes b_;
  int64_t id_;
  std::shared_ptr<ReleaseCount> c_;
};

std::unique_ptr<PushedBytes> Owned(Bytes b) { return std::make_unique<OwnedBytes>(std::move(b)); }

ErrorCode ThrownCode(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const camtrack::Error& e) {
    return e.code();
  }
  throw ct_test::Failure{"expected an Error"};
}

// The JPEGs of the first `n` frames of a shared clip (FFmpeg's mjpeg encoder), in order.
std::vector<Bytes> ClipJpegs(const TempDir& dir, const std::string& clip, int n, const std::string& vf = "") {
  ct_push::RunFfmpeg("-i " + ct_push::Quote(ct_test::AssetPath(clip)) + " -frames:v " + std::to_string(n) +
                     (vf.empty() ? "" : " -vf " + ct_push::Quote(vf)) +
                     " -c:v mjpeg -pix_fmt yuvj420p -q:v 3 " + ct_push::Quote(dir / "f%04d.jpg"));
  std::vector<Bytes> out;
  for (int i = 1; i <= n; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "f%04d.jpg", i);
    out.push_back(ct_push::ReadFile(dir / name));
  }
  return out;
}

// The access units of an Annex-B H.264 file.
std::vector<Bytes> AccessUnits(const std::string& path) {
  const Bytes stream = ct_push::ReadFile(path);
  camtrack::decode::AnnexBSplitter split(stream.data(), stream.size(), /*hevc=*/false);
  std::vector<Bytes> aus;
  const uint8_t* au = nullptr;
  size_t n = 0;
  while (split.NextAccessUnit(&au, &n)) aus.emplace_back(au, au + n);
  return aus;
}

// ---- the queue ------------------------------------------------------------------------------------------------

CT_TEST(push_input_live_jpeg_drops_the_oldest_compressed_frame_and_counts_it) {
  auto released = std::make_shared<ReleaseCount>();
  PushInput in(Options(PushCodec::kJpeg, /*live=*/true, 3));
  for (int64_t i = 0; i < 7; ++i) {
    const auto r = in.Push(i, std::make_unique<CountedBytes>(Bytes{1, 2, 3}, i, released), 10 * i);
    CT_EXPECT(r.queued == size_t(std::min<int64_t>(i + 1, 3)));
    CT_EXPECT(!r.full);  // live never reports back-pressure
  }
  // The four oldest were dropped (and let go of at once); the newest three wait, in order.
  CT_EXPECT((released->released == std::set<int64_t>{0, 1, 2, 3}));
  auto st = in.Stats();
  CT_EXPECT(st.pushed == 7 && st.dropped_queue == 4 && st.queued == 3 && st.refused == 0);
  for (int64_t want : {4, 5, 6}) {
    PushedFrame f;
    bool gap = true;
    CT_EXPECT(in.Pop(&f, &gap) == PushInput::Take::kFrame);
    CT_EXPECT(f.seq == want && f.pts_ms == 10 * want && !gap);
  }
  in.End();
  PushedFrame f;
  bool gap = false;
  CT_EXPECT(in.Pop(&f, &gap) == PushInput::Take::kEnd);
  CT_EXPECT(ThrownCode([&] { in.Push(7, Owned({1}), 0); }) == ErrorCode::kInvalidState);
  CT_EXPECT(released->released.size() == 7 && released->twice == 0);
}

CT_TEST(push_input_lossless_reports_full_refuses_the_next_push_and_drains_at_half) {
  PushInput in(Options(PushCodec::kJpeg, /*live=*/false, 4));
  int drains = 0;
  in.SetDrainCallback([&] { ++drains; });
  for (int64_t i = 0; i < 4; ++i) {
    const auto r = in.Push(i, Owned({0xFF}), -1);
    CT_EXPECT(r.queued == size_t(i + 1));
    CT_EXPECT(r.full == (i == 3));  // the push that filled it says so
  }
  // A producer that ignores `full`: refused (nothing dropped, nothing queued), counted; the frame number is not used.
  CT_EXPECT(ThrownCode([&] { in.Push(4, Owned({0xFF}), -1); }) == ErrorCode::kInvalidState);
  CT_EXPECT(in.Stats().refused == 1 && in.Stats().queued == 4 && in.next_seq() == 4);
  PushedFrame f;
  bool gap = false;
  CT_EXPECT(in.Pop(&f, &gap) == PushInput::Take::kFrame && f.seq == 0);
  CT_EXPECT(drains == 0);  // 3 left: above half
  CT_EXPECT(in.Pop(&f, &gap) == PushInput::Take::kFrame && f.seq == 1);
  CT_EXPECT(drains == 1);  // 2 left = half
  CT_EXPECT(in.Pop(&f, &gap) == PushInput::Take::kFrame && f.seq == 2);
  CT_EXPECT(drains == 1);  // once per full
  CT_EXPECT(!in.Push(4, Owned({0xFF}), -1).full);
  // pts: the time since the first push, never negative, non-decreasing.
  CT_EXPECT(in.Pop(&f, &gap) == PushInput::Take::kFrame && f.seq == 3 && f.pts_ms >= 0);
  // Frame numbers out of step are a bug of the caller.
  CT_EXPECT(ThrownCode([&] { in.Push(9, Owned({0xFF}), -1); }) == ErrorCode::kInternal);
  const auto st = in.Stats();
  CT_EXPECT(st.pushed == 5 && st.dropped_queue == 0 && st.refused == 1);
}

CT_TEST(push_input_live_video_overflow_drops_every_queued_access_unit_and_marks_a_gap) {
  auto released = std::make_shared<ReleaseCount>();
  PushInput in(Options(PushCodec::kH264, /*live=*/true, 3));
  for (int64_t i = 0; i < 5; ++i) in.Push(i, std::make_unique<CountedBytes>(Bytes{0, 0, 1, 9}, i, released), -1);
  // At the 4th push the queue (0, 1, 2) was full: all three went; 3 and 4 wait, 3 after a gap.
  CT_EXPECT((released->released == std::set<int64_t>{0, 1, 2}));
  CT_EXPECT(in.Stats().dropped_queue == 3);
  PushedFrame f;
  bool gap = false;
  CT_EXPECT(in.Pop(&f, &gap) == PushInput::Take::kFrame && f.seq == 3 && gap);
  CT_EXPECT(in.Pop(&f, &gap) == PushInput::Take::kFrame && f.seq == 4 && !gap);
}

CT_TEST(push_input_close_releases_queued_frames_and_refuses_pushes_and_wakes_a_waiting_pop) {
  auto released = std::make_shared<ReleaseCount>();
  PushInput in(Options(PushCodec::kPng, /*live=*/false, 8));
  for (int64_t i = 0; i < 3; ++i) in.Push(i, std::make_unique<CountedBytes>(Bytes{1}, i, released), -1);
  PushedFrame f;
  bool gap = false;
  CT_EXPECT(in.Pop(&f, &gap) == PushInput::Take::kFrame);
  f = PushedFrame{};  // frame 0 let go of by its user
  std::thread waiter([&] {
    PushedFrame g;
    bool gg = false;
    // Two frames are queued, so these return at once; the third Pop waits until Close().
    CT_EXPECT(in.Pop(&g, &gg) == PushInput::Take::kFrame && g.seq == 1);
    g = PushedFrame{};
    CT_EXPECT(in.Pop(&g, &gg) == PushInput::Take::kFrame && g.seq == 2);
    g = PushedFrame{};
    CT_EXPECT(in.Pop(&g, &gg) == PushInput::Take::kClosed);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  in.Close();
  waiter.join();
  CT_EXPECT(released->released.size() == 3 && released->twice == 0);
  CT_EXPECT(ThrownCode([&] { in.Push(3, Owned({1}), -1); }) == ErrorCode::kInvalidState);
  CT_EXPECT(ThrownCode([] { PushInput bad(Options(PushCodec::kJpeg, true, 0)); }) == ErrorCode::kInvalidArgument);
}

// ---- the source, driven directly ------------------------------------------------------------------------------

camtrack::preprocess::ModelInputSpec Spec() {
  camtrack::preprocess::ModelInputSpec s;
  s.width = s.height = kInput;
  return s;
}

CT_TEST(push_source_decodes_jpegs_with_their_push_numbers_and_warns_bad_frames_within_the_rate_limit) {
  TempDir dir;
  const std::vector<Bytes> jpegs = ClipJpegs(dir, "videos/walking.mp4", 2);
  auto in = std::make_shared<PushInput>(Options(PushCodec::kJpeg, /*live=*/false, 64));
  camtrack::preprocess::CpuLetterboxer lb;
  std::vector<SourceWarning> warnings;
  Connection c;
  c.warn = [&](const SourceWarning& w) { warnings.push_back(w); };
  PushFrameSource src(in, Spec(), &lb, c);
  src.Open();
  int64_t seq = 0;
  in->Push(seq++, Owned(jpegs[0]), 100);
  // 12 corrupt frames in a row: the first kWarnBurst warn, the others are only counted.
  for (int i = 0; i < 12; ++i) in->Push(seq++, Owned(Bytes{0xFF, 0xD8, 0xFF, 0x00, 0x13, 0x37}), 100 + i);
  in->Push(seq++, Owned(jpegs[1]), 50);  // a pts that goes back: the time line stays monotone
  in->End();
  std::vector<float> image(3 * kInput * kInput);
  CT_EXPECT(src.Next());
  CT_EXPECT(src.frame_seq() == 0 && src.pts_ms() == 100 && src.frame_width() == 1280 && src.frame_height() == 720);
  const camtrack::LetterboxInfo li = src.LetterboxInto(Spec(), image.data());
  CT_EXPECT(li.src_width == 1280 && li.src_height == 720);  // restated for the full-size frame (DCT-scaled decode)
  CT_EXPECT(src.Next());
  CT_EXPECT(src.frame_seq() == 13 && src.pts_ms() == 100);
  CT_EXPECT(!src.Next());  // ended
  CT_EXPECT(warnings.size() == size_t(PushFrameSource::kWarnBurst));
  for (size_t i = 0; i < warnings.size(); ++i) {
    CT_EXPECT(warnings[i].frame == int64_t(i + 1));
    CT_EXPECT(warnings[i].code == ErrorCode::kDecode);
    CT_EXPECT(warnings[i].message.find("pushed frame " + std::to_string(i + 1)) != std::string::npos);
  }
  const auto st = in->Stats();
  CT_EXPECT(st.pushed == 14 && st.warnings_suppressed == 7);
  uint64_t rejected = 0;
  for (uint64_t r : st.rejected) rejected += r;
  CT_EXPECT(rejected == 12);
  const auto counters = src.counters();
  CT_EXPECT(counters.packets == 14 && counters.decoded == 2 && counters.corrupt == 12);
}

CT_TEST(push_source_live_h264_after_a_queue_overflow_skips_to_the_next_keyframe) {
  TempDir dir;
  // 12 frames with a keyframe every 4 (0, 4, 8) and no B-frames, as Annex-B access units.
  const std::string h264 = dir / "gop4.h264";
  ct_push::RunFfmpeg("-i " + ct_push::Quote(ct_test::AssetPath("videos/walking.mp4")) +
                     " -frames:v 12 -an -c:v libx264 -preset ultrafast -g 4 -keyint_min 4 -sc_threshold 0 -bf 0 "
                     "-bsf:v h264_mp4toannexb -f h264 " + ct_push::Quote(h264));
  const std::vector<Bytes> aus = AccessUnits(h264);
  CT_EXPECT(aus.size() == 12);
  auto in = std::make_shared<PushInput>(Options(PushCodec::kH264, /*live=*/true, 3));
  camtrack::preprocess::CpuLetterboxer lb;
  std::vector<SourceWarning> warnings;
  Connection c;
  c.warn = [&](const SourceWarning& w) { warnings.push_back(w); };
  PushFrameSource src(in, Spec(), &lb, c);
  src.Open();
  std::vector<int64_t> got;
  in->Push(0, Owned(aus[0]), 0);
  CT_EXPECT(src.Next() && src.frame_seq() == 0);
  got.push_back(0);
  // Then nine pushes while the source reads none: the 4th finds (1, 2, 3) full and drops them, the 7th drops (4, 5,
  // 6); 7, 8, 9 wait, 7 after a gap.
  for (int64_t i = 1; i < 10; ++i) in->Push(i, Owned(aus[size_t(i)]), 40 * i);
  in->End();
  while (src.Next()) {
    got.push_back(src.frame_seq());
    CT_EXPECT(src.pts_ms() == 40 * src.frame_seq());
  }
  // 7 is inter-coded after the gap: skipped; decoding resumes at the keyframe 8.
  CT_EXPECT((got == std::vector<int64_t>{0, 8, 9}));
  const auto st = in->Stats();
  CT_EXPECT(st.dropped_queue == 6 && st.dropped_until_keyframe == 1);
  CT_EXPECT(warnings.empty());  // a policy drop is no bad input
}

// A pushed frame's own priority (PushInput::Push's `high`) comes out with its picture
// (FrameSource::frame_high_priority, which the runner hands to Batcher::Acquire): JPEGs directly, H.264 through the
// decoder's ring of recent pushes (here with B-frames, so pictures leave in another order than their pushes).
CT_TEST(push_source_carries_each_frames_priority_to_its_picture) {
  TempDir dir;
  const std::vector<Bytes> jpegs = ClipJpegs(dir, "videos/walking.mp4", 2);
  {
    auto in = std::make_shared<PushInput>(Options(PushCodec::kJpeg, /*live=*/false, 8));
    camtrack::preprocess::CpuLetterboxer lb;
    PushFrameSource src(in, Spec(), &lb, Connection{});
    src.Open();
    const bool high[4] = {false, true, true, false};
    for (int64_t i = 0; i < 4; ++i) in->Push(i, Owned(jpegs[size_t(i % 2)]), 40 * i, high[i]);
    in->End();
    for (int64_t i = 0; i < 4; ++i) {
      CT_EXPECT(src.Next());
      CT_EXPECT(src.frame_seq() == i && src.frame_high_priority() == high[i]);
    }
    CT_EXPECT(!src.Next());
  }
  const std::string h264 = dir / "bframes.h264";
  ct_push::RunFfmpeg("-i " + ct_push::Quote(ct_test::AssetPath("videos/walking.mp4")) +
                     " -frames:v 12 -an -c:v libx264 -preset ultrafast -g 12 -bf 2 -bsf:v h264_mp4toannexb -f h264 " +
                     ct_push::Quote(h264));
  const std::vector<Bytes> aus = AccessUnits(h264);
  CT_EXPECT(aus.size() == 12);
  auto in = std::make_shared<PushInput>(Options(PushCodec::kH264, /*live=*/false, 16));
  camtrack::preprocess::CpuLetterboxer lb;
  PushFrameSource src(in, Spec(), &lb, Connection{});
  src.Open();
  for (int64_t i = 0; i < 12; ++i) in->Push(i, Owned(aus[size_t(i)]), 40 * i, /*high=*/i % 3 == 1);
  in->End();
  int pictures = 0;
  while (src.Next()) {
    ++pictures;
    CT_EXPECT(src.frame_high_priority() == (src.frame_seq() % 3 == 1));
  }
  CT_EXPECT(pictures == 12);
}

CT_TEST(push_source_h264_before_the_first_keyframe_warns_no_keyframe) {
  TempDir dir;
  const std::string h264 = dir / "gop4.h264";
  ct_push::RunFfmpeg("-i " + ct_push::Quote(ct_test::AssetPath("videos/walking.mp4")) +
                     " -frames:v 8 -an -c:v libx264 -preset ultrafast -g 4 -keyint_min 4 -sc_threshold 0 -bf 0 "
                     "-bsf:v h264_mp4toannexb -f h264 " + ct_push::Quote(h264));
  std::vector<Bytes> aus = AccessUnits(h264);
  CT_EXPECT(aus.size() == 8);
  camtrack::decode::InstallFfmpegLogHandler();  // slices without parameter sets: libavcodec complains, silent here
  // A client that joins mid-GOP: the parameter sets, then pictures 1..3 (inter-coded), then the keyframe 4.
  auto in = std::make_shared<PushInput>(Options(PushCodec::kH264, /*live=*/false, 16));
  camtrack::preprocess::CpuLetterboxer lb;
  std::vector<SourceWarning> warnings;
  Connection c;
  c.warn = [&](const SourceWarning& w) { warnings.push_back(w); };
  PushFrameSource src(in, Spec(), &lb, c);
  src.Open();
  for (int64_t i = 1; i < 8; ++i) in->Push(i - 1, Owned(aus[size_t(i)]), -1);
  in->End();
  std::vector<int64_t> got;
  while (src.Next()) got.push_back(src.frame_seq());
  CT_EXPECT((got == std::vector<int64_t>{3, 4, 5, 6}));  // pushes 3.. are AUs 4..7
  CT_EXPECT(warnings.size() == 3);
  for (size_t i = 0; i < warnings.size(); ++i) {
    CT_EXPECT(warnings[i].reason == "no_keyframe" && warnings[i].frame == int64_t(i));
  }
  CT_EXPECT(in->Stats().rejected[size_t(camtrack::decode::FrameFault::kNoKeyframe)] == 3);
}

// libjpeg-turbo's own encoder: packed RGB24 (w × h) as a 4:2:0 JPEG.
Bytes TurboEncode(const uint8_t* rgb, int w, int h, int quality) {
  tjhandle c = tjInitCompress();
  unsigned char* out = nullptr;
  unsigned long size = 0;
  const int rc = tjCompress2(c, rgb, w, 0, h, TJPF_RGB, &out, &size, TJSAMP_420, quality, TJFLAG_ACCURATEDCT);
  const std::string err = rc ? tjGetErrorStr2(c) : "";
  Bytes b;
  if (rc == 0) b.assign(out, out + size);
  tjFree(out);
  tjDestroy(c);
  if (rc != 0) throw ct_test::Failure{"tjCompress2: " + err};
  return b;
}

// Frames of the clip encoded by libjpeg-turbo (as a camera's firmware or a client using it would), pushed, give the
// model the input the file source gives it for the same frames, within the decode difference: the pushed JPEG is
// decoded at the DCT scale for the model (1/2 for 720p into 416) and went through a JPEG encode (quality 95) on the
// way. Measured on these frames: mean |d| 0.99 of 255 per input value (bound 2.5; a 1080p frame decoded at 1/4 differs
// from its full decode by 1.3 alone: docs/push.md, Accuracy), 1.0 % of the values off by more than 16 and 0.17 % by
// more than 32, at sharp edges where the DCT scale averages and the bilinear resize samples (bound: 1 % over 32).
CT_TEST(push_source_libjpeg_turbo_jpegs_of_clip_frames_give_the_file_sources_model_input) {
  constexpr int kFrames = 5, kW = 1280, kH = 720;
  TempDir dir;
  const std::string raw = dir / "frames.rgb";
  ct_push::RunFfmpeg("-i " + ct_push::Quote(ct_test::AssetPath("videos/walking.mp4")) + " -frames:v " +
                     std::to_string(kFrames) + " -f rawvideo -pix_fmt rgb24 " + ct_push::Quote(raw));
  const Bytes rgb = ct_push::ReadFile(raw);
  CT_EXPECT(rgb.size() == size_t(kFrames) * kW * kH * 3);
  camtrack::preprocess::ModelInputSpec spec;
  spec.width = spec.height = 416;
  spec.scale = 1.f;  // model input in 0..255 units
  const size_t n = size_t(3) * spec.width * spec.height;

  auto in = std::make_shared<PushInput>(Options(PushCodec::kJpeg, /*live=*/false, 16));
  camtrack::preprocess::CpuLetterboxer push_lb, file_lb;
  PushFrameSource pushed(in, spec, &push_lb, Connection{});
  pushed.Open();
  for (int i = 0; i < kFrames; ++i)
    in->Push(i, Owned(TurboEncode(rgb.data() + size_t(i) * kW * kH * 3, kW, kH, 95)), -1);
  in->End();

  camtrack::decode::SourceOptions so;
  so.url = ct_test::AssetPath("videos/walking.mp4");
  so.rtsp_transport = "tcp";
  so.open_timeout_ms = so.read_timeout_ms = 10000;
  so.decoder_threads = 1;
  so.live = camtrack::decode::LiveMode::kFile;
  bool nvdec_off = true;
  camtrack::ingest::AvFrameSource file(so, camtrack::ingest::DecodeMode::kCpu, 0, &nvdec_off, &file_lb);
  file.Open();

  std::vector<float> a(n), b(n);
  double worst_mean = 0, worst_over = 0;
  for (int i = 0; i < kFrames; ++i) {
    CT_EXPECT(pushed.Next() && file.Next());
    const camtrack::LetterboxInfo la = pushed.LetterboxInto(spec, a.data());
    const camtrack::LetterboxInfo lb = file.LetterboxInto(spec, b.data());
    // The same geometry for the full-size frame (boxes map back alike).
    CT_EXPECT(la.src_width == lb.src_width && la.src_height == lb.src_height);
    CT_EXPECT_NEAR(la.scale, lb.scale, 1e-6);
    CT_EXPECT(la.pad_x == lb.pad_x && la.pad_y == lb.pad_y);
    double sum = 0;
    size_t over = 0;
    for (size_t k = 0; k < n; ++k) {
      const double d = std::abs(double(a[k]) - double(b[k]));
      sum += d;
      over += d > 32;
    }
    worst_mean = std::max(worst_mean, sum / double(n));
    worst_over = std::max(worst_over, double(over) / double(n));
  }
  CT_EXPECT(!pushed.Next());
  std::printf("      libjpeg-turbo q95 pushed vs file source, 416 input: worst mean |d| %.3f, worst share > 32: %.4f\n",
              worst_mean, worst_over);
  CT_EXPECT(worst_mean < 2.5);
  CT_EXPECT(worst_over < 0.01);
}

// ---- whole pipelines --------------------------------------------------------------------------------------------

struct Got {
  int64_t frame, seq, pts;
  int32_t width, height;
};

// Drains the pipeline on Notify() like the binding's delivery; keeps results, warnings and drains per stream.
class Collector : public camtrack::pipeline::EventSink {
 public:
  void Notify() override {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = true;
    cv_.notify_one();
  }
  void Start(Pipeline* p) {
    pipeline_ = p;
    thread_ = std::thread([this] { Loop(); });
  }
  void Join() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  bool WaitEnd(int32_t h, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return ends_.count(h) > 0; });
  }
  bool WaitDrain(int32_t h, int n, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return drains_[h] >= n; });
  }
  std::vector<Got> Results(int32_t h) {
    std::lock_guard<std::mutex> lock(mu_);
    return results_[h];
  }
  std::vector<StreamEvent> Warnings(int32_t h) {
    std::lock_guard<std::mutex> lock(mu_);
    return warnings_[h];
  }
  int Ends(int32_t h) {
    std::lock_guard<std::mutex> lock(mu_);
    return ends_.count(h) ? ends_[h] : 0;
  }
  std::string FinalState(int32_t h) {
    std::lock_guard<std::mutex> lock(mu_);
    return final_[h];
  }

 private:
  void Loop() {
    std::vector<FrameResult*> results;
    std::vector<StreamEvent> events;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return pending_ || quit_; });
      const bool quit = quit_;
      pending_ = false;
      lock.unlock();
      results.clear();
      events.clear();
      pipeline_->DrainEvents(results, events);
      lock.lock();
      for (const FrameResult* r : results)
        results_[r->stream].push_back({r->frame_index, r->input_seq, r->pts_ms, r->width, r->height});
      for (const StreamEvent& e : events) {
        if (e.kind == EventKind::kEnd) {
          ++ends_[e.stream];
          final_[e.stream] = e.state ? camtrack::ingest::StreamStateName(*e.state) : "";
        }
        if (e.kind == EventKind::kWarning) warnings_[e.stream].push_back(e);
        if (e.kind == EventKind::kDrain) ++drains_[e.stream];
      }
      lock.unlock();
      pipeline_->ReleaseResults(results);
      lock.lock();
      changed_.notify_all();
      if (quit) return;
    }
  }
  Pipeline* pipeline_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_, changed_;
  bool pending_ = false, quit_ = false;
  std::map<int32_t, std::vector<Got>> results_;
  std::map<int32_t, std::vector<StreamEvent>> warnings_;
  std::map<int32_t, int> ends_, drains_;
  std::map<int32_t, std::string> final_;
};

camtrack::pipeline::ModelConfig NullModel() {
  camtrack::pipeline::ModelConfig model;
  model.input.width = model.input.height = kInput;
  model.parser.layout = camtrack::postprocess::OutputLayout::kUltralytics;
  model.parser.input_width = model.parser.input_height = kInput;
  model.parser.num_classes = 80;
  model.parser.score_threshold = 0.25f;
  model.parser.nms_iou = 0.45f;
  model.parser.max_detections = 300;
  model.parser.num_anchors =
      (kInput / 8) * (kInput / 8) + (kInput / 16) * (kInput / 16) + (kInput / 32) * (kInput / 32);
  model.batch_size = kBatch;
  model.fixed_batch = true;
  model.output_elems_per_image = camtrack::postprocess::OutputElementsPerImage(model.parser);
  return model;
}

camtrack::pipeline::StreamConfig PushStream(const std::string& id, PushOptions push, bool live) {
  camtrack::pipeline::StreamConfig c;
  c.id = id;
  c.source.url = "push:" + id;
  c.source.decoder_threads = 1;
  c.source.live = live ? camtrack::decode::LiveMode::kLive : camtrack::decode::LiveMode::kFile;
  c.push = push;
  c.live_config.tracking = true;
  c.live_config.tracker = ct_test::ReferenceTrackerConfig(camtrack::track::TrackerConfig::Kind::kByteTrack);
  c.live_config.detection.max_area_px = c.live_config.detection.max_area_fraction = INFINITY;
  c.decode = camtrack::pipeline::DecodeMode::kCpu;
  return c;
}

// A pipeline with two null workers, started; stopped and joined by the destructor.
struct NullPipeline {
  Collector collector;
  std::unique_ptr<Pipeline> pipeline;
  std::vector<std::shared_ptr<ct_test::NullWorker>> workers;
  NullPipeline() {
    const auto model = NullModel();
    camtrack::pipeline::BatchingConfig batching;
    batching.max_wait_ms = 5;
    batching.result_capacity = 16;
    pipeline = std::make_unique<Pipeline>(model, batching, &collector, camtrack::pipeline::IngestConfig{});
    collector.Start(pipeline.get());
    for (int w = 0; w < 2; ++w) {
      auto worker = std::make_shared<ct_test::NullWorker>("null" + std::to_string(w),
                                                          size_t(kBatch) * 3 * kInput * kInput,
                                                          size_t(kBatch) * model.output_elems_per_image, 2);
      worker->Start(pipeline.get(), pipeline->AddWorker(worker));
      workers.push_back(std::move(worker));
    }
  }
  ~NullPipeline() {
    pipeline->Stop();
    for (auto& w : workers) w->Join();
    collector.Join();
  }
};

CT_TEST(push_pipeline_jpeg_good_and_bad_frames_keep_their_order_numbers_and_counts) {
  TempDir dir;
  const std::vector<Bytes> jpegs = ClipJpegs(dir, "videos/walking.mp4", 10);
  // One frame over the stream's pixel limit (1280 × 720 allowed; this one is 1600 × 900).
  const Bytes big = ClipJpegs(*std::make_unique<TempDir>(), "videos/walking.mp4", 1, "scale=1600:900")[0];
  NullPipeline np;
  const int32_t h = np.pipeline->AddStream(PushStream("cam", Options(PushCodec::kJpeg, false, 64, 1280 * 720), false));
  // The mix: good frames with a bad one after each of the first five, each of another kind.
  const Bytes png_magic = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13};
  const Bytes truncated(jpegs[2].begin(), jpegs[2].begin() + jpegs[2].size() / 2);
  std::vector<std::pair<Bytes, std::string>> bad = {
      {Bytes{}, "empty"}, {truncated, "truncated"}, {png_magic, "wrong_codec"},
      {Bytes{'h', 'e', 'l', 'l', 'o'}, "corrupt"}, {big, "too_large"}};
  std::vector<int64_t> good_seqs;
  std::map<int64_t, std::string> bad_seqs;
  int64_t seq = 0;
  for (size_t i = 0; i < jpegs.size(); ++i) {
    good_seqs.push_back(seq);
    np.pipeline->PushFrame(h, seq++, Owned(jpegs[i]), int64_t(i) * 40);
    if (i < bad.size()) {
      bad_seqs[seq] = bad[i].second;
      np.pipeline->PushFrame(h, seq++, Owned(bad[i].first), int64_t(i) * 40 + 20);
    }
  }
  np.pipeline->EndPush(h);
  CT_EXPECT(np.collector.WaitEnd(h, std::chrono::seconds(60)));
  const auto st = *np.pipeline->StreamStats(h);
  const auto got = np.collector.Results(h);
  CT_EXPECT(np.collector.Ends(h) == 1 && np.collector.FinalState(h) == "ended");
  // Every good frame, in push order, numbered by its push; pts as pushed; sizes of the full frame.
  CT_EXPECT(got.size() == good_seqs.size());
  for (size_t i = 0; i < got.size() && i < good_seqs.size(); ++i) {
    CT_EXPECT(got[i].seq == good_seqs[i] && got[i].frame == good_seqs[i]);
    CT_EXPECT(got[i].pts == int64_t(i) * 40);
    CT_EXPECT(got[i].width == 1280 && got[i].height == 720);
  }
  // One warning per bad frame (five: within the burst), naming it and its reason.
  const auto warnings = np.collector.Warnings(h);
  CT_EXPECT(warnings.size() == bad_seqs.size());
  for (const StreamEvent& w : warnings) {
    CT_EXPECT(bad_seqs.count(w.frame) == 1 && bad_seqs[w.frame] == w.reason);
  }
  // Counts: pushed = decoded + rejected; decoded = delivered (lossless: nothing dropped).
  CT_EXPECT(st.push && st.push_stats.pushed == 15 && st.push_stats.queued == 0 && st.push_stats.dropped_queue == 0);
  using F = camtrack::decode::FrameFault;
  for (F f : {F::kEmpty, F::kTruncated, F::kWrongCodec, F::kCorrupt, F::kTooLarge})
    CT_EXPECT(st.push_stats.rejected[size_t(f)] == 1);
  CT_EXPECT(st.decoded == 10 && st.corrupt == 5 && st.packets == 15 && st.delivered == 10 && st.dropped_busy == 0);
  // Ended: more pushes are refused.
  CT_EXPECT(ThrownCode([&] { np.pipeline->PushFrame(h, seq, Owned(jpegs[0]), -1); }) == ErrorCode::kInvalidState);
}

CT_TEST(push_pipeline_h264_access_units_of_a_clip_with_b_frames_give_every_picture_in_display_order) {
  TempDir dir;
  const std::string h264 = dir / "walking.h264";
  // The clip's own H.264 (High profile, B-frames), first 50 access units.
  ct_push::RunFfmpeg("-i " + ct_push::Quote(ct_test::AssetPath("videos/walking.mp4")) +
                     " -frames:v 50 -an -c:v copy -bsf:v h264_mp4toannexb -f h264 " + ct_push::Quote(h264));
  const std::vector<Bytes> aus = AccessUnits(h264);
  CT_EXPECT(aus.size() == 50);
  NullPipeline np;
  auto opts = Options(PushCodec::kH264, false, 8);
  const int32_t h = np.pipeline->AddStream(PushStream("h264", opts, false));
  // A lossless producer: waits for the drain whenever the queue is full.
  int drains_seen = 0;
  for (size_t i = 0; i < aus.size(); ++i) {
    const auto r = np.pipeline->PushFrame(h, int64_t(i), Owned(aus[i]), int64_t(i) * 40);
    if (r.full) CT_EXPECT(np.collector.WaitDrain(h, ++drains_seen, std::chrono::seconds(30)));
  }
  np.pipeline->EndPush(h);
  CT_EXPECT(np.collector.WaitEnd(h, std::chrono::seconds(60)));
  const auto got = np.collector.Results(h);
  CT_EXPECT(got.size() == 50);  // every picture, the last ones flushed at the end
  std::set<int64_t> seqs;
  bool reordered = false;
  for (size_t i = 0; i < got.size(); ++i) {
    seqs.insert(got[i].seq);
    if (i > 0) {
      CT_EXPECT(got[i].frame > got[i - 1].frame);  // frame indexes only go up
      CT_EXPECT(got[i].pts >= got[i - 1].pts);
      if (got[i].seq < got[i - 1].seq) reordered = true;
    }
    CT_EXPECT(got[i].frame >= got[i].seq);
  }
  CT_EXPECT(seqs.size() == 50 && *seqs.begin() == 0 && *seqs.rbegin() == 49);  // each push's picture exactly once
  CT_EXPECT(reordered);  // the clip has B-frames: display order is not push order
  CT_EXPECT(drains_seen > 0);
  const auto st = *np.pipeline->StreamStats(h);
  CT_EXPECT(st.push_stats.refused == 0 && st.delivered == 50 && st.corrupt == 0);
}

}  // namespace
