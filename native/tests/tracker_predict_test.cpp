// Tracker::Predict (seam a: a frame that is not inferred): motion models step forward with their velocity, the
// tracked tracks of the last inferred frame are output at their predicted boxes and keep their ids (not aged: a skip
// longer than the lost-track buffer does not end them), while tracks that were already lost age through the skipped
// frames exactly as through inferred frames without their detection (the buffer counts frames of the stream). For
// ByteTracker, SortTracker and IouTracker. (Their results on inferred frames are the reference tests' business:
// bytetrack_test.cpp, tracker_sort_test.cpp, tracker_iou_test.cpp run them unchanged.)
#include <cmath>
#include <memory>
#include <string>
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
    CT_EXPECT(out[0].frames_tracked == tracked + k);  // frames of the stream, inferred or not
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

// The lost-track buffer in frames of the stream, as a table. A static object is detected on frames 1..6; then each
// character of `after` is one frame: 'm' an inferred frame without its detection, '-' a frame that was not inferred
// (Predict); then an inferred frame with the detection again. Buffer N = 4 frames for every kind (ByteTrack
// track_buffer 4 at 30 fps; SORT and IoU max_age 4). The track was last tracked on the frame before the first 'm'
// (a '-' before it carries the track: tracked, not aged). It is removed at frame last + N + 1 (ByteTrack: + 2, the
// reference keeps a timed-out track in its lost list one more frame, where a detection still re-finds it), whether
// the frames in between were inferred or not, and the detection re-finds it (same id) when it comes by then.
namespace {

constexpr int kBuffer = 4;
constexpr int kWalk = 6;

std::unique_ptr<Tracker> MakeBuffered(TrackerConfig::Kind kind) {
  TrackerConfig c = ct_test::ReferenceTrackerConfig(kind);
  c.byte_track.track_buffer = kBuffer;  // at frame_rate 30: max_time_lost 4
  c.sort.max_age = kBuffer;
  c.sort.min_hits = 1;  // a re-found track is output on its first match again (a new one is not)
  c.iou.max_age = kBuffer;
  return camtrack::track::CreateTracker(c);
}

struct BufferOutcome {
  bool refound = false;      // the final detection continued the original track (same id, output)
  int64_t removed_at = 0;    // the frame of the original track's kRemoved (0: none)
  bool lost_output = false;  // a lost track was output on some frame (never allowed)
  bool predict_events = false;  // Predict() logged something other than kRemoved (never allowed)
};

// Runs `after` (then the detection when `redetect`, else 8 more non-inferred frames) on a fresh tracker of `kind`.
BufferOutcome RunBuffer(TrackerConfig::Kind kind, const std::string& after, bool redetect) {
  auto t = MakeBuffered(kind);
  Detection still;
  still.box = Box{300.f, 100.f, 400.f, 300.f};
  still.score = 0.9f;
  std::vector<TrackedObject> out;
  for (int f = 1; f <= kWalk; ++f) t->Update(&still, 1, out);
  if (out.size() != 1) throw ct_test::Failure{"the still object is not tracked after the walk"};
  const int64_t id = out[0].track_id;
  BufferOutcome r;
  std::vector<TrackEvent> events;
  t->TakeEvents(events);
  bool lost = false;
  std::string frames = after + (redetect ? "d" : "--------");
  for (char c : frames) {
    events.clear();
    if (c == 'm') {
      t->Update(nullptr, 0, out);
      lost = true;
    } else if (c == '-') {
      t->Predict(out);
      t->TakeEvents(events);
      for (const TrackEvent& e : events) r.predict_events |= e.kind != TrackEvent::Kind::kRemoved;
    } else {
      t->Update(&still, 1, out);
      r.refound = Find(out, id) != nullptr;
    }
    if (c != '-') t->TakeEvents(events);
    for (const TrackEvent& e : events) {
      if (e.track_id == id && e.kind == TrackEvent::Kind::kRemoved) r.removed_at = e.frame;
    }
    if (lost && c != 'd' && Find(out, id) != nullptr) r.lost_output = true;
  }
  return r;
}

struct BufferRow {
  const char* after;
  bool refound[3];  // ByteTrack, SORT, IoU
};

}  // namespace

CT_TEST(tracker_predict_lost_tracks_age_through_skipped_frames_table) {
  const TrackerConfig::Kind kinds[3] = {TrackerConfig::Kind::kByteTrack, TrackerConfig::Kind::kSort,
                                        TrackerConfig::Kind::kIou};
  const BufferRow rows[] = {
      {"mmmm", {true, true, true}},        // 4 frames lost, all inferred: within the buffer
      {"mmmmm", {true, false, false}},     // 5: past it (ByteTrack's extra frame)
      {"mmmmmm", {false, false, false}},   // 6: past it for all
      {"m---", {true, true, true}},        // 4 frames lost, 3 of them skipped: the same as inferred
      {"m----", {true, false, false}},     // 5, 4 skipped
      {"m-----", {false, false, false}},   // 6, 5 skipped: a skipped frame ages a lost track
      {"m-m-m", {true, false, false}},     // 5, alternating
      {"mm-m-m", {false, false, false}},   // 6, alternating
      {"-m-m-", {true, true, true}},       // carried through the first skip, then 4 lost
      {"------------", {true, true, true}},              // tracked through 12 skipped frames (3 x the buffer)
      {"------------mmmm", {true, true, true}},          // ... then 4 inferred misses: its buffer starts there
      {"------------m---", {true, true, true}},          // ... 4 lost, 3 skipped
      {"------------mmmmmm", {false, false, false}},     // ... 6 lost
      {"------------m-----", {false, false, false}},     // ... 6 lost, 5 skipped
  };
  for (int k = 0; k < 3; ++k) {
    const bool bytetrack = kinds[k] == TrackerConfig::Kind::kByteTrack;
    for (const BufferRow& row : rows) {
      const std::string after = row.after;
      const std::string what = std::string(camtrack::track::TrackerKindName(kinds[k])) + " '" + after + "'";
      const size_t first_miss = after.find('m');
      const BufferOutcome r = RunBuffer(kinds[k], after, true);
      if (r.refound != row.refound[k]) throw ct_test::Failure{what + ": refound " + std::to_string(r.refound)};
      if (r.lost_output || r.predict_events) throw ct_test::Failure{what + ": lost track output or Predict event"};
      // The removal frame, without the detection: last tracked frame + N + 1 (+ 1 for ByteTrack).
      const BufferOutcome g = RunBuffer(kinds[k], after, false);
      if (first_miss == std::string::npos) {
        // Tracked through the whole skip and 8 more skipped frames: never lost, never removed.
        if (g.removed_at != 0) throw ct_test::Failure{what + ": a tracked track was removed during a skip"};
        continue;
      }
      const int64_t last = kWalk + static_cast<int64_t>(first_miss);
      const int64_t expected = last + kBuffer + 1 + (bytetrack ? 1 : 0);
      if (g.removed_at != expected) {
        throw ct_test::Failure{what + ": removed at frame " + std::to_string(g.removed_at) + ", expected " +
                               std::to_string(expected)};
      }
      // The same frames all inferred (every '-' after the first 'm' an 'm'): the same outcome and removal frame.
      std::string inferred = after;
      for (size_t i = first_miss; i < inferred.size(); ++i) inferred[i] = 'm';
      const BufferOutcome ri = RunBuffer(kinds[k], inferred, true);
      const BufferOutcome gi = RunBuffer(kinds[k], inferred, false);
      if (ri.refound != r.refound || gi.removed_at != g.removed_at) {
        throw ct_test::Failure{what + ": differs from the same frames inferred"};
      }
    }
  }
}

// A tracked track carried through a skip longer than its buffer: output on every skipped frame with its id, then the
// detection continues it with no event at all (not lost, not re-found).
CT_TEST(tracker_predict_tracked_track_survives_a_skip_longer_than_its_buffer) {
  for (auto kind : {TrackerConfig::Kind::kByteTrack, TrackerConfig::Kind::kSort, TrackerConfig::Kind::kIou}) {
    auto t = MakeBuffered(kind);
    Detection still;
    still.box = Box{300.f, 100.f, 400.f, 300.f};
    still.score = 0.9f;
    std::vector<TrackedObject> out;
    for (int f = 1; f <= kWalk; ++f) t->Update(&still, 1, out);
    CT_EXPECT(out.size() == 1);
    const int64_t id = out[0].track_id;
    const int32_t age = out[0].frames_tracked;
    std::vector<TrackEvent> events;
    t->TakeEvents(events);
    events.clear();
    for (int k = 1; k <= 10 * kBuffer; ++k) {
      t->Predict(out);
      CT_EXPECT(out.size() == 1 && out[0].track_id == id);
      CT_EXPECT(out[0].frames_tracked == age + k);
    }
    t->Update(&still, 1, out);
    CT_EXPECT(out.size() == 1 && out[0].track_id == id);
    CT_EXPECT(out[0].frames_tracked == age + 10 * kBuffer + 1);
    t->TakeEvents(events);
    CT_EXPECT(events.empty());
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
