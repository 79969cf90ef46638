// Scheduling of inference (batch/schedule.h, batch/motion.h, preprocess/gray_thumbnail.h; docs/scheduling.md):
//   - InferenceSchedule: table-driven sequences of (pts, motion) → decisions for the interval, motion gating,
//     maxSkipSeconds, their combination, and Reset();
//   - MotionDetector: still frames have no motion, a moving square has, noise below the threshold is not, minArea
//     and masks decide, a square that stops becomes background, a size change restarts the background, and a frame
//     of the same geometry does not allocate (the buffers' addresses do not change);
//   - GrayThumbnail: yuv420p, nv12 and rgb24 frames give the mean luma of each block; unsupported formats say so.
extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/batch/motion.h"
#include "core/batch/schedule.h"
#include "core/preprocess/gray_thumbnail.h"
#include "test_main.h"

namespace {

using camtrack::batch::FrameDecision;
using camtrack::batch::InferenceSchedule;
using camtrack::batch::MotionConfig;
using camtrack::batch::MotionDetector;
using camtrack::batch::ScheduleConfig;

// One frame of a schedule table: its pts, whether it moved, and the decision expected ('I' infer, 'i' skip by
// interval, 'm' skip by motion).
struct Step {
  int64_t pts;
  bool motion;
  char expect;
};

std::string Run(const ScheduleConfig& c, const std::vector<Step>& steps, InferenceSchedule* s = nullptr) {
  InferenceSchedule own;
  if (!s) s = &own;
  std::string got;
  for (const Step& st : steps) {
    const FrameDecision d = s->Decide(c, st.pts, st.motion);
    got += d == FrameDecision::kInfer ? 'I' : d == FrameDecision::kSkipInterval ? 'i' : 'm';
  }
  return got;
}

std::string Expected(const std::vector<Step>& steps) {
  std::string e;
  for (const Step& st : steps) e += st.expect;
  return e;
}

// n frames at 40 ms (25 fps) from pts 0, `motion` on the frames listed in `moving`, expected decisions `expect`.
std::vector<Step> Frames(const std::string& expect, const std::vector<int>& moving = {}, int64_t gap_ms = 40) {
  std::vector<Step> v;
  for (size_t i = 0; i < expect.size(); ++i) {
    bool m = false;
    for (int k : moving) m = m || k == int(i);
    v.push_back({int64_t(i) * gap_ms, m, expect[i]});
  }
  return v;
}

CT_TEST(schedule_decisions_table) {
  struct Case {
    const char* name;
    ScheduleConfig config;
    std::vector<Step> steps;
  };
  const std::vector<Case> cases = {
      {"no interval, no motion gating: every frame", {0, false, 0}, Frames("IIIIII")},
      {"interval 1: every 2nd frame", {1, false, 0}, Frames("IiIiIiI")},
      {"interval 2: every 3rd frame (DeepStream)", {2, false, 0}, Frames("IiiIiiI")},
      {"motion flag ignored without motion gating", {0, false, 5}, Frames("IIII", {})},
      {"motion gating: first frame inferred, still frames skipped", {0, true, 0}, Frames("Immmmm")},
      {"motion gating: resumes on the first frame with motion", {0, true, 0}, Frames("ImmIImm", {3, 4})},
      {"motion gating + interval: motion on an interval-skipped frame is kept for the next allowed one",
       {2, true, 0}, Frames("IiiIiim", {1})},
      {"motion gating + interval: moving all the time = the interval alone", {1, true, 0},
       Frames("IiIiIi", {0, 1, 2, 3, 4, 5})},
      // 40 ms frames, maxSkipSeconds 0.2: frame 5 (200 ms after frame 0) is due, then frame 10.
      {"maxSkipSeconds forces inference by stream time", {0, true, 0.2}, Frames("ImmmmImmmmI")},
      {"maxSkipSeconds counts from the last inferred frame (motion at 3)", {0, true, 0.2},
       Frames("ImmImmmmImm", {3})},
      // 1 s gaps (a 1 fps camera): every frame is due with maxSkipSeconds 1.
      {"maxSkipSeconds with slow frames", {0, true, 1}, Frames("IIII", {}, 1000)},
  };
  for (const Case& c : cases) {
    const std::string got = Run(c.config, c.steps), want = Expected(c.steps);
    if (got != want) std::fprintf(stderr, "  %s: got %s, want %s\n", c.name, got.c_str(), want.c_str());
    CT_EXPECT(got == want);
  }
}

CT_TEST(schedule_reset_infers_the_next_frame_and_a_live_change_applies_at_once) {
  InferenceSchedule s;
  CT_EXPECT(Run({3, false, 0}, Frames("Iii"), &s) == "Iii");
  s.Reset();  // a new connection
  CT_EXPECT(Run({3, false, 0}, Frames("Iii"), &s) == "Iii");
  // The interval drops to 0 (configure()): the next frame is inferred, not after the old interval's remainder.
  CT_EXPECT(Run({0, false, 0}, Frames("II"), &s) == "II");
  // Motion gating turned on: still frames are skipped from the next one.
  CT_EXPECT(Run({0, true, 0}, Frames("mm"), &s) == "mm");
}

// A synthetic thumbnail source: a flat grey background (level 60) with a white square of side `sq` cells at (x, y),
// plus optional ±noise per cell from a fixed pseudo-random sequence.
void Paint(MotionDetector& m, int src_w, int src_h, int x, int y, int sq, int noise = 0, unsigned seed = 1) {
  uint8_t* t = m.Prepare(src_w, src_h);
  for (int r = 0; r < m.height(); ++r)
    for (int c = 0; c < m.width(); ++c) {
      int v = (c >= x && c < x + sq && r >= y && r < y + sq) ? 230 : 60;
      if (noise) {
        seed = seed * 1103515245u + 12345u;
        v += int((seed >> 16) % unsigned(2 * noise + 1)) - noise;
      }
      t[r * m.width() + c] = uint8_t(v);
    }
}

CT_TEST(motion_thumb_size_keeps_the_aspect_ratio) {
  int w = 0, h = 0;
  MotionDetector::ThumbSize(1920, 1080, &w, &h);
  CT_EXPECT(w == 64 && h == 36);
  MotionDetector::ThumbSize(640, 360, &w, &h);
  CT_EXPECT(w == 64 && h == 36);
  MotionDetector::ThumbSize(1080, 1920, &w, &h);  // portrait: 64 cells down
  CT_EXPECT(h == 64 && w == 36);
  MotionDetector::ThumbSize(32, 16, &w, &h);  // smaller than the grid: one cell per pixel
  CT_EXPECT(w == 32 && h == 16);
}

CT_TEST(motion_measure_decisions_table) {
  MotionConfig base;
  base.enabled = true;
  base.threshold = 25;
  base.min_area = 0.002;  // 0.2 % of 64 x 36 = 4.6 cells
  struct Case {
    const char* name;
    MotionConfig config;
    int dx;      // the square moves by dx cells between the two frames (0: still)
    int sq;      // side of the square, cells
    int noise;   // ± noise per cell on both frames
    bool motion; // expected on the second frame
  };
  MotionConfig big_area = base;
  big_area.min_area = 0.05;
  MotionConfig masked = base;
  masked.masks = {{{0.f, 0.f}, {640.f, 0.f}, {640.f, 180.f}, {0.f, 180.f}}};  // the top half of a 640 x 360 frame
  MotionConfig high_threshold = base;
  high_threshold.threshold = 200;
  const std::vector<Case> cases = {
      {"still frame", base, 0, 4, 0, false},
      {"a 4-cell square moves 4 cells (32 cells change)", base, 4, 4, 0, true},
      {"sensor noise below the threshold", base, 0, 4, 10, false},
      {"moving square under noise", base, 4, 4, 10, true},
      {"minArea 5 %: a small moving square is not enough", big_area, 4, 4, 0, false},
      {"minArea 5 %: a large one is (12 x 12 moves 12)", big_area, 12, 12, 0, true},
      {"motion inside a mask is ignored", masked, 4, 4, 0, false},
      {"a difference of 170 under threshold 200", high_threshold, 4, 4, 0, false},
  };
  for (const Case& c : cases) {
    MotionDetector m;
    Paint(m, 640, 360, 10, 2, c.sq, c.noise, 1);
    CT_EXPECT(m.Measure(c.config, 1).motion);  // the first frame initialises the background and counts as motion
    Paint(m, 640, 360, 10 + c.dx, 2, c.sq, c.noise, 2);
    const auto r = m.Measure(c.config, 1);
    if (r.motion != c.motion)
      std::fprintf(stderr, "  %s: motion %d (changed %d cells, %.4f)\n", c.name, r.motion, r.changed_cells,
                   r.changed_fraction);
    CT_EXPECT(r.motion == c.motion);
  }
}

CT_TEST(motion_a_square_that_stops_becomes_background_and_no_frame_allocates) {
  MotionConfig c;
  c.enabled = true;
  c.threshold = 25;
  c.min_area = 0.002;
  MotionDetector m;
  Paint(m, 1920, 1080, 0, 10, 4);
  const uint8_t* buffer = m.Prepare(1920, 1080);
  m.Measure(c, 7);
  int moving = 0;
  for (int f = 1; f <= 20; ++f) {  // moves 2 cells per frame
    Paint(m, 1920, 1080, 2 * f, 10, 4);
    moving += m.Measure(c, 7).motion;
  }
  CT_EXPECT(moving == 20);
  // Stops at x = 40: motion for a while (the background still holds the trail), then none: the background absorbed it.
  int last_motion = -1;
  for (int f = 0; f < 60; ++f) {
    Paint(m, 1920, 1080, 40, 10, 4);
    if (m.Measure(c, 7).motion) last_motion = f;
  }
  CT_EXPECT(last_motion >= 0 && last_motion < 30);
  CT_EXPECT(m.Prepare(1920, 1080) == buffer);  // same geometry: the same buffer, never re-allocated
  // A new size restarts the background: its first frame counts as motion, the next still one does not.
  Paint(m, 1280, 720, 40, 10, 4);
  CT_EXPECT(m.Measure(c, 7).motion);
  Paint(m, 1280, 720, 40, 10, 4);
  CT_EXPECT(!m.Measure(c, 7).motion);
  // Reset() (a new connection) restarts it too.
  m.Reset();
  Paint(m, 1280, 720, 0, 0, 4);
  CT_EXPECT(m.Measure(c, 7).motion);
}

struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

// A w x h frame of `fmt` whose luma is 40 in the left half and 200 in the right half (RGB: grey levels).
FramePtr HalfFrame(AVPixelFormat fmt, int w, int h) {
  FramePtr f(av_frame_alloc());
  f->format = fmt;
  f->width = w;
  f->height = h;
  CT_EXPECT(av_frame_get_buffer(f.get(), 0) == 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const uint8_t v = x < w / 2 ? 40 : 200;
      if (fmt == AV_PIX_FMT_RGB24)
        std::memset(f->data[0] + y * f->linesize[0] + 3 * x, v, 3);
      else
        f->data[0][y * f->linesize[0] + x] = v;
    }
  if (fmt == AV_PIX_FMT_YUV420P) {
    for (int p = 1; p <= 2; ++p)
      for (int y = 0; y < h / 2; ++y) std::memset(f->data[p] + y * f->linesize[p], 128, w / 2);
  } else if (fmt == AV_PIX_FMT_NV12) {
    for (int y = 0; y < h / 2; ++y) std::memset(f->data[1] + y * f->linesize[1], 128, w);
  }
  return f;
}

CT_TEST(gray_thumbnail_formats) {
  for (AVPixelFormat fmt : {AV_PIX_FMT_YUV420P, AV_PIX_FMT_NV12, AV_PIX_FMT_RGB24}) {
    FramePtr f = HalfFrame(fmt, 640, 360);
    std::vector<uint8_t> t(64 * 36, 0);
    CT_EXPECT(camtrack::preprocess::GrayThumbnail(*f, 64, 36, t.data()));
    bool ok = true;
    for (int y = 0; y < 36; ++y)
      for (int x = 0; x < 64; ++x) {
        const int want = x < 32 ? 40 : 200;
        if (std::abs(int(t[y * 64 + x]) - want) > 1) ok = false;
      }
    CT_EXPECT(ok);
  }
  // High bit depth is not read: the caller treats the frame as moving.
  FramePtr f(av_frame_alloc());
  f->format = AV_PIX_FMT_YUV420P10LE;
  f->width = 64;
  f->height = 36;
  CT_EXPECT(av_frame_get_buffer(f.get(), 0) == 0);
  std::vector<uint8_t> t(16 * 9);
  CT_EXPECT(!camtrack::preprocess::GrayThumbnail(*f, 16, 9, t.data()));
}

}  // namespace
