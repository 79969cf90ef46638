#pragma once
// camtrack::track::ByteTracker — ByteTrack (Zhang et al., ECCV 2022) with the semantics of the official
// implementation (ifzhang/ByteTrack, deploy/ncnn/cpp; same as its Python tracker): two-stage association (high-score
// detections first, then low-score detections against the still-unmatched tracked tracks), unconfirmed tracks,
// lost tracks kept for max_time_lost_ frames, duplicate removal between tracked and lost tracks. Same detections in
// give the same tracks out as the reference (tests/bytetrack_test.cpp checks this on the reference's own data).
//
// Ownership: the tracker owns a pool of STracks (indices, no shared_ptr) and all scratch vectors. Both are reserved
// up front and only grow past their reserve when a stream has more live tracks/detections than ever before, so a
// steady-state Update() does not allocate.
// Thread-safety: none. One instance per stream, updated by that stream's thread only.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/track/kalman_filter.h"
#include "core/track/lapjv.h"
#include "core/track/strack.h"
#include "core/track/tracker.h"

namespace camtrack {
namespace track {

// No defaults (zero-initialised): camtrack's are in src/config/schema.ts, the reference's (0.5 / 0.6 / 0.8 / 30 at
// 30 fps) in native/tests/tracker_reference.h.
struct ByteTrackParams {
  float track_thresh = 0;  // detections with score >= this are "high" (first association); others are "low"
  float high_thresh = 0;   // an unmatched high detection starts a new track only if score >= this
  float match_thresh = 0;  // max IoU distance (1 - IoU) in the first association
  int track_buffer = 0;    // frames a lost track is kept (at 30 fps; scaled by frame_rate / 30)
  float frame_rate = 0;    // stream frame rate, frames per second
  bool class_aware = false;   // if true, a track only matches detections of its own class
  // Compatibility switch, default false. The official C++ ByteTrack demos before ifzhang/ByteTrack commit b500c6f
  // ("update tlbr after kalman prediction", 2022-03) matched detections against each track's box from its LAST
  // UPDATE instead of its Kalman prediction. Data produced by those demos (e.g. the reference tracks in
  // shared/assets/mot/bytetrack_palace) is reproduced exactly only with this set to true. The default (false) is
  // the algorithm of the paper, the Python tracker and the fixed C++ demos.
  bool legacy_iou_on_last_update = false;
};

class ByteTracker : public Tracker {
 public:
  // Throws camtrack::Error(kInvalidArgument, "track") for thresholds outside [0, 1], a negative track_buffer or a
  // non-positive frame_rate.
  explicit ByteTracker(const ByteTrackParams& params);
  ~ByteTracker() override;
  // The constructor's checks, without a tracker (throws the same errors).
  static void Validate(const ByteTrackParams& params);
  // Changes the parameters from the next Update() on, keeping every track, its id and state (a stream's live
  // reconfiguration). Throws like the constructor, and then changes nothing.
  void SetParams(const ByteTrackParams& params);

  void Update(const Detection* dets, size_t n, std::vector<TrackedObject>& out) override;
  void Predict(std::vector<TrackedObject>& out) override;
  // Lifecycle (see Tracker): kNew when a track is first output (activated), kLost when an output track moves to the
  // lost list, kRefound when a lost track is re-activated, kRemoved when an output track's slot is dropped (timed
  // out of the lost list — in Update() or, for frames that were not inferred, in Predict() — or removed as a
  // duplicate).

  int frame_id() const { return frame_id_; }  // frames so far: Update() and Predict() calls since the first Update()
  int max_time_lost() const { return max_time_lost_; }

 private:
  void ResetState() override;
  struct DetIn {
    Tlwh tlwh;
    Box tlbr;
    float score;
    int32_t class_id;
  };

  int NewTrack();
  // cost[r][c] = 1 - IoU (reference IoU with +1 pixel convention), plus a prohibitive cost across classes when
  // class_aware. Rows are track indices; columns are either detections (IouDistanceToDets) or tracks.
  void IouDistanceToDets(const std::vector<int>& tracks, const std::vector<DetIn>& dets,
                         const std::vector<int>* det_subset, std::vector<float>& cost) const;
  void IouDistanceTracks(const std::vector<int>& a, const std::vector<int>& b, std::vector<float>& cost) const;
  // The reference's joint_stracks (a, then b's tracks whose id is not in a) and sub_stracks (a without b's ids,
  // sorted by id).
  void JointStracks(const std::vector<int>& a, const std::vector<int>& b, std::vector<int>& out);
  void SubStracks(const std::vector<int>& a, const std::vector<int>& b, std::vector<int>& out);
  void RemoveDuplicateStracks();
  void RecycleDeadTracks();

  ByteTrackParams params_;
  // Reference names.
  float track_thresh_;
  float high_thresh_;
  float match_thresh_;
  int max_time_lost_;

  KalmanFilter kalman_filter_;
  LapjvSolver lapjv_;
  int frame_id_ = 0;
  int64_t track_id_count_ = 0;
  uint64_t epoch_ = 0;

  std::vector<STrack> pool_;     // all track slots
  std::vector<char> in_use_;     // per slot
  std::vector<int> free_slots_;  // recycled slots
  std::vector<int> tracked_stracks_;
  std::vector<int> lost_stracks_;

  // Per-update scratch (cleared, capacity kept).
  std::vector<DetIn> detections_, detections_low_;
  std::vector<int> remain_dets_;  // indices into detections_ not matched in the first association
  std::vector<int> unconfirmed_, active_, strack_pool_, r_tracked_;
  std::vector<int> activated_, refind_, cur_lost_, cur_removed_;
  std::vector<int> tmp_a_, tmp_b_;
  std::vector<float> dists_;
  std::vector<Match> matches_;
  std::vector<int> u_track_, u_detection_;
  std::vector<char> dup_a_, dup_b_;
  const std::vector<int> no_tracks_;  // always empty
};

}  // namespace track
}  // namespace camtrack
