// Track lifecycle events (TakeEvents) of ByteTracker, SortTracker and IouTracker, and the factory
// (CreateTracker / ApplyBufferSeconds).
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/track/factory.h"
#include "core/track/lapjv.h"
#include "test_assets.h"
#include "test_main.h"
#include "tracker_reference.h"

namespace {

using camtrack::Box;
using camtrack::Detection;
using camtrack::track::ByteTracker;
using camtrack::track::CreateTracker;
using camtrack::track::IouTracker;
using camtrack::track::SortTracker;
using camtrack::track::TrackedObject;
using camtrack::track::TrackerConfig;
using camtrack::track::TrackEvent;
using Kind = camtrack::track::TrackEvent::Kind;

Detection LcDet(float x1, float y1, float x2, float y2) {
  Detection d;
  d.box = Box{x1, y1, x2, y2};
  d.score = 0.9f;
  return d;
}

// Runs `tracker` over TUD-Campus, taking events after every frame, and checks them against the outputs:
// kNew exactly when an id is output for the first time; kLost only for an id output before and not output now;
// kRefound exactly when a lost id is output again; kRemoved once, after which the id never appears. Returns the
// number of events of each kind (new, lost, refound, removed).
std::vector<int> CheckEventsAgainstOutputs(camtrack::track::Tracker& tracker,
                                           const std::map<int, std::vector<Detection>>& frames) {
  enum class St { kUnseen, kOut, kLost, kRemoved };
  std::map<long long, St> state;
  std::vector<TrackedObject> out;
  std::vector<TrackEvent> events;
  std::vector<int> counts(4, 0);
  for (int fr = 1; fr <= 71; ++fr) {
    auto it = frames.find(fr);
    tracker.Update(it == frames.end() ? nullptr : it->second.data(), it == frames.end() ? 0 : it->second.size(),
                   out);
    events.clear();
    tracker.TakeEvents(events);
    std::map<long long, const TrackedObject*> now;
    for (const auto& o : out) now[o.track_id] = &o;
    std::map<long long, Kind> ev;
    for (const auto& e : events) {
      CT_EXPECT(e.frame == fr);
      CT_EXPECT(ev.count(e.track_id) == 0);  // one event per id per frame
      ev[e.track_id] = e.kind;
      ++counts[static_cast<int>(e.kind)];
    }
    for (const auto& [id, o] : now) {
      const St s = state.count(id) ? state[id] : St::kUnseen;
      CT_EXPECT(s != St::kRemoved);
      if (s == St::kUnseen) {
        CT_EXPECT(ev.count(id) && ev[id] == Kind::kNew);
      } else if (s == St::kLost) {
        CT_EXPECT(ev.count(id) && ev[id] == Kind::kRefound);
      } else {
        CT_EXPECT(ev.count(id) == 0);
      }
      if (ev.count(id)) {
        for (const auto& e : events) {
          if (e.track_id == id) CT_EXPECT(e.box.x1 == o->box.x1 && e.box.y2 == o->box.y2);
        }
      }
      state[id] = St::kOut;
    }
    for (const auto& [id, k] : ev) {
      if (now.count(id)) continue;
      const St s = state.count(id) ? state[id] : St::kUnseen;
      if (k == Kind::kLost) {
        CT_EXPECT(s == St::kOut);
        state[id] = St::kLost;
      } else {
        CT_EXPECT(k == Kind::kRemoved);
        CT_EXPECT(s == St::kOut || s == St::kLost);
        state[id] = St::kRemoved;
      }
    }
    // An id output last frame and not now must have been reported lost or removed in this frame.
    for (auto& [id, s] : state) {
      if (s == St::kOut && !now.count(id)) CT_EXPECT(false);
    }
  }
  CT_EXPECT(tracker.DroppedEvents() == 0);
  return counts;
}

}  // namespace

CT_TEST(tracker_events_consistent_with_outputs_tud_campus) {
  const auto frames = ct_test::ReadMotDetections("mot/TUD-Campus/det.txt");
  for (auto kind : {TrackerConfig::Kind::kByteTrack, TrackerConfig::Kind::kSort, TrackerConfig::Kind::kIou}) {
    TrackerConfig cfg = ct_test::ReferenceTrackerConfig(kind);
    auto tracker = CreateTracker(cfg);
    const std::vector<int> c = CheckEventsAgainstOutputs(*tracker, frames);
    std::printf("      %s: new %d lost %d refound %d removed %d\n", camtrack::track::TrackerKindName(kind), c[0], c[1],
                c[2], c[3]);
    // Measured with the default parameters (docs/tracking.md); any change in association shows up here.
    if (kind == TrackerConfig::Kind::kByteTrack) CT_EXPECT(c == std::vector<int>({12, 22, 13, 6}));
    if (kind == TrackerConfig::Kind::kSort) CT_EXPECT(c == std::vector<int>({15, 12, 0, 12}));
    if (kind == TrackerConfig::Kind::kIou) CT_EXPECT(c == std::vector<int>({15, 12, 0, 12}));
  }
}

// ByteTrack, 30 fps, track_buffer 30: a box tracked on frames 1-5, missing 6-15, back on 16, then gone.
CT_TEST(bytetrack_events_new_lost_refound_removed) {
  ByteTracker tracker(ct_test::ReferenceByteTrackParams());
  std::vector<TrackedObject> out;
  std::vector<TrackEvent> ev;
  auto at = [](int f) { return LcDet(100.f + 2 * f, 50.f, 160.f + 2 * f, 200.f); };
  for (int f = 1; f <= 80; ++f) {
    const Detection d = at(f);
    const bool present = f <= 5 || f == 16;
    tracker.Update(present ? &d : nullptr, present ? 1 : 0, out);
  }
  tracker.TakeEvents(ev);
  CT_EXPECT(ev.size() == 5);
  CT_EXPECT(ev[0].kind == Kind::kNew && ev[0].frame == 1 && ev[0].track_id == 1);
  CT_EXPECT(ev[1].kind == Kind::kLost && ev[1].frame == 6);
  CT_EXPECT(ev[2].kind == Kind::kRefound && ev[2].frame == 16);
  CT_EXPECT_NEAR(ev[2].box.x1, 132.0, 1.0);
  CT_EXPECT(ev[3].kind == Kind::kLost && ev[3].frame == 17);
  // max_time_lost = 30: timed out on frame 47 (47 - 16 > 30), kept one more frame in the lost list as the
  // reference does, dropped (kRemoved) on frame 48.
  CT_EXPECT(ev[4].kind == Kind::kRemoved && ev[4].track_id == 1 && ev[4].frame == 48);
  for (const auto& e : ev) CT_EXPECT(e.track_id == 1);
  ev.clear();
  tracker.TakeEvents(ev);
  CT_EXPECT(ev.empty());
}

CT_TEST(tracker_factory_and_buffer_seconds) {
  TrackerConfig cfg = ct_test::ReferenceTrackerConfig(TrackerConfig::Kind::kSort);
  CT_EXPECT(dynamic_cast<SortTracker*>(CreateTracker(cfg).get()) != nullptr);
  cfg.kind = TrackerConfig::Kind::kIou;
  CT_EXPECT(dynamic_cast<IouTracker*>(CreateTracker(cfg).get()) != nullptr);
  cfg.kind = TrackerConfig::Kind::kByteTrack;
  CT_EXPECT(dynamic_cast<ByteTracker*>(CreateTracker(cfg).get()) != nullptr);

  camtrack::track::ApplyBufferSeconds(cfg, 2.0, 12.5);
  CT_EXPECT(cfg.byte_track.track_buffer == 25 && cfg.sort.max_age == 25 && cfg.iou.max_age == 25);
  auto bt = CreateTracker(cfg);
  CT_EXPECT(static_cast<ByteTracker*>(bt.get())->max_time_lost() == 25);
  camtrack::track::ApplyBufferSeconds(cfg, 0.01, 25);  // rounds to 0 frames -> at least 1
  CT_EXPECT(cfg.sort.max_age == 1);
  camtrack::track::ApplyBufferSeconds(cfg, 0, 25);  // 0: unchanged
  CT_EXPECT(cfg.sort.max_age == 1);
  for (int which = 0; which < 3; ++which) {
    bool threw = false;
    try {
      if (which == 0) camtrack::track::ApplyBufferSeconds(cfg, 1.0, 0.0);
      if (which == 1) camtrack::track::ApplyBufferSeconds(cfg, -1.0, 30.0);
      if (which == 2) {
        TrackerConfig bad = ct_test::ReferenceTrackerConfig(TrackerConfig::Kind::kIou);
        bad.iou.min_hits = 0;
        CreateTracker(bad);
      }
    } catch (const camtrack::Error& e) {
      threw = e.code() == camtrack::ErrorCode::kInvalidArgument;
    }
    CT_EXPECT(threw);
  }
}

// A finite but absurd box (1e38 px) overflowed ByteTrack's Kalman covariances to inf/NaN: the NaN track was output
// with a NaN box and, through NaN IoU costs the assignment accepted, took another track's detection (that track was
// reported lost, then refound). Boxes beyond ±kMaxBoxCoord are now dropped by every tracker, and LapjvSolver never
// matches a non-finite or above-limit cost.
CT_TEST(trackers_ignore_absurd_boxes_and_keep_their_tracks) {
  const Detection b = LcDet(100, 10, 150, 90), c = LcDet(300, 10, 350, 90), d = LcDet(500, 10, 550, 90);
  const Detection huge = LcDet(0, 0, 1e38f, 1e38f);
  for (auto kind : {TrackerConfig::Kind::kByteTrack, TrackerConfig::Kind::kSort, TrackerConfig::Kind::kIou}) {
    TrackerConfig cfg = ct_test::ReferenceTrackerConfig(kind);
    auto tracker = CreateTracker(cfg);
    std::vector<TrackedObject> out;
    std::map<int, int64_t> id_of_x;  // x1 of the box → the track id first seen there
    for (int f = 1; f <= 10; ++f) {
      std::vector<Detection> dets = {b, c};
      if (f == 2 || f == 3) dets.push_back(huge);
      if (f >= 4) dets.push_back(d);
      tracker->Update(dets.data(), dets.size(), out);
      for (const TrackedObject& o : out) {
        CT_EXPECT(std::isfinite(o.box.x1) && std::isfinite(o.box.y1) && std::isfinite(o.box.x2) &&
                  std::isfinite(o.box.y2));
        const int x = int(std::lround(o.box.x1));
        CT_EXPECT(x > 50);  // never the huge box's track
        auto it = id_of_x.find(x);
        if (it == id_of_x.end()) id_of_x[x] = o.track_id;
        else CT_EXPECT(it->second == o.track_id);  // each object keeps its id
      }
    }
    std::vector<TrackEvent> events;
    tracker->TakeEvents(events);
    for (const TrackEvent& e : events) CT_EXPECT(e.kind == Kind::kNew);  // nothing lost, refound or removed
    CT_EXPECT(id_of_x.size() == 3u);
  }
}

// LapjvSolver: a NaN or infinite cost is never a match, and neither is a cost above the limit.
CT_TEST(lapjv_never_matches_non_finite_or_above_limit_costs) {
  camtrack::track::LapjvSolver solver;
  std::vector<camtrack::track::Match> matches;
  std::vector<int> ur, uc;
  const float nan = std::nanf(""), inf = std::numeric_limits<float>::infinity();
  const float cost[] = {nan, 0.2f, 0.9f,  //
                        0.1f, inf, 0.95f};
  solver.Solve(cost, 2, 3, 0.8f, matches, ur, uc);
  CT_EXPECT(matches.size() == 2u);
  for (const auto& m : matches) CT_EXPECT(cost[m.row * 3 + m.col] <= 0.8f);
  CT_EXPECT(ur.empty() && uc.size() == 1u && uc[0] == 2);
  const float all_bad[] = {nan, inf, 0.9f};
  solver.Solve(all_bad, 1, 3, 0.8f, matches, ur, uc);
  CT_EXPECT(matches.empty() && ur.size() == 1u && uc.size() == 3u);
}
