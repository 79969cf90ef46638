// ByteTracker tests: the reference check against the official ByteTrack implementation's own output, plus small
// behaviour cases with hand-made detections.
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/track/byte_tracker.h"
#include "core/track/kalman_filter.h"
#include "core/track/lapjv.h"
#include "test_assets.h"
#include "test_main.h"
#include "tracker_reference.h"

namespace {

// Ground truth of the reference data (SOURCES.md, mot/bytetrack_palace).
constexpr int kPalaceFrames = 314;      // frames 0..313
constexpr int kPalaceDetections = 10174;
constexpr int kPalaceTrackRows = 6008;
constexpr double kPalaceTolerance = 1e-2;  // the reference test's EPS on x, y, w, h

// Minimal scan of the reference JSON: every record inside "results" is a flat object whose values are strings.
std::vector<std::map<std::string, std::string>> BtReadResults(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string s = ss.str();
  std::vector<std::map<std::string, std::string>> rows;
  size_t pos = s.find("\"results\"");
  if (pos == std::string::npos) throw ct_test::Failure{"no \"results\" in " + path};
  pos = s.find('[', pos);
  auto read_string = [&](size_t& p) {
    const size_t a = s.find('"', p);
    const size_t b = s.find('"', a + 1);
    p = b + 1;
    return s.substr(a + 1, b - a - 1);
  };
  while (true) {
    const size_t open = s.find('{', pos);
    const size_t end = s.find(']', pos);
    if (open == std::string::npos || (end != std::string::npos && end < open)) break;
    const size_t close = s.find('}', open);
    std::map<std::string, std::string> row;
    size_t p = open + 1;
    while (true) {
      const size_t q = s.find('"', p);
      if (q == std::string::npos || q > close) break;
      const std::string key = read_string(p);
      const size_t colon = s.find(':', p);
      p = colon + 1;
      row[key] = read_string(p);
    }
    rows.push_back(std::move(row));
    pos = close + 1;
  }
  return rows;
}

camtrack::Detection BtDet(float x1, float y1, float x2, float y2, float score, int cls = 0) {
  camtrack::Detection d;
  d.box = {x1, y1, x2, y2};
  d.score = score;
  d.class_id = cls;
  return d;
}

}  // namespace

CT_TEST(bytetrack_reference_palace) {
  const std::string det_path = ct_test::AssetPath("mot/bytetrack_palace/detection_results.json");
  const std::string trk_path = ct_test::AssetPath("mot/bytetrack_palace/tracking_results.json");
  const auto det_rows = BtReadResults(det_path);
  const auto trk_rows = BtReadResults(trk_path);
  CT_EXPECT(static_cast<int>(det_rows.size()) == kPalaceDetections);
  CT_EXPECT(static_cast<int>(trk_rows.size()) == kPalaceTrackRows);

  // frame -> detections (file order); frame -> (track id -> tlwh)
  std::map<int, std::vector<camtrack::Detection>> inputs;
  for (const auto& r : det_rows) {
    const float x = std::stof(r.at("x")), y = std::stof(r.at("y"));
    const float w = std::stof(r.at("width")), h = std::stof(r.at("height"));
    inputs[std::stoi(r.at("frame_id"))].push_back(BtDet(x, y, x + w, y + h, std::stof(r.at("prob"))));
  }
  struct Ref {
    float x, y, w, h;
  };
  std::map<int, std::map<long long, Ref>> expected;
  for (const auto& r : trk_rows) {
    expected[std::stoi(r.at("frame_id"))][std::stoll(r.at("track_id"))] = {
        std::stof(r.at("x")), std::stof(r.at("y")), std::stof(r.at("width")), std::stof(r.at("height"))};
  }
  CT_EXPECT(static_cast<int>(inputs.size()) == kPalaceFrames);

  camtrack::track::ByteTrackParams params = ct_test::ReferenceByteTrackParams();  // 0.5 / 0.6 / 0.8
  params.frame_rate = 30;
  params.track_buffer = 30;
  params.legacy_iou_on_last_update = true;  // the reference data predates ifzhang/ByteTrack commit b500c6f
  camtrack::track::ByteTracker tracker(params);
  std::vector<camtrack::track::TrackedObject> out;
  int count_mismatch = 0, id_missing = 0, box_mismatch = 0, rows_checked = 0;
  double max_err = 0;
  std::string first_problem;
  const int last_frame = inputs.rbegin()->first;
  for (int frame = inputs.begin()->first; frame <= last_frame; ++frame) {
    const auto& dets = inputs[frame];
    tracker.Update(dets.data(), dets.size(), out);
    const auto& ref = expected[frame];
    if (out.size() != ref.size()) {
      ++count_mismatch;
      if (first_problem.empty())
        first_problem = "frame " + std::to_string(frame) + ": " + std::to_string(out.size()) + " tracks, reference " +
                        std::to_string(ref.size());
    }
    for (const auto& o : out) {
      auto it = ref.find(o.track_id);
      if (it == ref.end()) {
        ++id_missing;
        if (first_problem.empty())
          first_problem = "frame " + std::to_string(frame) + ": track id " + std::to_string(o.track_id) +
                          " not in the reference";
        continue;
      }
      ++rows_checked;
      const Ref& e = it->second;
      const double errs[4] = {std::fabs(o.box.x1 - e.x), std::fabs(o.box.y1 - e.y),
                              std::fabs((o.box.x2 - o.box.x1) - e.w), std::fabs((o.box.y2 - o.box.y1) - e.h)};
      for (double err : errs) {
        if (err > max_err) max_err = err;
        if (err > kPalaceTolerance) {
          ++box_mismatch;
          if (first_problem.empty())
            first_problem = "frame " + std::to_string(frame) + " id " + std::to_string(o.track_id) +
                            ": box differs by " + std::to_string(err);
          break;
        }
      }
    }
  }
  std::printf("      palace: %d frames, %d track rows checked, max |tlwh error| %.5f px\n", last_frame + 1,
              rows_checked, max_err);
  if (!first_problem.empty()) std::printf("      first problem: %s\n", first_problem.c_str());
  CT_EXPECT(count_mismatch == 0);
  CT_EXPECT(id_missing == 0);
  CT_EXPECT(box_mismatch == 0);
  CT_EXPECT(rows_checked == kPalaceTrackRows);
}

CT_TEST(bytetrack_track_survives_short_gap_and_keeps_id) {
  camtrack::track::ByteTracker tracker(ct_test::ReferenceByteTrackParams());
  std::vector<camtrack::track::TrackedObject> out;
  // A box moving 2 px per frame to the right.
  auto at = [](int f) { return BtDet(100.f + 2 * f, 50.f, 160.f + 2 * f, 200.f, 0.9f); };
  for (int f = 0; f < 5; ++f) {
    const auto d = at(f);
    tracker.Update(&d, 1, out);
    CT_EXPECT(out.size() == 1);
    CT_EXPECT(out[0].track_id == 1);
  }
  // 10 frames without detections (< track_buffer = 30): no output while lost.
  for (int f = 5; f < 15; ++f) {
    tracker.Update(nullptr, 0, out);
    CT_EXPECT(out.empty());
  }
  const auto d = at(15);
  tracker.Update(&d, 1, out);
  CT_EXPECT(out.size() == 1);
  CT_EXPECT(out[0].track_id == 1);
  CT_EXPECT(out[0].frames_tracked == 16);
}

CT_TEST(bytetrack_track_lost_longer_than_buffer_gets_new_id) {
  camtrack::track::ByteTrackParams p = ct_test::ReferenceByteTrackParams();
  p.track_buffer = 5;
  camtrack::track::ByteTracker tracker(p);
  CT_EXPECT(tracker.max_time_lost() == 5);
  std::vector<camtrack::track::TrackedObject> out;
  const auto d = BtDet(100, 50, 160, 200, 0.9f);
  for (int f = 0; f < 3; ++f) tracker.Update(&d, 1, out);
  CT_EXPECT(out.size() == 1 && out[0].track_id == 1);
  for (int f = 0; f < 8; ++f) tracker.Update(nullptr, 0, out);
  // Comes back: a new track (id 2), unconfirmed on its first frame, output from its second.
  tracker.Update(&d, 1, out);
  CT_EXPECT(out.empty());
  tracker.Update(&d, 1, out);
  CT_EXPECT(out.size() == 1);
  CT_EXPECT(out[0].track_id == 2);
}

CT_TEST(bytetrack_new_object_gets_new_id_and_low_scores_do_not_start_tracks) {
  camtrack::track::ByteTracker tracker(ct_test::ReferenceByteTrackParams());
  std::vector<camtrack::track::TrackedObject> out;
  std::vector<camtrack::Detection> dets = {BtDet(10, 10, 60, 110, 0.95f, 0)};
  tracker.Update(dets.data(), dets.size(), out);
  CT_EXPECT(out.size() == 1 && out[0].track_id == 1);
  // A second, disjoint object appears, plus a low-score one (0.55 < high_thresh 0.6: never starts a track).
  dets.push_back(BtDet(300, 40, 360, 160, 0.8f, 2));
  dets.push_back(BtDet(600, 40, 660, 160, 0.55f, 0));
  tracker.Update(dets.data(), dets.size(), out);
  CT_EXPECT(out.size() == 1);  // the new track is unconfirmed on its first frame
  tracker.Update(dets.data(), dets.size(), out);
  CT_EXPECT(out.size() == 2);
  CT_EXPECT(out[0].track_id == 1);
  CT_EXPECT(out[1].track_id == 2);
  CT_EXPECT(out[1].class_id == 2);
  CT_EXPECT_NEAR(out[1].score, 0.8, 1e-6);
  // Low-score detection keeps an existing track alive (second association).
  dets = {BtDet(11, 10, 61, 110, 0.3f, 0), BtDet(301, 40, 361, 160, 0.85f, 2)};
  tracker.Update(dets.data(), dets.size(), out);
  CT_EXPECT(out.size() == 2);
  CT_EXPECT(out[0].track_id == 1);
  CT_EXPECT_NEAR(out[0].score, 0.3, 1e-6);
}

CT_TEST(bytetrack_class_aware_does_not_match_across_classes) {
  camtrack::track::ByteTrackParams p = ct_test::ReferenceByteTrackParams();
  p.class_aware = true;
  camtrack::track::ByteTracker tracker(p);
  std::vector<camtrack::track::TrackedObject> out;
  auto d0 = BtDet(10, 10, 60, 110, 0.9f, 0);
  tracker.Update(&d0, 1, out);
  CT_EXPECT(out.size() == 1 && out[0].track_id == 1);
  auto d1 = BtDet(10, 10, 60, 110, 0.9f, 5);  // same place, other class: not the same track
  tracker.Update(&d1, 1, out);
  CT_EXPECT(out.empty());
  tracker.Update(&d1, 1, out);
  CT_EXPECT(out.size() == 1 && out[0].track_id == 2 && out[0].class_id == 5);
}

CT_TEST(bytetrack_reset_restarts_ids) {
  camtrack::track::ByteTracker tracker(ct_test::ReferenceByteTrackParams());
  std::vector<camtrack::track::TrackedObject> out;
  auto d = BtDet(10, 10, 60, 110, 0.9f);
  tracker.Update(&d, 1, out);
  tracker.Update(&d, 1, out);
  tracker.Reset();
  tracker.Update(&d, 1, out);
  CT_EXPECT(out.size() == 1 && out[0].track_id == 1);
  CT_EXPECT(tracker.frame_id() == 1);
}

CT_TEST(bytetrack_bad_params_throw_invalid_argument) {
  camtrack::track::ByteTrackParams p = ct_test::ReferenceByteTrackParams();
  p.match_thresh = 1.5f;
  CT_EXPECT(ct_test::ThrowsCode(camtrack::ErrorCode::kInvalidArgument, [&] { camtrack::track::ByteTracker t(p); }));
}

CT_TEST(bytetrack_lapjv_matches_known_optimum_and_cost_limit) {
  camtrack::track::LapjvSolver solver;
  std::vector<camtrack::track::Match> m;
  std::vector<int> ur, uc;
  // Greedy would take (0,0)=0.1 then (1,1)=0.9; the optimum is (0,1)+(1,0) = 0.2+0.3.
  const float cost[4] = {0.1f, 0.2f, 0.3f, 0.9f};
  solver.Solve(cost, 2, 2, 1.0f, m, ur, uc);
  CT_EXPECT(m.size() == 2);
  CT_EXPECT(m[0].row == 0 && m[0].col == 1);
  CT_EXPECT(m[1].row == 1 && m[1].col == 0);
  // With cost_limit 0.25 only pairs cheaper than leaving both unmatched (0.25) are taken: (0,0)=0.1 alone, since
  // (0,1)=0.2 + row 1 unmatched would cost more than 0.1 + 0.125 + 0.125.
  solver.Solve(cost, 2, 2, 0.25f, m, ur, uc);
  CT_EXPECT(m.size() == 1);
  CT_EXPECT(m[0].row == 0 && m[0].col == 0);
  CT_EXPECT(ur.size() == 1 && ur[0] == 1);
  CT_EXPECT(uc.size() == 1 && uc[0] == 1);
  // Rectangular 1x3 and empty problems.
  const float row[3] = {0.5f, 0.05f, 0.4f};
  solver.Solve(row, 1, 3, 0.8f, m, ur, uc);
  CT_EXPECT(m.size() == 1 && m[0].col == 1);
  CT_EXPECT(uc.size() == 2 && uc[0] == 0 && uc[1] == 2);
  solver.Solve(nullptr, 0, 4, 0.8f, m, ur, uc);
  CT_EXPECT(m.empty() && ur.empty() && uc.size() == 4);
}

CT_TEST(bytetrack_kalman_update_pulls_state_towards_measurement) {
  camtrack::track::KalmanFilter kf;
  camtrack::track::KalmanMean mean;
  camtrack::track::KalmanCovariance cov;
  kf.Initiate({100.f, 100.f, 0.5f, 200.f}, mean, cov);
  // Initial covariance: (2 * 1/20 * h)^2 = 400 on position; (10 * 1/160 * h)^2 = 156.25 on velocity.
  CT_EXPECT_NEAR(cov[0], 400.0, 1e-3);
  CT_EXPECT_NEAR(cov[4 * 8 + 4], 156.25, 1e-3);
  kf.Predict(mean, cov);
  CT_EXPECT_NEAR(mean[0], 100.0, 1e-6);
  // P00' = P00 + P44 + q0 = 400 + 156.25 + (h/20)^2 = 656.25
  CT_EXPECT_NEAR(cov[0], 656.25, 1e-2);
  kf.Update({110.f, 100.f, 0.5f, 200.f}, mean, cov);
  // Gain on cx: 656.25 / (656.25 + 100) = 0.8678: cx = 100 + 10 * 0.8678
  CT_EXPECT_NEAR(mean[0], 100.0 + 10.0 * 656.25 / 756.25, 1e-3);
  CT_EXPECT(mean[4] > 0.f);  // velocity picked up
}
