// SortTracker tests: the reference check on TUD-Campus (tracks, ids and boxes of abewley/sort's sort.py on the
// SORT author's own detections), plus the reference's output semantics (min_hits, max_age) on hand-made boxes.
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/track/sort_tracker.h"
#include "test_assets.h"
#include "test_main.h"
#include "tracker_reference.h"

namespace {

using camtrack::Box;
using camtrack::Detection;
using camtrack::track::SortParams;
using camtrack::track::SortTracker;
using camtrack::track::TrackedObject;

Detection SortDet(float x1, float y1, float x2, float y2, int32_t cls = 0) {
  Detection d;
  d.box = Box{x1, y1, x2, y2};
  d.score = 0.9f;
  d.class_id = cls;
  return d;
}

}  // namespace

// Reference: sort.py (abewley/sort 03aa1e35, its defaults max_age=1, min_hits=3, iou_threshold=0.3) run on
// mot/TUD-Campus/det.txt exactly as its __main__ does, output printed with %.2f. Rows below are copied from that
// run (frame, id, x, y, w, h). Our output must have the same 261 rows, the same 15 ids and these boxes (±0.011:
// the reference's 2-decimal printing plus float32 inputs).
CT_TEST(sort_reference_tud_campus) {
  const auto frames = ct_test::ReadMotDetections("mot/TUD-Campus/det.txt");
  CT_EXPECT(frames.size() == 71);
  struct Row {
    int frame;
    int id;
    double x, y, w, h;
  };
  const std::vector<Row> expected = {
      {4, 6, 153.04, 199.66, 41.57, 156.57},   {4, 5, 176.19, 212.05, 54.21, 147.44},
      {4, 4, 223.42, 207.83, 40.61, 137.34},   {4, 3, 418.29, 172.66, 133.57, 249.70},
      {4, 2, 67.14, 143.81, 116.18, 314.36},   {4, 1, 262.36, 194.49, 77.54, 196.07},
      {40, 18, 290.47, 191.96, 68.90, 172.39}, {40, 11, 19.29, 158.39, 111.33, 268.49},
      {40, 7, 395.99, 143.91, 109.11, 319.32}, {71, 27, 558.12, 217.98, 64.32, 134.40},
      {71, 23, 327.56, 181.05, 104.89, 255.20}, {71, 18, 418.31, 200.16, 76.00, 169.73},
  };
  const std::set<long long> expected_ids = {1, 2, 3, 4, 5, 6, 7, 10, 11, 13, 15, 18, 19, 23, 27};

  SortTracker tracker(ct_test::ReferenceSortParams());
  std::vector<TrackedObject> out;
  std::map<int, std::vector<TrackedObject>> got;
  std::set<long long> ids;
  size_t rows = 0;
  for (int fr = 1; fr <= 71; ++fr) {
    auto it = frames.find(fr);
    const Detection* d = it == frames.end() ? nullptr : it->second.data();
    const size_t n = it == frames.end() ? 0 : it->second.size();
    tracker.Update(d, n, out);
    got[fr] = out;
    rows += out.size();
    for (const auto& o : out) ids.insert(o.track_id);
  }
  CT_EXPECT(rows == 261);
  CT_EXPECT(ids == expected_ids);
  for (const Row& r : expected) {
    const auto& v = got[r.frame];
    // Same order as the reference (reverse creation order) within the frame.
    CT_EXPECT(v.size() == (r.frame == 4 ? 6u : 3u));
    bool found = false;
    for (const auto& o : v) {
      if (o.track_id != r.id) continue;
      found = true;
      CT_EXPECT_NEAR(o.box.x1, r.x, 0.011);
      CT_EXPECT_NEAR(o.box.y1, r.y, 0.011);
      CT_EXPECT_NEAR(o.box.x2 - o.box.x1, r.w, 0.011);
      CT_EXPECT_NEAR(o.box.y2 - o.box.y1, r.h, 0.011);
    }
    CT_EXPECT(found);
  }
  CT_EXPECT(got[71][0].track_id == 27 && got[71][1].track_id == 23 && got[71][2].track_id == 18);
}

// sort.py: output when hit_streak >= min_hits OR frame_count <= min_hits. A track born on frame 1 is output at
// once; one born on frame 5 is output from its 4th detection (3 updates after creation), i.e. frame 8.
CT_TEST(sort_min_hits_semantics) {
  SortTracker tracker(ct_test::ReferenceSortParams());
  std::vector<TrackedObject> out;
  for (int f = 1; f <= 10; ++f) {
    std::vector<Detection> dets = {SortDet(100.f + 3 * f, 50, 160.f + 3 * f, 200)};
    if (f >= 5) dets.push_back(SortDet(400.f - 2 * f, 60, 450.f - 2 * f, 180));
    tracker.Update(dets.data(), dets.size(), out);
    bool has1 = false, has2 = false;
    for (const auto& o : out) {
      has1 |= o.track_id == 1;
      has2 |= o.track_id == 2;
    }
    CT_EXPECT(has1);
    CT_EXPECT(has2 == (f >= 8));
    if (has2) {
      for (const auto& o : out) {
        if (o.track_id == 2) CT_EXPECT(o.frames_tracked == f - 4);
      }
    }
  }
}

// max_age = 1: a track survives one missed frame (not output), keeps its id when matched again but is output only
// after min_hits new consecutive matches; two missed frames delete it and the object comes back with a new id.
CT_TEST(sort_max_age_and_reacquire) {
  SortTracker tracker(ct_test::ReferenceSortParams());
  std::vector<TrackedObject> out;
  auto det = [](int f) { return SortDet(100.f + 2 * f, 50, 160.f + 2 * f, 200); };
  for (int f = 1; f <= 6; ++f) {
    const Detection d = det(f);
    tracker.Update(&d, 1, out);
    CT_EXPECT(out.size() == 1 && out[0].track_id == 1);
  }
  tracker.Update(nullptr, 0, out);  // frame 7: missed
  CT_EXPECT(out.empty());
  for (int f = 8; f <= 10; ++f) {  // matched again: hit_streak 1, 2, 3
    const Detection d = det(f);
    tracker.Update(&d, 1, out);
    CT_EXPECT(out.size() == (f == 10 ? 1u : 0u));
  }
  CT_EXPECT(out[0].track_id == 1);
  tracker.Update(nullptr, 0, out);  // frames 11, 12: missed twice -> deleted
  tracker.Update(nullptr, 0, out);
  for (int f = 13; f <= 16; ++f) {
    const Detection d = det(f);
    tracker.Update(&d, 1, out);
  }
  CT_EXPECT(out.size() == 1 && out[0].track_id == 2);
}

CT_TEST(sort_class_aware_and_validation) {
  for (bool class_aware : {false, true}) {
    SortParams p = ct_test::ReferenceSortParams();
    p.min_hits = 0;
    p.class_aware = class_aware;
    SortTracker tracker(p);
    std::vector<TrackedObject> out;
    const Detection a = SortDet(10, 10, 60, 110, 0);
    const Detection b = SortDet(11, 10, 61, 110, 1);  // same place, other class
    tracker.Update(&a, 1, out);
    tracker.Update(&b, 1, out);
    CT_EXPECT(out.size() == 1);
    CT_EXPECT(out[0].track_id == (class_aware ? 2 : 1));
    CT_EXPECT(out[0].class_id == 1);
  }
  bool threw = false;
  try {
    SortParams p = ct_test::ReferenceSortParams();
    p.iou_threshold = 1.5f;
    SortTracker t(p);
  } catch (const camtrack::Error& e) {
    threw = e.code() == camtrack::ErrorCode::kInvalidArgument;
  }
  CT_EXPECT(threw);
  threw = false;
  try {
    SortParams p = ct_test::ReferenceSortParams();
    p.max_age = -1;
    SortTracker t(p);
  } catch (const camtrack::Error& e) {
    threw = e.code() == camtrack::ErrorCode::kInvalidArgument;
  }
  CT_EXPECT(threw);
}
