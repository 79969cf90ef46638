// Tracker::Predict (seam a: a frame that is not inferred): motion models step forward with their velocity, the
// tracks of the last inferred frame are output at their predicted boxes, ids survive, and the frame is not a miss —
// a track survives more non-inferred frames than its lost-track buffer, which counts inferred frames only. For
// ByteTracker, SortTracker and IouTracker. (Their results on inferred frames are the reference tests' business:
// bytetrack_test.cpp, tracker_sort_test.cpp, tracker_iou_test.cpp run them unchanged.)
#include <cmath>
#include <memory>
#include <vector>

#include "core/track/factory.h"
#include "test_main.h"
#include "tracker_reference.h"

namespace {

using camtrack::Box;
using camtrack::Detection;
using camtrack::track::TrackedObject;
using camtrack::track::TrackEvent;
using camtrack::track::Tracker;
using camtrack::track::TrackerConfig;

constexpr float kSpeed = 5.f;  // px per frame, along x

// The object of frame f (1-based): a 100 x 200 box moving right at kSpeed.
Detection Walker(int f) {
  Detection d;
  d.box = Box{100.f + kSpeed * f, 50.f, 200.f + kSpeed * f, 250.f};
  d.score = 0.9f;
  return d;
}

float CenterX(const Box& b) { return (b.x1 + b.x2) / 2; }

const TrackedObject* Find(const std::vector<TrackedObject>& v, int64_t id) {
  for (const auto& o : v)
    if (o.track_id == id) return &o;
  return nullptr;
}

std::unique_ptr<Tracker> Make(TrackerConfig::Kind kind) {
  return camtrack::track::CreateTracker(ct_test::ReferenceTrackerConfig(kind));
}

// Feeds the walker for frames 1..n (inferred); returns the id of its track (0: none).
int64_t Walk(Tracker& t, int n, std::vector<TrackedObject>& out) {
  for (int f = 1; f <= n; ++f) {
    const Detection d = Walker(f);
    t.Update(&d, 1, out);
  }
  return out.size() == 1 ? out[0].track_id : 0;
}

}  // namespace

// After 20 inferred frames the Kalman velocity is the walker's: each non-inferred frame moves the predicted box by
// about kSpeed, keeps its size and id, and reports no event.
CT_TEST(tracker_predict_bytetrack_moves_boxes_with_the_kalman_velocity) {
  auto t = Make(TrackerConfig::Kind::kByteTrack);
  std::vector<TrackedObject> out;
  const int64_t id = Walk(*t, 20, out);
  CT_EXPECT(id == 1);
  const int32_t tracked = out[0].frames_tracked;
  std::vector<TrackEvent> events;
  t->TakeEvents(events);
  float prev = CenterX(out[0].box);
  for (int k = 1; k <= 5; ++k) {
    t->Predict(out);
    CT_EXPECT(out.size() == 1 && out[0].track_id == id);
    const float cx = CenterX(out[0].box);
    CT_EXPECT_NEAR(cx - prev, kSpeed, 0.75);
    CT_EXPECT_NEAR(out[0].box.x2 - out[0].box.x1, 100.0, 2.0);
    CT_EXPECT_NEAR(out[0].box.y2 - out[0].box.y1, 200.0, 2.0);
    CT_EXPECT(out[0].frames_tracked == tracked);  // counts inferred frames
    prev = cx;
  }
  events.clear();
  t->TakeEvents(events);
  CT_EXPECT(events.empty());
  // Where the walker really is after 5 more frames: the same track, at the predicted place.
  CT_EXPECT_NEAR(prev, CenterX(Walker(25).box), 3.0);
  const Detection d = Walker(26);
  t->Update(&d, 1, out);
  CT_EXPECT(out.size() == 1 && out[0].track_id == id);
  events.clear();
  t->TakeEvents(events);
  CT_EXPECT(events.empty());
}

// track_buffer 3 frames: 20 non-inferred frames, 2 inferred misses (lost), 20 more non-inferred frames and a third
// inferred miss keep the track within its buffer of 3 inferred frames — the detection after them refinds it with its
// id (a non-inferred frame counted as a miss would have removed it long before). Control: 5 inferred misses remove
// it and the same kind of detection starts a new id.
CT_TEST(tracker_predict_bytetrack_survives_more_non_inferred_frames_than_its_track_buffer) {
  TrackerConfig c = ct_test::ReferenceTrackerConfig(TrackerConfig::Kind::kByteTrack);
  c.byte_track.track_buffer = 3;  // at frame_rate 30: max_time_lost 3
  std::vector<TrackedObject> out;
  std::vector<TrackEvent> events;
  for (const bool control : {false, true}) {
    auto t = camtrack::track::CreateTracker(c);
    const int64_t id = Walk(*t, 10, out);
    CT_EXPECT(id == 1);
    int frame = 10;
    const auto predict = [&](int n) {
      for (int k = 0; k < n; ++k, ++frame) {
        t->Predict(out);
        CT_EXPECT(control || Find(out, id) != nullptr || out.empty());
      }
    };
    const auto miss = [&](int n) {
      for (int k = 0; k < n; ++k, ++frame) t->Update(nullptr, 0, out);
    };
    if (control) {
      miss(5);
    } else {
      predict(20);
      CT_EXPECT(Find(out, id) != nullptr);  // tracked: output at its predicted box all along
      miss(2);
      CT_EXPECT(out.empty());               // lost: not output
      predict(20);
      CT_EXPECT(out.empty());               // a lost track is not output, predicted or not
      miss(1);
    }
    events.clear();
    t->TakeEvents(events);
    const Detection d = Walker(frame + 1);
    t->Update(&d, 1, out);
    events.clear();
    t->TakeEvents(events);
    if (control) {
      // Removed: the detection starts a new, unconfirmed track (not output on its first frame).
      CT_EXPECT(Find(out, id) == nullptr);
    } else {
      CT_EXPECT(out.size() == 1 && out[0].track_id == id);
      CT_EXPECT(events.size() == 1 && events[0].kind == TrackEvent::Kind::kRefound && events[0].track_id == id);
    }
  }
}

// SORT (max_age 1): the Kalman velocity moves the predicted box; 5 non-inferred frames (> max_age) keep the track and
// its id, and the next detection continues it at once (no new min_hits wait). Control: 2 inferred misses delete it.
CT_TEST(tracker_predict_sort_moves_boxes_and_keeps_tracks_past_max_age) {
  std::vector<TrackedObject> out;
  auto t = Make(TrackerConfig::Kind::kSort);
  const int64_t id = Walk(*t, 20, out);
  CT_EXPECT(id != 0);
  float prev = CenterX(out[0].box);
  for (int k = 1; k <= 5; ++k) {
    t->Predict(out);
    CT_EXPECT(out.size() == 1 && out[0].track_id == id);
    const float cx = CenterX(out[0].box);
    CT_EXPECT_NEAR(cx - prev, kSpeed, 0.75);
    prev = cx;
  }
  std::vector<TrackEvent> events;
  t->TakeEvents(events);
  events.clear();
  const Detection d = Walker(26);
  t->Update(&d, 1, out);
  CT_EXPECT(out.size() == 1 && out[0].track_id == id);
  t->TakeEvents(events);
  CT_EXPECT(events.empty());

  auto control = Make(TrackerConfig::Kind::kSort);
  const int64_t cid = Walk(*control, 20, out);
  control->Update(nullptr, 0, out);
  control->Update(nullptr, 0, out);
  control->Update(&d, 1, out);
  CT_EXPECT(Find(out, cid) == nullptr);
}

// IoU tracker (no motion model, max_age 1): non-inferred frames output the last boxes with the same ids, and 5 of
// them (> max_age) do not end the track. Control: 2 inferred misses do.
CT_TEST(tracker_predict_iou_keeps_last_boxes_and_ids_past_max_age) {
  std::vector<TrackedObject> out;
  auto t = Make(TrackerConfig::Kind::kIou);
  const int64_t id = Walk(*t, 5, out);
  CT_EXPECT(id == 1);
  const Box last = out[0].box;
  for (int k = 0; k < 5; ++k) {
    t->Predict(out);
    CT_EXPECT(out.size() == 1 && out[0].track_id == id);
    CT_EXPECT(out[0].box.x1 == last.x1 && out[0].box.x2 == last.x2);
  }
  const Detection d = Walker(6);
  t->Update(&d, 1, out);
  CT_EXPECT(out.size() == 1 && out[0].track_id == id);

  auto control = Make(TrackerConfig::Kind::kIou);
  Walk(*control, 5, out);
  control->Update(nullptr, 0, out);
  control->Update(nullptr, 0, out);
  control->Update(&d, 1, out);
  CT_EXPECT(out.empty());  // a new tentative track (min_hits 3), the old one gone
}

// Predict on a fresh tracker (nothing yet) outputs nothing and changes nothing.
CT_TEST(tracker_predict_on_an_empty_tracker_outputs_nothing) {
  for (auto kind : {TrackerConfig::Kind::kByteTrack, TrackerConfig::Kind::kSort, TrackerConfig::Kind::kIou}) {
    auto t = Make(kind);
    std::vector<TrackedObject> out(3);
    t->Predict(out);
    CT_EXPECT(out.empty());
    const int64_t id = Walk(*t, kind == TrackerConfig::Kind::kByteTrack ? 2 : 3, out);
    CT_EXPECT(id == 1);
  }
}
