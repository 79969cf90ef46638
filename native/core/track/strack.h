#pragma once
// camtrack::track::STrack — one ByteTrack track ("single target track"): Kalman state, life-cycle state, ids.
// Names and transitions follow ifzhang/ByteTrack (STrack: activate / re_activate / update / mark_lost /
// mark_removed; frame_id = last frame it was matched, start_frame = frame it was activated).
//
// Ownership: STracks live in ByteTracker's pool and are referred to by pool index; nothing else holds them.
// Thread-safety: none (owned by one tracker, used by one thread). No heap: fixed-size arrays only.
#include <cstdint>

#include "core/common/geometry.h"
#include "core/track/kalman_filter.h"

namespace camtrack {
namespace track {

enum class STrackState { kNew = 0, kTracked = 1, kLost = 2, kRemoved = 3 };

// Axis-aligned box as top-left + size, the form the reference computes from the Kalman state.
struct Tlwh {
  float x = 0, y = 0, w = 0, h = 0;
  Box ToBox() const { return Box{x, y, x + w, y + h}; }
  KalmanMeasurement ToXyah() const { return {x + w / 2, y + h / 2, w / h, h}; }
  static Tlwh FromBox(const Box& b) { return Tlwh{b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1}; }
  // The box of a Kalman mean (cx, cy, a, h, …): w = a * h, then the top-left corner. Also the CPU reference of the
  // batched association (BoxFromKalmanMean), whose kernel repeats these operations in this order.
  static Tlwh FromKalmanMean(const float* mean) {
    Tlwh t;
    t.w = mean[2] * mean[3];
    t.h = mean[3];
    t.x = mean[0] - t.w / 2;
    t.y = mean[1] - t.h / 2;
    return t;
  }
};

class STrack {
 public:
  // Starts a new track from a detection (state kTracked). Only tracks started on the very first frame are
  // activated (output) immediately; the others must be matched once more (the reference's "unconfirmed").
  void Activate(const KalmanFilter& kf, const Tlwh& det, float score, int32_t class_id, int frame_id,
                int64_t track_id) {
    kf.Initiate(det.ToXyah(), mean_, covariance_);
    tlwh_ = det;  // the reference reports the detection box itself until the first prediction
    state_ = STrackState::kTracked;
    is_activated_ = frame_id == 1;
    track_id_ = track_id;
    frame_id_ = frame_id;
    start_frame_ = frame_id;
    tracklet_len_ = 0;
    score_ = score;
    class_id_ = class_id;
    removed_listed_ = false;
  }

  // A lost track matched again.
  void ReActivate(const KalmanFilter& kf, const Tlwh& det, float score, int32_t class_id, int frame_id) {
    kf.Update(det.ToXyah(), mean_, covariance_);
    UpdateTlwhFromMean();
    tracklet_len_ = 0;
    state_ = STrackState::kTracked;
    is_activated_ = true;
    frame_id_ = frame_id;
    score_ = score;
    class_id_ = class_id;
  }

  // A tracked (or unconfirmed) track matched in this frame.
  void Update(const KalmanFilter& kf, const Tlwh& det, float score, int32_t class_id, int frame_id) {
    frame_id_ = frame_id;
    ++tracklet_len_;
    kf.Update(det.ToXyah(), mean_, covariance_);
    UpdateTlwhFromMean();
    state_ = STrackState::kTracked;
    is_activated_ = true;
    score_ = score;
    class_id_ = class_id;
  }

  // One Kalman time step. Tracks that are not being tracked stop growing/shrinking (vh = 0), like the reference.
  // `refresh_box`: recompute the box from the predicted state (official ByteTrack since commit b500c6f, and its
  // Python tracker); false keeps the last updated box, as the official C++ demo did before that fix.
  void Predict(const KalmanFilter& kf, bool refresh_box) {
    if (state_ != STrackState::kTracked) mean_[7] = 0.f;
    kf.Predict(mean_, covariance_);
    if (refresh_box) UpdateTlwhFromMean();
  }

  // A tracked track carried through a frame that was not inferred (ByteTracker::Predict): it counts as seen in that
  // frame, so its lost-track buffer starts from the last frame it was tracked in, inferred or not.
  void Carry(int frame_id) { frame_id_ = frame_id; }

  void MarkLost() { state_ = STrackState::kLost; }
  void MarkRemoved() { state_ = STrackState::kRemoved; }

  STrackState state() const { return state_; }
  bool is_activated() const { return is_activated_; }
  int64_t track_id() const { return track_id_; }
  int frame_id() const { return frame_id_; }  // the reference's end_frame()
  int start_frame() const { return start_frame_; }
  int tracklet_len() const { return tracklet_len_; }
  float score() const { return score_; }
  int32_t class_id() const { return class_id_; }
  const Tlwh& tlwh() const { return tlwh_; }
  Box tlbr() const { return tlwh_.ToBox(); }

  // Bookkeeping of ByteTracker (see byte_tracker.cpp): whether the reference's removed_stracks list holds this
  // track's id, and a scratch stamp for set operations on track lists.
  bool removed_listed_ = false;
  uint64_t mark_ = 0;
  // Lifecycle bookkeeping (TrackEvent): kNew was reported (the track was output once); kLost was reported and no
  // kRefound since. Only read/written by ByteTracker's event code; they never change which tracks come out.
  bool announced_ = false;
  bool lost_reported_ = false;

 private:
  void UpdateTlwhFromMean() { tlwh_ = Tlwh::FromKalmanMean(mean_.data()); }

  KalmanMean mean_{};
  KalmanCovariance covariance_{};
  Tlwh tlwh_;
  STrackState state_ = STrackState::kNew;
  bool is_activated_ = false;
  int64_t track_id_ = 0;
  int frame_id_ = 0;
  int start_frame_ = 0;
  int tracklet_len_ = 0;
  float score_ = 0.f;
  int32_t class_id_ = 0;
};

}  // namespace track
}  // namespace camtrack
