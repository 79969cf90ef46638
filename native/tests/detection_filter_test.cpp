// A stream's detection options (core/postprocess/detection_filter.h) and its live configuration
// (core/pipeline/live_config.h): thresholds, class filter, area bounds, include/exclude polygons with their
// boundaries, validation; the fps gate and the tracker across a change (same kind: ids kept; other kind: new ids).
#include <cmath>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/pipeline/live_config.h"
#include "core/postprocess/detection_filter.h"
#include "test_main.h"
#include "tracker_reference.h"

namespace pp = camtrack::postprocess;
using camtrack::Detection;
using camtrack::ErrorCode;
using ct_test::ThrowsCode;

namespace {

// Options that keep everything (what src/config's defaults give): every field set explicitly, as the binding does.
pp::DetectionFilterConfig KeepAll() {
  pp::DetectionFilterConfig c;
  c.score_threshold = 0;
  c.min_area_px = c.min_area_fraction = 0;
  c.max_area_px = c.max_area_fraction = INFINITY;
  return c;
}

Detection Det(float x1, float y1, float x2, float y2, float score = 0.9f, int cls = 0) {
  Detection d;
  d.box = {x1, y1, x2, y2};
  d.score = score;
  d.class_id = cls;
  return d;
}

// A 10x10 box whose bottom-centre anchor is (ax, ay).
Detection At(float ax, float ay, int cls = 0) { return Det(ax - 5, ay - 10, ax + 5, ay, 0.9f, cls); }

// The class ids of `dets`, in order.
std::vector<int> Classes(const std::vector<Detection>& dets) {
  std::vector<int> out;
  for (const auto& d : dets) out.push_back(d.class_id);
  return out;
}

// Applies `c` to `dets` on a 640x480 frame, returns what is left.
std::vector<Detection> Filtered(const pp::DetectionFilterConfig& c, std::vector<Detection> dets, int w = 640,
                                int h = 480) {
  pp::DetectionFilter(c).Apply(dets, w, h);
  return dets;
}

const pp::Polygon kSquare = {{100, 100}, {200, 100}, {200, 200}, {100, 200}};
// A "C" opening to the right: concave, its notch (x in (140, 200), y in (130, 170)) is outside.
const pp::Polygon kC = {{100, 100}, {200, 100}, {200, 130}, {140, 130}, {140, 170}, {200, 170}, {200, 200}, {100, 200}};

}  // namespace

CT_TEST(detection_filter_defaults_keep_everything) {
  const pp::DetectionFilter f(KeepAll());
  CT_EXPECT(f.keeps_all());
  std::vector<Detection> dets = {Det(0, 0, 1, 1, 0.01f, 0), Det(0, 0, 640, 480, 1.f, 79), Det(5, 5, 5, 5, 0.f, 3)};
  f.Apply(dets, 640, 480);
  CT_EXPECT(dets.size() == 3);
}

CT_TEST(detection_filter_score_threshold_is_inclusive) {
  auto c = KeepAll();
  c.score_threshold = 0.5f;
  const auto out = Filtered(c, {Det(0, 0, 10, 10, 0.49f, 1), Det(0, 0, 10, 10, 0.5f, 2), Det(0, 0, 10, 10, 0.9f, 3)});
  CT_EXPECT((Classes(out) == std::vector<int>{2, 3}));
}

CT_TEST(detection_filter_class_thresholds_replace_the_score_threshold_of_their_class) {
  auto c = KeepAll();
  c.score_threshold = 0.5f;
  c.class_thresholds = {{2, 0.8f}, {7, 0.2f}};
  const auto out = Filtered(c, {
                                   Det(0, 0, 10, 10, 0.6f, 0),   // 0.5 applies: kept
                                   Det(0, 0, 10, 10, 0.6f, 2),   // 0.8: dropped
                                   Det(0, 0, 10, 10, 0.8f, 2),   // 0.8 exactly: kept
                                   Det(0, 0, 10, 10, 0.3f, 7),   // 0.2, lower than the stream's: kept
                                   Det(0, 0, 10, 10, 0.1f, 7),   // dropped
                                   Det(0, 0, 10, 10, 0.4f, 99),  // beyond the table: 0.5 applies, dropped
                               });
  CT_EXPECT((Classes(out) == std::vector<int>{0, 2, 7}));
  CT_EXPECT(!pp::DetectionFilter(c).keeps_all());
}

CT_TEST(detection_filter_class_allow_list) {
  auto c = KeepAll();
  c.classes = {0, 2};
  const auto out = Filtered(c, {Det(0, 0, 10, 10, 0.9f, 0), Det(0, 0, 10, 10, 0.9f, 1), Det(0, 0, 10, 10, 0.9f, 2),
                                Det(0, 0, 10, 10, 0.9f, 3), Det(0, 0, 10, 10, 0.9f, 500)});
  CT_EXPECT((Classes(out) == std::vector<int>{0, 2}));
}

CT_TEST(detection_filter_keeps_the_order_of_what_it_keeps) {
  auto c = KeepAll();
  c.classes = {1};
  const auto out = Filtered(c, {Det(0, 0, 1, 1, 0.3f, 1), Det(0, 0, 1, 1, 0.9f, 0), Det(0, 0, 1, 1, 0.7f, 1),
                                Det(0, 0, 1, 1, 0.5f, 1)});
  CT_EXPECT(out.size() == 3);
  CT_EXPECT(out[0].score == 0.3f && out[1].score == 0.7f && out[2].score == 0.5f);
}

CT_TEST(detection_filter_area_bounds_in_pixels_are_inclusive) {
  auto c = KeepAll();
  c.min_area_px = 100;  // 10x10
  c.max_area_px = 400;  // 20x20
  const auto out = Filtered(c, {Det(0, 0, 9, 10, 0.9f, 0), Det(0, 0, 10, 10, 0.9f, 1), Det(0, 0, 20, 20, 0.9f, 2),
                                Det(0, 0, 20, 21, 0.9f, 3)});
  CT_EXPECT((Classes(out) == std::vector<int>{1, 2}));
}

CT_TEST(detection_filter_area_fractions_follow_the_frame_size) {
  auto c = KeepAll();
  c.min_area_fraction = 0.01;  // of 100x100: 100 px²; of 200x200: 400 px²
  c.max_area_fraction = 0.25;  // 2500 px²; 10000 px²
  const std::vector<Detection> dets = {Det(0, 0, 10, 10, 0.9f, 0), Det(0, 0, 20, 20, 0.9f, 1), Det(0, 0, 50, 50, 0.9f, 2),
                                       Det(0, 0, 100, 100, 0.9f, 3)};
  CT_EXPECT((Classes(Filtered(c, dets, 100, 100)) == std::vector<int>{0, 1, 2}));
  CT_EXPECT((Classes(Filtered(c, dets, 200, 200)) == std::vector<int>{1, 2, 3}));
  // Pixels and fractions together: the stricter bound of each side applies.
  c.min_area_px = 900;
  CT_EXPECT((Classes(Filtered(c, dets, 100, 100)) == std::vector<int>{2}));
  // A frame of unknown size (0): fractions bound nothing, pixels still do.
  CT_EXPECT((Classes(Filtered(c, dets, 0, 0)) == std::vector<int>{2, 3}));
}

CT_TEST(detection_filter_point_in_polygon_with_boundaries) {
  const pp::Point* sq = kSquare.data();
  CT_EXPECT(pp::PointInPolygon({150, 150}, sq, 4));
  CT_EXPECT(!pp::PointInPolygon({99.9f, 150}, sq, 4));
  CT_EXPECT(!pp::PointInPolygon({250, 150}, sq, 4));
  CT_EXPECT(!pp::PointInPolygon({150, 200.1f}, sq, 4));
  // Edges and vertices count as inside.
  CT_EXPECT(pp::PointInPolygon({100, 150}, sq, 4));
  CT_EXPECT(pp::PointInPolygon({200, 150}, sq, 4));
  CT_EXPECT(pp::PointInPolygon({150, 100}, sq, 4));
  CT_EXPECT(pp::PointInPolygon({150, 200}, sq, 4));
  CT_EXPECT(pp::PointInPolygon({100, 100}, sq, 4));
  CT_EXPECT(pp::PointInPolygon({200, 200}, sq, 4));
  // A slanted edge: the triangle (0,0) (100,0) (0,100); its hypotenuse x + y = 100.
  const pp::Polygon tri = {{0, 0}, {100, 0}, {0, 100}};
  CT_EXPECT(pp::PointInPolygon({50, 50}, tri.data(), 3));
  CT_EXPECT(pp::PointInPolygon({25, 75}, tri.data(), 3));
  CT_EXPECT(!pp::PointInPolygon({50.5f, 50.5f}, tri.data(), 3));
  CT_EXPECT(pp::PointInPolygon({49.5f, 49.5f}, tri.data(), 3));
  // Concave: the notch of the C is outside, its arms inside; a ray through a vertex counts once.
  CT_EXPECT(!pp::PointInPolygon({170, 150}, kC.data(), kC.size()));
  CT_EXPECT(pp::PointInPolygon({120, 150}, kC.data(), kC.size()));
  CT_EXPECT(pp::PointInPolygon({170, 115}, kC.data(), kC.size()));
  CT_EXPECT(pp::PointInPolygon({120, 130}, kC.data(), kC.size()));  // level with a vertex of the notch
  CT_EXPECT(!pp::PointInPolygon({50, 130}, kC.data(), kC.size()));  // the same ray, from outside
  // Winding order does not matter.
  const pp::Polygon cw = {{100, 200}, {200, 200}, {200, 100}, {100, 100}};
  CT_EXPECT(pp::PointInPolygon({150, 150}, cw.data(), 4));
}

CT_TEST(detection_filter_include_polygons_use_the_bottom_centre_anchor) {
  auto c = KeepAll();
  c.include = {kSquare};
  // The box (140,40)-(160,140) lies mostly above the square, but its anchor (150,140) is inside it.
  const auto out = Filtered(c, {Det(140, 40, 160, 140, 0.9f, 1), At(150, 150, 2), At(150, 99, 3), At(150, 201, 4),
                                At(100, 200, 5), Det(120, 120, 180, 210, 0.9f, 6)});
  CT_EXPECT((Classes(out) == std::vector<int>{1, 2, 5}));
  CT_EXPECT(pp::AnchorOf({140, 40, 160, 140}).x == 150.f && pp::AnchorOf({140, 40, 160, 140}).y == 140.f);
}

CT_TEST(detection_filter_several_include_polygons_are_a_union_and_exclude_wins) {
  auto c = KeepAll();
  c.include = {kSquare, {{300, 300}, {400, 300}, {400, 400}}};
  c.exclude = {{{140, 140}, {160, 140}, {160, 160}, {140, 160}}};
  const auto out = Filtered(c, {At(120, 120, 1), At(390, 310, 2), At(310, 390, 3), At(150, 150, 4), At(140, 150, 5),
                                At(50, 50, 6)});
  // 3: outside the triangle (below its diagonal); 4: inside the exclude square; 5: on its edge (counts as inside).
  CT_EXPECT((Classes(out) == std::vector<int>{1, 2}));
}

CT_TEST(detection_filter_exclude_only) {
  auto c = KeepAll();
  c.exclude = {kC};
  const auto out = Filtered(c, {At(120, 150, 1), At(170, 150, 2), At(500, 400, 3), At(200, 100, 4)});
  CT_EXPECT((Classes(out) == std::vector<int>{2, 3}));
}

CT_TEST(detection_filter_rules_combine) {
  auto c = KeepAll();
  c.score_threshold = 0.4f;
  c.classes = {0, 1};
  c.min_area_px = 50;
  c.include = {kSquare};
  std::vector<Detection> dets = {
      Det(140, 140, 160, 160, 0.9f, 0),  // kept
      Det(140, 140, 160, 160, 0.3f, 1),  // score
      Det(140, 140, 160, 160, 0.9f, 2),  // class
      Det(148, 148, 152, 152, 0.9f, 1),  // area 16
      Det(240, 140, 260, 160, 0.9f, 1),  // anchor outside
  };
  pp::DetectionFilter(c).Apply(dets, 640, 480);
  CT_EXPECT(dets.size() == 1 && dets[0].class_id == 0);
}

CT_TEST(detection_filter_bad_options_throw_invalid_argument) {
  const auto bad = [](auto mutate) {
    auto c = KeepAll();
    mutate(c);
    std::string msg;
    const bool threw = ThrowsCode(ErrorCode::kInvalidArgument, [&] { pp::DetectionFilter f(c); }, &msg);
    return threw && msg.find("Invalid detection options") != std::string::npos;
  };
  CT_EXPECT(bad([](pp::DetectionFilterConfig& c) { c.score_threshold = 1.5f; }));
  CT_EXPECT(bad([](pp::DetectionFilterConfig& c) { c.score_threshold = NAN; }));
  CT_EXPECT(bad([](pp::DetectionFilterConfig& c) { c.class_thresholds = {{1, -0.1f}}; }));
  CT_EXPECT(bad([](pp::DetectionFilterConfig& c) { c.class_thresholds = {{-1, 0.5f}}; }));
  CT_EXPECT(bad([](pp::DetectionFilterConfig& c) { c.classes = {pp::DetectionFilter::kMaxClassId + 1}; }));
  CT_EXPECT(bad([](pp::DetectionFilterConfig& c) { c.min_area_px = -1; }));
  CT_EXPECT(bad([](pp::DetectionFilterConfig& c) { c.max_area_fraction = NAN; }));
  CT_EXPECT(bad([](pp::DetectionFilterConfig& c) { c.include = {{{0, 0}, {1, 1}}}; }));
  CT_EXPECT(bad([](pp::DetectionFilterConfig& c) { c.exclude = {{{0, 0}, {1, INFINITY}, {2, 0}}}; }));
}

// ---------------------------------------------------------------------------------------------------------------
// LiveConfigState: what a stream's live reconfiguration does from the next frame.

namespace {

namespace pl = camtrack::pipeline;
namespace tr = camtrack::track;

pl::LiveConfig LiveOf(tr::TrackerConfig::Kind kind, double fps_limit = 0) {
  pl::LiveConfig c;
  c.fps_limit = fps_limit;
  c.tracking = true;
  c.tracker = ct_test::ReferenceTrackerConfig(kind);
  c.track_buffer_seconds = 1;
  c.detection = KeepAll();
  return c;
}

struct Frame {
  std::vector<tr::TrackedObject> tracks;
  std::vector<tr::TrackEvent> events;
  std::vector<Detection> dets;
};

// One frame of two objects moving right by 2 px per frame (scores 0.9 and 0.35).
Frame Step(pl::LiveConfigState& live, int i) {
  Frame f;
  f.dets = {Det(10.f + 2 * i, 10, 60.f + 2 * i, 110, 0.9f, 0), Det(300.f + 2 * i, 50, 350.f + 2 * i, 150, 0.35f, 2)};
  live.Postprocess(f.dets, 640, 480, /*inferred=*/true, f.tracks, f.events);
  return f;
}

std::vector<int64_t> Ids(const Frame& f) {
  std::vector<int64_t> ids;
  for (const auto& t : f.tracks) ids.push_back(t.track_id);
  return ids;
}

}  // namespace

CT_TEST(live_config_detection_change_applies_from_the_next_frame) {
  pl::LiveConfigState live;
  live.SetSourceFps(25);
  auto c = LiveOf(tr::TrackerConfig::Kind::kByteTrack);
  live.Set(c);
  CT_EXPECT(Step(live, 0).dets.size() == 2);
  c.detection.score_threshold = 0.5f;
  live.Set(c);
  const Frame f = Step(live, 1);
  CT_EXPECT(f.dets.size() == 1 && f.dets[0].class_id == 0);
  c.detection.score_threshold = 0;
  c.detection.classes = {2};
  live.Set(c);
  const Frame g = Step(live, 2);
  CT_EXPECT(g.dets.size() == 1 && g.dets[0].class_id == 2);
}

CT_TEST(live_config_tracker_parameter_change_keeps_track_ids) {
  for (auto kind : {tr::TrackerConfig::Kind::kByteTrack, tr::TrackerConfig::Kind::kSort, tr::TrackerConfig::Kind::kIou}) {
    pl::LiveConfigState live;
    live.SetSourceFps(25);
    auto c = LiveOf(kind);
    c.detection.score_threshold = 0.5f;  // one object
    live.Set(c);
    Frame f;
    for (int i = 0; i < 6; ++i) f = Step(live, i);
    CT_EXPECT(Ids(f).size() == 1);
    const tr::Tracker* before = live.tracker();
    const int64_t id = Ids(f)[0];
    // New parameters of the same kind: the same tracker, the same id.
    c.tracker.byte_track.match_thresh = 0.7f;
    c.tracker.byte_track.track_thresh = 0.45f;
    c.tracker.sort.iou_threshold = 0.2f;
    c.tracker.sort.min_hits = 1;
    c.tracker.iou.iou_threshold = 0.2f;
    c.track_buffer_seconds = 2;
    live.Set(c);
    for (int i = 6; i < 10; ++i) {
      f = Step(live, i);
      CT_EXPECT(live.tracker() == before);
      CT_EXPECT(Ids(f) == std::vector<int64_t>{id});
    }
  }
}

CT_TEST(live_config_tracker_type_change_builds_a_new_tracker_and_none_removes_it) {
  pl::LiveConfigState live;
  live.SetSourceFps(25);
  auto c = LiveOf(tr::TrackerConfig::Kind::kByteTrack);
  live.Set(c);
  for (int i = 0; i < 5; ++i) Step(live, i);
  const tr::Tracker* bytetrack = live.tracker();
  CT_EXPECT(bytetrack != nullptr);
  c.tracker = ct_test::ReferenceTrackerConfig(tr::TrackerConfig::Kind::kIou);
  c.tracker.iou.min_hits = 1;
  live.Set(c);
  const Frame f = Step(live, 5);
  CT_EXPECT(live.tracker() != bytetrack && dynamic_cast<const tr::IouTracker*>(live.tracker()) != nullptr);
  CT_EXPECT(f.tracks.size() == 2 && f.tracks[0].track_id == 1);  // a new tracker: ids start again
  c.tracking = false;
  live.Set(c);
  const Frame g = Step(live, 6);
  CT_EXPECT(live.tracker() == nullptr && g.tracks.empty() && g.dets.size() == 2);
}

CT_TEST(live_config_fps_limit_change_starts_a_fresh_gate) {
  pl::LiveConfigState live;
  live.Set(LiveOf(tr::TrackerConfig::Kind::kByteTrack, 10));  // one frame per 100 ms
  int admitted = 0, pts = 0;
  // The first frame starts the gate: the next one 40 ms later is too early.
  CT_EXPECT(live.AdmitFrame(pts));
  CT_EXPECT(!live.AdmitFrame(pts += 40));
  admitted = 1;
  // 2 s of 25 fps at 10 fps: 20 frames.
  for (int i = 2; i < 50; ++i) admitted += live.AdmitFrame(pts += 40);
  pts += 40;
  CT_EXPECT(admitted >= 20 && admitted <= 21);
  live.Set(LiveOf(tr::TrackerConfig::Kind::kByteTrack, 5));
  admitted = 0;
  for (int i = 0; i < 50; ++i, pts += 40) admitted += live.AdmitFrame(pts);
  CT_EXPECT(admitted >= 10 && admitted <= 11);
  live.Set(LiveOf(tr::TrackerConfig::Kind::kByteTrack, 0));
  admitted = 0;
  for (int i = 0; i < 50; ++i, pts += 40) admitted += live.AdmitFrame(pts);
  CT_EXPECT(admitted == 50);
  // A change of anything else leaves the gate as it is: the same frames pass as without the change.
  pl::LiveConfigState a, b;
  auto c = LiveOf(tr::TrackerConfig::Kind::kByteTrack, 10);
  a.Set(c);
  b.Set(c);
  for (int i = 0; i < 30; ++i, pts += 40) {
    if (i == 12) {
      c.detection.score_threshold = 0.5f;
      b.Set(c);
    }
    CT_EXPECT(a.AdmitFrame(pts) == b.AdmitFrame(pts));
  }
}

CT_TEST(live_config_bad_values_throw_and_change_nothing) {
  pl::LiveConfigState live;
  live.SetSourceFps(25);
  auto c = LiveOf(tr::TrackerConfig::Kind::kByteTrack);
  live.Set(c);
  Step(live, 0);
  auto bad = c;
  bad.detection.include = {{{0, 0}, {1, 1}}};
  CT_EXPECT(ThrowsCode(ErrorCode::kInvalidArgument, [&] { live.Set(bad); }));
  bad = c;
  bad.tracker.byte_track.track_thresh = 2;
  CT_EXPECT(ThrowsCode(ErrorCode::kInvalidArgument, [&] { live.Set(bad); }));
  bad = c;
  bad.fps_limit = -1;
  CT_EXPECT(ThrowsCode(ErrorCode::kInvalidArgument, [&] { live.Set(bad); }));
  CT_EXPECT(Step(live, 1).dets.size() == 2);
}
