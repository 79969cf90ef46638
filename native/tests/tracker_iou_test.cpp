// IouTracker tests: confirmation after min_hits with gap-free ids, optimal vs greedy matching on a case where they
// differ, max_age and re-finding at the last box, class-aware matching, parameter validation.
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/track/iou_tracker.h"
#include "test_main.h"
#include "tracker_reference.h"

namespace {

using camtrack::Box;
using camtrack::Detection;
using camtrack::track::IouParams;
using camtrack::track::IouTracker;
using camtrack::track::TrackedObject;

// Boxes spanning y 0..10, so the IoU of two of them is the 1-D IoU of their x intervals.
Detection IouDet(float x1, float x2, int32_t cls = 0) {
  Detection d;
  d.box = Box{x1, 0, x2, 10};
  d.score = 0.8f;
  d.class_id = cls;
  return d;
}

const TrackedObject* Find(const std::vector<TrackedObject>& v, long long id) {
  for (const auto& o : v) {
    if (o.track_id == id) return &o;
  }
  return nullptr;
}

}  // namespace

// A 1-frame false positive never gets an id; a real object is output from its min_hits-th frame with id 1.
CT_TEST(iou_tracker_confirms_after_min_hits_without_id_gaps) {
  IouTracker tracker(ct_test::ReferenceIouParams());  // min_hits 3
  std::vector<TrackedObject> out;
  for (int f = 1; f <= 5; ++f) {
    std::vector<Detection> dets = {IouDet(100.f + f, 150.f + f)};
    if (f == 1) dets.push_back(IouDet(300, 340));  // false positive, only once
    tracker.Update(dets.data(), dets.size(), out);
    CT_EXPECT(out.size() == (f >= 3 ? 1u : 0u));
    if (f >= 3) {
      CT_EXPECT(out[0].track_id == 1);
      CT_EXPECT(out[0].frames_tracked == f);
      CT_EXPECT(out[0].box.x1 == 100.f + f);  // no motion model: the box is the detection's
    }
  }
}

// Tracks A = [0,10] (id 1) and B = [4,14] (id 2); next frame d1 = [1,11], d2 = [-2,8]:
// IoU(A,d1) = 0.818, IoU(B,d1) = 0.538, IoU(A,d2) = 0.667, IoU(B,d2) = 0.25 (< 0.3, forbidden).
// Optimal (max sum of IoU - 0.3): A-d2 + B-d1 = 0.605 > A-d1 = 0.518. Greedy takes A-d1 first and loses B.
CT_TEST(iou_tracker_optimal_vs_greedy) {
  for (bool greedy : {false, true}) {
    IouParams p = ct_test::ReferenceIouParams();
    p.min_hits = 1;
    p.greedy = greedy;
    IouTracker tracker(p);
    std::vector<TrackedObject> out;
    const Detection first[2] = {IouDet(0, 10), IouDet(4, 14)};
    tracker.Update(first, 2, out);
    CT_EXPECT(out.size() == 2);
    const Detection second[2] = {IouDet(1, 11), IouDet(-2, 8)};
    tracker.Update(second, 2, out);
    const TrackedObject* a = Find(out, 1);
    const TrackedObject* b = Find(out, 2);
    CT_EXPECT(a != nullptr);
    if (!greedy) {
      CT_EXPECT(out.size() == 2);
      CT_EXPECT(a->box.x1 == -2.f);
      CT_EXPECT(b != nullptr && b->box.x1 == 1.f);
    } else {
      CT_EXPECT(out.size() == 2);  // id 1 and a new id 3
      CT_EXPECT(a->box.x1 == 1.f);
      CT_EXPECT(b == nullptr);
      CT_EXPECT(Find(out, 3) != nullptr && Find(out, 3)->box.x1 == -2.f);
    }
  }
}

// max_age = 2: a confirmed track missing for 2 frames is matched again at its last box with its id; missing for
// 3 frames it is deleted and the object gets a new id.
CT_TEST(iou_tracker_max_age) {
  IouParams p = ct_test::ReferenceIouParams();
  p.min_hits = 2;
  p.max_age = 2;
  IouTracker tracker(p);
  std::vector<TrackedObject> out;
  const Detection d = IouDet(50, 90);
  tracker.Update(&d, 1, out);
  tracker.Update(&d, 1, out);
  CT_EXPECT(out.size() == 1 && out[0].track_id == 1);
  tracker.Update(nullptr, 0, out);
  tracker.Update(nullptr, 0, out);
  CT_EXPECT(out.empty());
  const Detection moved = IouDet(55, 95);
  tracker.Update(&moved, 1, out);
  CT_EXPECT(out.size() == 1 && out[0].track_id == 1);
  for (int i = 0; i < 3; ++i) tracker.Update(nullptr, 0, out);
  tracker.Update(&moved, 1, out);
  CT_EXPECT(out.empty());  // tentative again
  tracker.Update(&moved, 1, out);
  CT_EXPECT(out.size() == 1 && out[0].track_id == 2);
}

CT_TEST(iou_tracker_class_aware_and_validation) {
  for (bool class_aware : {false, true}) {
    IouParams p = ct_test::ReferenceIouParams();
    p.min_hits = 1;
    p.class_aware = class_aware;
    IouTracker tracker(p);
    std::vector<TrackedObject> out;
    const Detection a = IouDet(0, 40, 2);
    const Detection b = IouDet(1, 41, 7);
    tracker.Update(&a, 1, out);
    tracker.Update(&b, 1, out);
    CT_EXPECT(out.size() == 1);
    CT_EXPECT(out[0].track_id == (class_aware ? 2 : 1));
    CT_EXPECT(out[0].class_id == 7);
  }
  for (int which = 0; which < 3; ++which) {
    IouParams p = ct_test::ReferenceIouParams();
    if (which == 0) p.iou_threshold = -0.1f;
    if (which == 1) p.min_hits = 0;
    if (which == 2) p.max_age = -3;
    bool threw = false;
    try {
      IouTracker t(p);
    } catch (const camtrack::Error& e) {
      threw = e.code() == camtrack::ErrorCode::kInvalidArgument && e.stage() == "track";
    }
    CT_EXPECT(threw);
  }
}
