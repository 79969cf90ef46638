#pragma once
// camtrack::track::SortTracker — SORT (Bewley et al., "Simple Online and Realtime Tracking", ICIP 2016) with the
// semantics of the reference implementation (abewley/sort, sort.py):
//   - one 7-state constant-velocity Kalman filter per track on z = [cx, cy, s = w*h, r = w/h] (r constant), with
//     the reference's matrices (filterpy defaults: R = diag(1,1,10,10), P0 = diag(10,10,10,10,1e4,1e4,1e4),
//     Q = diag(1,1,1,1,.01,.01,1e-4)), double precision, Joseph-form update as filterpy;
//   - association on IoU (continuous coordinates, no +1): if every detection and every track has at most one
//     partner with IoU > iou_threshold those pairs are taken directly, otherwise LAPJV on -IoU (lap.lapjv with
//     extend_cost); pairs with IoU < iou_threshold are then dropped;
//   - unmatched detections start tracks (ids 1, 2, … in creation order, gaps for tracks never output);
//   - a track is output in a frame when it was matched in that frame and (hit_streak >= min_hits or
//     frame_count <= min_hits); it is deleted when time_since_update > max_age (frames of the stream: Predict() ages
//     a lost track too, see Tracker::Predict).
// Output order is the reference's (tracks in reverse creation order); the box is the Kalman state after update.
// Additions (default off / neutral): class_aware forbids matches across classes; invalid boxes (non-positive size,
// non-finite values) are ignored.
//
// Ownership: the tracker owns its tracks (a vector of fixed-size structs) and all scratch vectors; they are reserved
// up front and only grow past the high-water mark of tracks/detections, so a steady-state Update() does not allocate.
// Thread-safety: none. One instance per stream, updated by that stream's thread only.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/track/lapjv.h"
#include "core/track/tracker.h"

namespace camtrack {
namespace track {

// No defaults (zero-initialised): camtrack's are in src/config/schema.ts, the reference's (max_age 1, min_hits 3,
// IoU 0.3) in native/tests/tracker_reference.h.
struct SortParams {
  int max_age = 0;           // frames a track is kept without a match (deleted when frames since match > this)
  int min_hits = 0;          // consecutive matches before a track is output (except in the first min_hits frames)
  float iou_threshold = 0;   // minimum IoU of a match
  bool class_aware = false;    // if true, a track only matches detections of its own class
};

class SortTracker : public Tracker {
 public:
  // Throws camtrack::Error(kInvalidArgument, "track") for iou_threshold outside [0, 1] or negative max_age/min_hits.
  explicit SortTracker(const SortParams& params);
  ~SortTracker() override;
  // The constructor's checks, without a tracker (throws the same errors).
  static void Validate(const SortParams& params);
  // Changes the parameters from the next Update() on, keeping every track, its id and state (a stream's live
  // reconfiguration). Throws like the constructor, and then changes nothing.
  void SetParams(const SortParams& params);

  void Update(const Detection* dets, size_t n, std::vector<TrackedObject>& out) override;
  void Predict(std::vector<TrackedObject>& out) override;

 private:
  void ResetState() override;
  struct Track {
    std::array<double, 7> x;   // cx, cy, s, r, vcx, vcy, vs
    std::array<double, 49> p;  // 7x7 covariance, row-major
    int64_t id;
    int64_t start_frame;
    int time_since_update;
    int hits;
    int hit_streak;
    float score;
    int32_t class_id;
    bool announced;      // kNew reported
    bool lost_reported;  // kLost reported, no kRefound since
    bool output;         // output in the current frame
  };
  static void Init(Track& t, const Box& b);
  static void PredictTrack(Track& t);  // one Kalman time step
  static void Correct(Track& t, const Box& b);
  static Box State(const Track& t);
  void Associate();

  SortParams params_;
  int64_t frame_count_ = 0;
  int64_t next_id_ = 1;
  std::vector<Track> tracks_;

  // Per-update scratch (cleared, capacity kept).
  std::vector<Detection> dets_;
  std::vector<Box> trk_boxes_;
  std::vector<double> iou_;     // dets x tracks
  std::vector<double> square_;  // max(dets, tracks)^2 for LAPJV
  std::vector<int> x_, y_;
  std::vector<Match> matches_;  // row = detection, col = track
  std::vector<int> unmatched_dets_;
  std::vector<int> det_rows_, trk_cols_;
  std::vector<char> det_used_, trk_used_;
  LapjvSolver lapjv_;
};

}  // namespace track
}  // namespace camtrack
