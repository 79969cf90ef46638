#include "core/track/iou_tracker.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/common/error.h"
#include "core/track/tracker_util.h"

namespace camtrack {
namespace track {

namespace {
constexpr size_t kReserveTracks = 256;
constexpr size_t kReserveDets = 512;
// Cost of a forbidden pair (IoU below the threshold, or other class): above the cost limit (<= 1).
constexpr float kForbidden = 1000.f;
}  // namespace

void IouTracker::Validate(const IouParams& params) {
  if (!(params.iou_threshold >= 0.f && params.iou_threshold <= 1.f)) {
    throw Error(ErrorCode::kInvalidArgument, "track",
                "Expected a number in [0, 1] for iou_threshold but received " + std::to_string(params.iou_threshold),
                "iouThreshold is the minimum IoU of a track/detection match");
  }
  if (params.max_age < 0 || params.min_hits < 1) {
    throw Error(ErrorCode::kInvalidArgument, "track",
                "Expected max_age >= 0 and min_hits >= 1 but received " + std::to_string(params.max_age) + " and " +
                    std::to_string(params.min_hits),
                "maxAge is in frames; minHits counts the first detection");
  }
}

void IouTracker::SetParams(const IouParams& params) {
  Validate(params);
  params_ = params;
}

IouTracker::IouTracker(const IouParams& params) : params_(params) {
  Validate(params);
  tracks_.reserve(kReserveTracks);
  dets_.reserve(kReserveDets);
  cost_.reserve(kReserveTracks * 16);
  pairs_.reserve(kReserveTracks * 4);
  matches_.reserve(kReserveTracks);
  unmatched_tracks_.reserve(kReserveTracks);
  unmatched_dets_.reserve(kReserveDets);
  det_used_.reserve(kReserveDets);
  trk_used_.reserve(kReserveTracks);
}

IouTracker::~IouTracker() = default;

void IouTracker::ResetState() {
  frame_ = 0;
  next_id_ = 1;
  tracks_.clear();
}

void IouTracker::Associate() {
  const int nt = static_cast<int>(tracks_.size()), nd = static_cast<int>(dets_.size());
  const float thr = params_.iou_threshold;
  matches_.clear();
  if (params_.greedy) {
    pairs_.clear();
    for (int t = 0; t < nt; ++t) {
      for (int d = 0; d < nd; ++d) {
        if (params_.class_aware && tracks_[t].class_id != dets_[d].class_id) continue;
        const float v = IoU(tracks_[t].box, dets_[d].box);
        if (v >= thr && v > 0.f) pairs_.push_back({v, t, d});
      }
    }
    // Highest IoU first; ties by track then detection index (deterministic).
    std::sort(pairs_.begin(), pairs_.end(), [](const Pair& a, const Pair& b) {
      if (a.iou != b.iou) return a.iou > b.iou;
      if (a.track != b.track) return a.track < b.track;
      return a.det < b.det;
    });
    trk_used_.assign(nt, 0);
    det_used_.assign(nd, 0);
    for (const Pair& p : pairs_) {
      if (trk_used_[p.track] || det_used_[p.det]) continue;
      trk_used_[p.track] = 1;
      det_used_[p.det] = 1;
      matches_.push_back({p.track, p.det});
    }
    unmatched_tracks_.clear();
    unmatched_dets_.clear();
    for (int t = 0; t < nt; ++t) {
      if (!trk_used_[t]) unmatched_tracks_.push_back(t);
    }
    for (int d = 0; d < nd; ++d) {
      if (!det_used_[d]) unmatched_dets_.push_back(d);
    }
    return;
  }
  // Optimal: cost 1 - IoU, limit 1 - thr, so a pair is matched when that adds IoU - thr >= 0 to the objective.
  cost_.resize(size_t(nt) * nd);
  for (int t = 0; t < nt; ++t) {
    for (int d = 0; d < nd; ++d) {
      float c = kForbidden;
      if (!(params_.class_aware && tracks_[t].class_id != dets_[d].class_id)) {
        const float v = IoU(tracks_[t].box, dets_[d].box);
        if (v >= thr && v > 0.f) c = 1.f - v;
      }
      cost_[size_t(t) * nd + d] = c;
    }
  }
  // A limit a hair above 1 - thr keeps pairs with IoU exactly thr; forbidden pairs cost far more.
  const float limit = std::nextafter(1.f - thr, 2.f);
  lapjv_.Solve(cost_.data(), nt, nd, limit, matches_, unmatched_tracks_, unmatched_dets_);
  // Drop any forbidden pair the solver was forced into (cannot happen with the limit below kForbidden, kept as a
  // guard), returning both sides to the unmatched lists.
  size_t k = 0;
  bool dropped = false;
  for (size_t m = 0; m < matches_.size(); ++m) {
    if (cost_[size_t(matches_[m].row) * nd + matches_[m].col] >= kForbidden) {
      unmatched_tracks_.push_back(matches_[m].row);
      unmatched_dets_.push_back(matches_[m].col);
      dropped = true;
      continue;
    }
    matches_[k++] = matches_[m];
  }
  matches_.resize(k);
  if (dropped) {
    std::sort(unmatched_tracks_.begin(), unmatched_tracks_.end());
    std::sort(unmatched_dets_.begin(), unmatched_dets_.end());
  }
}

void IouTracker::Update(const Detection* dets, size_t n, std::vector<TrackedObject>& out) {
  out.clear();
  CopyValidDetections(dets, n, "IouTracker", dets_);
  ++frame_;

  Associate();

  for (const Match& m : matches_) {
    Track& t = tracks_[m.row];
    const Detection& d = dets_[m.col];
    t.box = d.box;
    t.score = d.score;
    t.class_id = d.class_id;
    t.time_since_update = 0;
    ++t.hits;
  }
  for (int ti : unmatched_tracks_) ++tracks_[ti].time_since_update;
  for (int di : unmatched_dets_) {
    const Detection& d = dets_[di];
    Track t;
    t.box = d.box;
    t.id = 0;
    t.start_frame = frame_;
    t.time_since_update = 0;
    t.hits = 1;
    t.score = d.score;
    t.class_id = d.class_id;
    t.lost_reported = false;
    tracks_.push_back(t);  // grows only past the high-water mark of live tracks
  }

  // Confirm, output and report in track order; then lost; then delete.
  for (Track& t : tracks_) {
    if (t.time_since_update != 0) continue;
    bool is_new = false;
    if (t.id == 0) {
      if (t.hits < params_.min_hits) continue;
      t.id = next_id_++;
      is_new = true;
    }
    OutputTrack(t.id, t.box, t.score, t.class_id, t.start_frame, is_new, t.lost_reported, frame_, out, events_);
  }
  for (Track& t : tracks_) {
    if (t.id == 0 || t.time_since_update == 0 || t.time_since_update > params_.max_age) continue;
    ReportLost(t.id, t.box, t.class_id, t.lost_reported, frame_, events_);
  }
  size_t keep = 0;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    const Track& t = tracks_[i];
    const bool dead = t.id == 0 ? t.time_since_update > 0 : t.time_since_update > params_.max_age;
    if (dead) {
      if (t.id != 0) events_.Push(t.id, TrackEvent::Kind::kRemoved, t.box, t.class_id, frame_);
      continue;
    }
    if (keep != i) tracks_[keep] = t;
    ++keep;
  }
  tracks_.resize(keep);
}

void IouTracker::Predict(std::vector<TrackedObject>& out) {
  out.clear();
  if (frame_ == 0) return;  // nothing seen yet
  // A frame of the stream (see Tracker::Predict). No motion model: tracks matched on the last inferred frame
  // (time_since_update 0: confirmed ones and tentative ones) are carried at their boxes, not aged; lost confirmed
  // tracks age exactly as Update() ages an unmatched one, and are deleted past max_age.
  ++frame_;
  size_t keep = 0;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    Track& t = tracks_[i];
    if (t.time_since_update > 0 && ++t.time_since_update > params_.max_age) {
      if (t.id != 0) events_.Push(t.id, TrackEvent::Kind::kRemoved, t.box, t.class_id, frame_);
      continue;
    }
    if (keep != i) tracks_[keep] = t;
    ++keep;
  }
  tracks_.resize(keep);
  for (const Track& t : tracks_) {
    if (t.id == 0 || t.time_since_update != 0) continue;
    TrackedObject o;
    o.track_id = t.id;
    o.box = t.box;
    o.score = t.score;
    o.class_id = t.class_id;
    o.frames_tracked = static_cast<int32_t>(frame_ - t.start_frame + 1);
    out.push_back(o);
  }
}

}  // namespace track
}  // namespace camtrack
