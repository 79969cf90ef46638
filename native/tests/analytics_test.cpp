// native/core/analytics: geometry edge cases and one table-driven case per pain point of issue 13 (each rule a pure
// function of (state, tracks, timestamp), driven here through AnalyticsEngine with synthetic trajectories).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/analytics/analytics_engine.h"
#include "core/analytics/geometry.h"
#include "test_main.h"

namespace {

using namespace camtrack::analytics;
using camtrack::Box;
using camtrack::ErrorCode;
using camtrack::track::TrackedObject;

// A 20 × 40 box whose bottom-centre is (x, y).
TrackedObject At(int64_t id, double x, double y, int32_t cls = 0) {
  TrackedObject t;
  t.track_id = id;
  t.class_id = cls;
  t.box = Box{float(x - 10), float(y - 40), float(x + 10), float(y)};
  return t;
}

// A horizontal line y = 100 from x = 0 to x = 200 (start→end to the right: "in" is moving up, onto its left).
LineConfig HLine(std::vector<Anchor> anchors = {Anchor::kBottomCenter}, int min_frames = 2) {
  LineConfig l;
  l.id = "l";
  l.start = {0, 100};
  l.end = {200, 100};
  l.anchors = std::move(anchors);
  l.min_crossing_frames = min_frames;
  return l;
}

ZoneConfig Square(int enter = 1, int exit = 1) {
  ZoneConfig z;
  z.id = "z";
  z.polygon = {{0, 0}, {100, 0}, {100, 100}, {0, 100}};
  z.enter_frames = enter;
  z.exit_frames = exit;
  return z;
}

// Runs a trajectory: frame f holds frames[f] (tracks), timestamps 100 ms apart; returns the engine's last frame and
// accumulates crossings.
struct Run {
  AnalyticsFrame last;
  int in = 0, out = 0, enters = 0, exits = 0, loiters = 0, overcrowds = 0, speeds = 0;
};
Run Play(AnalyticsEngine& e, const std::vector<std::vector<TrackedObject>>& frames, int64_t t0 = 0) {
  Run r;
  int64_t ts = t0;
  for (const auto& f : frames) {
    e.Update(f.data(), f.size(), ts, true, &r.last);
    ts += 100;
    for (const auto& ev : r.last.events) {
      switch (ev.kind) {
        case AnalyticsEvent::Kind::kLineCross: (ev.direction > 0 ? r.in : r.out)++; break;
        case AnalyticsEvent::Kind::kZoneEnter: ++r.enters; break;
        case AnalyticsEvent::Kind::kZoneExit: ++r.exits; break;
        case AnalyticsEvent::Kind::kLoiter: ++r.loiters; break;
        case AnalyticsEvent::Kind::kOvercrowd: ++r.overcrowds; break;
        case AnalyticsEvent::Kind::kSpeed: ++r.speeds; break;
      }
    }
  }
  return r;
}

// One object per frame along the given bottom-centre y positions (x = 100).
std::vector<std::vector<TrackedObject>> Ys(std::vector<double> ys, int64_t id = 1, int32_t cls = 0) {
  std::vector<std::vector<TrackedObject>> f;
  for (double y : ys) f.push_back({At(id, 100, y, cls)});
  return f;
}

AnalyticsConfig Lines(LineConfig l) {
  AnalyticsConfig c;
  c.lines.push_back(std::move(l));
  return c;
}

}  // namespace

CT_TEST(analytics_geometry_anchors_and_names) {
  const Box b{10, 20, 30, 60};
  struct {
    const char* name;
    double x, y;
  } cases[] = {{"top-left", 10, 20},    {"top-center", 20, 20},    {"top-right", 30, 20},
               {"center-left", 10, 40}, {"center", 20, 40},        {"center-right", 30, 40},
               {"bottom-left", 10, 60}, {"bottom-center", 20, 60}, {"bottom-right", 30, 60}};
  for (const auto& c : cases) {
    Anchor a;
    CT_EXPECT(ParseAnchor(c.name, &a));
    CT_EXPECT(std::string(AnchorName(a)) == c.name);
    CT_EXPECT_NEAR(AnchorOf(b, a).x, c.x, 1e-9);
    CT_EXPECT_NEAR(AnchorOf(b, a).y, c.y, 1e-9);
  }
  Anchor a;
  CT_EXPECT(!ParseAnchor("bottom", &a));
}

CT_TEST(analytics_geometry_concave_polygon) {
  // A "U": the notch (40..60 × 0..60) is outside.
  const std::vector<Point> u = {{0, 0}, {40, 0}, {40, 60}, {60, 60}, {60, 0}, {100, 0}, {100, 100}, {0, 100}};
  struct {
    double x, y;
    bool inside;
  } cases[] = {{20, 20, true}, {50, 30, false}, {80, 20, true}, {50, 80, true}, {120, 50, false}, {-1, 50, false}};
  for (const auto& c : cases) CT_EXPECT(PointInPolygon(u.data(), u.size(), {c.x, c.y}) == c.inside);
  CT_EXPECT(!PolygonSelfIntersects(u.data(), u.size()));
}

CT_TEST(analytics_geometry_self_intersection) {
  const std::vector<Point> bowtie = {{0, 0}, {100, 100}, {100, 0}, {0, 100}};
  const std::vector<Point> square = {{0, 0}, {100, 0}, {100, 100}, {0, 100}};
  const std::vector<Point> repeated = {{0, 0}, {100, 0}, {0, 0}, {0, 100}};
  const std::vector<Point> foldback = {{0, 0}, {100, 0}, {50, 0}, {50, 100}};
  CT_EXPECT(PolygonSelfIntersects(bowtie.data(), bowtie.size()));
  CT_EXPECT(!PolygonSelfIntersects(square.data(), square.size()));
  CT_EXPECT(PolygonSelfIntersects(repeated.data(), repeated.size()));
  CT_EXPECT(PolygonSelfIntersects(foldback.data(), foldback.size()));
}

CT_TEST(analytics_config_rejects_bad_geometry) {
  struct Case {
    const char* what;
    AnalyticsConfig cfg;
    const char* path;
  };
  std::vector<Case> cases;
  {
    LineConfig l = HLine();
    l.end = l.start;
    cases.push_back({"degenerate line", Lines(l), "lines[0]"});
  }
  {
    LineConfig l = HLine();
    l.end.x = std::numeric_limits<double>::quiet_NaN();
    cases.push_back({"NaN line", Lines(l), "lines[0]"});
  }
  {
    LineConfig l = HLine();
    l.has_direction = true;
    l.direction_from = {0, 0};
    l.direction_to = {10, 0};
    cases.push_back({"direction parallel to the line", Lines(l), "lines[0]"});
  }
  {
    AnalyticsConfig c;
    ZoneConfig z = Square();
    z.polygon = {{0, 0}, {100, 100}, {100, 0}, {0, 100}};
    c.zones.push_back(z);
    cases.push_back({"bow tie", c, "zones[0].polygon"});
  }
  {
    AnalyticsConfig c;
    ZoneConfig z = Square();
    z.polygon = {{0, 0}, {50, 50}, {100, 100}};
    c.zones.push_back(z);
    cases.push_back({"collinear polygon", c, "zones[0].polygon"});
  }
  for (auto& c : cases) {
    std::string msg;
    CT_EXPECT(ct_test::ThrowsCode(ErrorCode::kInvalidArgument, [&] { AnalyticsEngine e(c.cfg); }, &msg));
    CT_EXPECT(msg.find(c.path) == 0);
  }
}

CT_TEST(analytics_geometry_homography_maps_its_points) {
  const Point img[4] = {{100, 400}, {540, 400}, {620, 100}, {20, 100}};
  const Point ground[4] = {{0, 0}, {10, 0}, {10, 30}, {0, 30}};
  double h[9];
  CT_EXPECT(SolveHomography(img, ground, h));
  for (int i = 0; i < 4; ++i) {
    const Point p = ApplyHomography(h, img[i]);
    CT_EXPECT_NEAR(p.x, ground[i].x, 1e-6);
    CT_EXPECT_NEAR(p.y, ground[i].y, 1e-6);
  }
  const Point collinear[4] = {{0, 0}, {1, 1}, {2, 2}, {0, 5}};
  CT_EXPECT(!SolveHomography(collinear, ground, h));
}

// The pain points of issue 13, each a trajectory across the line y = 100 with the expected in/out counts.
CT_TEST(analytics_line_pain_points) {
  struct Case {
    const char* what;
    LineConfig line;
    std::vector<std::vector<TrackedObject>> frames;
    int in, out;
  };
  std::vector<Case> cases = {
      {"a clean crossing upwards counts in once", HLine(), Ys({150, 130, 110, 90, 70, 50}), 1, 0},
      {"downwards counts out", HLine(), Ys({50, 70, 90, 110, 130, 150}), 0, 1},
      // supervision PR #1540: a box flickering across the line every frame never holds a side for 2 frames.
      {"flicker near the line does not count", HLine(), Ys({110, 95, 105, 97, 103, 96, 104, 98, 102}), 0, 0},
      {"flicker then a real crossing counts once", HLine(), Ys({110, 95, 105, 97, 80, 70, 60}), 1, 0},
      // opendatacam#204: stop-and-go on the line (jitter ±2 px around y=100 while stopped) then crossing.
      {"stop-and-go counts once", HLine(),
       Ys({130, 120, 101, 99, 101, 99, 101, 99, 101, 99, 101, 99, 101, 99, 101, 99, 80, 60}), 1, 0},
      {"one count per direction change: in, back out, in again", HLine(),
       Ys({130, 120, 90, 80, 70, 110, 120, 130, 80, 70}), 2, 1},
      // A crossing beyond the segment's end (x = 300 > 200) does not count.
      {"outside the perpendicular limits", HLine(),
       [] {
         std::vector<std::vector<TrackedObject>> f;
         for (double y : {150, 130, 90, 70}) f.push_back({At(1, 300, y)});
         return f;
       }(),
       0, 0},
      // Above the segment, out past its end (x = 300), down across the extension, back in below: not a crossing.
      {"around the segment's end does not count", HLine(),
       [] {
         std::vector<std::vector<TrackedObject>> f;
         const double path[][2] = {{100, 60}, {100, 60}, {300, 60}, {300, 150}, {100, 150}, {100, 150}};
         for (const auto& p : path) f.push_back({At(1, p[0], p[1])});
         return f;
       }(),
       0, 0},
      // supervision#1838: a line at the frame's bottom edge (y = 100 here) where the box's top corners never get
      // below it; with the bottom-centre anchor it counts.
      {"line near the frame edge counts with bottom-center", HLine(),
       [] {
         std::vector<std::vector<TrackedObject>> f;
         for (double y : {80, 90, 101, 104, 104}) f.push_back({At(1, 100, y)});
         return f;
       }(),
       0, 1},
      {"same trajectory with four corners never counts",
       HLine({Anchor::kTopLeft, Anchor::kTopRight, Anchor::kBottomLeft, Anchor::kBottomRight}),
       [] {
         std::vector<std::vector<TrackedObject>> f;
         for (double y : {80, 90, 101, 104, 104}) f.push_back({At(1, 100, y)});
         return f;
       }(),
       0, 0},
      // supervision#2578: unconfirmed tracks (id -1) are one shared id there; never counted here.
      {"unconfirmed tracks never count", HLine(),
       [] {
         std::vector<std::vector<TrackedObject>> f;
         for (double y : {150, 130, 90, 70}) f.push_back({At(-1, 100, y), At(0, 50, y + 100)});
         f.push_back({At(-1, 100, 150)});
         f.push_back({At(-1, 100, 150)});
         return f;
       }(),
       0, 0},
      {"minCrossingFrames 1 counts a single frame", HLine({Anchor::kBottomCenter}, 1), Ys({110, 95}), 1, 0},
      {"NaN and infinite boxes are ignored, huge finite ones used", HLine(),
       [] {
         auto f = Ys({150, 130, 90, 70});
         TrackedObject nan = At(1, 100, 50);
         nan.box.x1 = std::numeric_limits<float>::quiet_NaN();
         TrackedObject inf = At(1, 100, 50);
         inf.box.y2 = std::numeric_limits<float>::infinity();
         TrackedObject huge = At(1, 100, 1e30);  // far below: the "out" side, like 150 and 130
         f.insert(f.begin() + 2, {nan});
         f.insert(f.begin() + 2, {inf});
         f.insert(f.begin() + 2, {huge});
         return f;
       }(),
       1, 0},
  };
  for (auto& c : cases) {
    AnalyticsEngine e(Lines(c.line));
    const Run r = Play(e, c.frames);
    if (r.in != c.in || r.out != c.out) {
      throw ct_test::Failure{std::string(c.what) + ": in " + std::to_string(r.in) + " out " + std::to_string(r.out)};
    }
    CT_EXPECT(r.last.lines[0].in == uint64_t(c.in) && r.last.lines[0].out == uint64_t(c.out));
  }
}

// supervision PR #1868: an id reused for another class; counts per class, the class the track had while crossing.
CT_TEST(analytics_line_counts_per_class_and_class_change_restarts) {
  AnalyticsEngine e(Lines(HLine()));
  std::vector<std::vector<TrackedObject>> f = Ys({150, 130, 90, 70}, 1, 2);  // class 2 crosses in
  // the same id now class 7, starting above the line then going down: its history restarts, first side is "in".
  for (double y : {70, 90, 110, 130}) f.push_back({At(1, 100, y, 7)});
  // class flips back to 2 right at a single frame: no count from a history of one
  f.push_back({At(1, 100, 60, 2)});
  const Run r = Play(e, f);
  CT_EXPECT(r.in == 1 && r.out == 1);
  const auto& pc = r.last.lines[0].per_class;
  CT_EXPECT(pc.size() == 2);
  CT_EXPECT(pc[0].class_id == 2 && pc[0].in == 1 && pc[0].out == 0);
  CT_EXPECT(pc[1].class_id == 7 && pc[1].in == 0 && pc[1].out == 1);
}

CT_TEST(analytics_line_direction_vector_swaps_in_and_out) {
  LineConfig l = HLine();
  l.has_direction = true;
  l.direction_from = {100, 50};
  l.direction_to = {100, 150};  // pointing down: moving down is "in"
  AnalyticsEngine e(Lines(l));
  const Run r = Play(e, Ys({50, 70, 110, 130}));
  CT_EXPECT(r.in == 1 && r.out == 0);
}

// Zones: frigate#238 (drops for a few frames), supervision#1855 (occluded inside), enter inertia, class filter.
CT_TEST(analytics_zone_pain_points) {
  struct Case {
    const char* what;
    ZoneConfig zone;
    std::vector<std::vector<TrackedObject>> frames;
    int enters, exits, final_occupancy;
  };
  const auto in = [](int64_t id = 1, int32_t cls = 0) { return std::vector<TrackedObject>{At(id, 50, 50, cls)}; };
  const auto out = [](int64_t id = 1) { return std::vector<TrackedObject>{At(id, 150, 50)}; };
  const std::vector<TrackedObject> none;
  std::vector<Case> cases = {
      {"enter once, stay", Square(), {out(), in(), in(), in()}, 1, 0, 1},
      {"detection drops for 3 frames inside: stays (exitFrames 5)", Square(1, 5),
       {in(), in(), none, none, none, in(), in()}, 1, 0, 1},
      {"occluded inside longer than exitFrames: exits", Square(1, 3), {in(), none, none, none, none}, 1, 1, 0},
      {"exitFrames 1 flip-flops with the detections", Square(1, 1), {in(), none, in(), none, in()}, 3, 2, 1},
      {"enterFrames 3: a 2-frame visit does not enter", Square(3, 1), {in(), in(), out(), out()}, 0, 0, 0},
      {"enterFrames 3: three frames enter", Square(3, 1), {in(), in(), in()}, 1, 0, 1},
      {"outside for fewer than exitFrames stays inside", Square(1, 3), {in(), out(), out(), in()}, 1, 0, 1},
      {"class filter", [] { ZoneConfig z = Square(); z.classes = {3}; return z; }(),
       {in(1, 0), in(1, 0), in(2, 3)}, 1, 0, 1},
      {"unconfirmed tracks are never inside", Square(), {in(-1), in(-1)}, 0, 0, 0},
  };
  for (auto& c : cases) {
    AnalyticsConfig cfg;
    cfg.zones.push_back(c.zone);
    AnalyticsEngine e(cfg);
    const Run r = Play(e, c.frames);
    if (r.enters != c.enters || r.exits != c.exits || r.last.zones[0].occupancy != c.final_occupancy) {
      throw ct_test::Failure{std::string(c.what) + ": enters " + std::to_string(r.enters) + " exits " +
                             std::to_string(r.exits) + " occupancy " + std::to_string(r.last.zones[0].occupancy)};
    }
  }
}

CT_TEST(analytics_zone_dwell_loiter_from_timestamps) {
  AnalyticsConfig cfg;
  ZoneConfig z = Square(2, 1);
  z.loiter_ms = 1000;
  cfg.zones.push_back(z);
  AnalyticsEngine e(cfg);
  AnalyticsFrame f;
  // Irregular timestamps: dwell follows them, from the first frame of the entering streak (ts 1000).
  const int64_t ts[] = {1000, 1040, 1500, 1990, 2000, 2600, 3000};
  int loiters = 0;
  for (int64_t t : ts) {
    const TrackedObject o = At(5, 50, 50);
    e.Update(&o, 1, t, true, &f);
    for (const auto& ev : f.events) loiters += ev.kind == AnalyticsEvent::Kind::kLoiter;
  }
  CT_EXPECT(loiters == 1);
  CT_EXPECT(f.memberships.size() == 1 && f.memberships[0].track_id == 5);
  CT_EXPECT(f.memberships[0].dwell_ms == 2000);
}

CT_TEST(analytics_zone_overcrowd_hysteresis) {
  AnalyticsConfig cfg;
  ZoneConfig z = Square();
  z.max_occupancy = 2;
  cfg.zones.push_back(z);
  AnalyticsEngine e(cfg);
  auto k = [](int n) {
    std::vector<TrackedObject> v;
    for (int i = 1; i <= n; ++i) v.push_back(At(i, 10 + i, 50));
    return v;
  };
  // 3 (fires), 2, 3 (hovering at the limit: no), 1 (re-armed), 3 (fires)
  const Run r = Play(e, {k(3), k(2), k(3), k(1), k(3)});
  CT_EXPECT(r.overcrowds == 2);
}

CT_TEST(analytics_speed_pixels_metres_and_direction) {
  struct Case {
    const char* what;
    double ppm;
    bool homography;
    double expected, direction;
  };
  const Case cases[] = {
      {"px/s moving right 10 px per 100 ms", 0, false, 100, 0},
      {"m/s with 20 px per metre", 20, false, 5, 0},
      {"m/s with a homography scaling x by 1/50", 0, true, 2, 0},
  };
  for (const auto& c : cases) {
    AnalyticsConfig cfg;
    cfg.speed.enabled = true;
    cfg.speed.pixels_per_meter = c.ppm;
    cfg.speed.limit = c.expected * 0.5;
    if (c.homography) {
      const Point img[4] = {{0, 0}, {500, 0}, {500, 500}, {0, 500}};
      const Point gr[4] = {{0, 0}, {10, 0}, {10, 10}, {0, 10}};
      cfg.speed.has_homography = SolveHomography(img, gr, cfg.speed.homography);
    }
    AnalyticsEngine e(cfg);
    std::vector<std::vector<TrackedObject>> f;
    for (int i = 0; i < 10; ++i) f.push_back({At(1, 100 + 10 * i, 200)});
    const Run r = Play(e, f);
    CT_EXPECT(r.last.speeds.size() == 1);
    CT_EXPECT_NEAR(r.last.speeds[0].speed, c.expected, 1e-6);
    CT_EXPECT_NEAR(r.last.speeds[0].direction_deg, c.direction, 1e-6);
    CT_EXPECT(r.speeds == 1);  // once, not every frame above the limit
  }
}

CT_TEST(analytics_not_inferred_frames_use_predictions_only_when_asked) {
  for (bool use : {false, true}) {
    AnalyticsConfig cfg = Lines(HLine());
    cfg.use_predicted = use;
    AnalyticsEngine e(cfg);
    AnalyticsFrame f;
    int in = 0;
    const double ys[] = {150, 130, 90, 70};
    for (int i = 0; i < 4; ++i) {
      const TrackedObject o = At(1, 100, ys[i]);
      e.Update(&o, 1, i * 100, /*inferred=*/i < 2, &f);
      in += int(f.lines[0].crossed_in.size());
    }
    CT_EXPECT(in == (use ? 1 : 0));
  }
}

CT_TEST(analytics_many_tracks_grow_and_are_forgotten) {
  AnalyticsConfig cfg = Lines(HLine());
  cfg.forget_frames = 2;
  AnalyticsEngine e(cfg);
  AnalyticsFrame f;
  std::vector<TrackedObject> v;
  for (int i = 1; i <= 1000; ++i) v.push_back(At(i, 100, 150));
  e.Update(v.data(), v.size(), 0, true, &f);
  for (auto& t : v) t.box.y1 -= 100, t.box.y2 -= 100;  // all above the line
  e.Update(v.data(), v.size(), 100, true, &f);
  e.Update(v.data(), v.size(), 200, true, &f);
  CT_EXPECT(f.lines[0].in == 1000);
  // gone for 3 frames: forgotten; the ids come back below: a fresh history, no count
  for (int k = 0; k < 3; ++k) e.Update(nullptr, 0, 300 + k * 100, true, &f);
  for (auto& t : v) t.box.y1 += 100, t.box.y2 += 100;
  e.Update(v.data(), v.size(), 700, true, &f);
  e.Update(v.data(), v.size(), 800, true, &f);
  CT_EXPECT(f.lines[0].out == 0);
}

CT_TEST(analytics_counts_reset_and_added) {
  AnalyticsConfig cfg = Lines(HLine());
  AnalyticsEngine e(cfg);
  AnalyticsFrame f;
  const double ys[] = {150, 90, 80};
  for (int i = 0; i < 3; ++i) {
    TrackedObject o = At(1, 100, ys[i]);
    o.class_id = 2;
    e.Update(&o, 1, i * 100, true, &f);
  }
  CT_EXPECT(f.lines[0].in == 1 && f.lines[0].per_class.size() == 1);
  // counts brought back (Redis): added to the engine's, per class; an unknown line id is ignored
  LineCountsSeed seed{cfg.lines[0].id, 10, 4, {{2, 6, 1}, {0, 4, 3}}};
  LineCountsSeed other{"nope", 99, 99, {}};
  e.AddCounts({seed, other});
  e.Update(nullptr, 0, 300, true, &f);
  CT_EXPECT(f.lines[0].in == 11 && f.lines[0].out == 4);
  CT_EXPECT(f.lines[0].per_class.size() == 2 && f.lines[0].per_class[0].class_id == 2 && f.lines[0].per_class[0].in == 7);
  CT_EXPECT(f.lines[0].per_class[1].class_id == 0 && f.lines[0].per_class[1].out == 3);
  // reset: counts to zero, the track's history kept (it is above the line: going back down counts out)
  e.ResetCounts();
  for (int i = 0; i < 3; ++i) {
    TrackedObject o = At(1, 100, 150);
    o.class_id = 2;
    e.Update(&o, 1, 400 + i * 100, true, &f);
  }
  CT_EXPECT(f.lines[0].in == 0 && f.lines[0].out == 1 && f.lines[0].per_class.size() == 1);
}
