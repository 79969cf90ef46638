#include "core/track/byte_tracker.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/common/error.h"
#include "core/track/iou_cost.h"
#include "core/track/tracker_util.h"

namespace camtrack {
namespace track {

namespace {
// Initial reserve: live tracks and detections per frame that a stream handles without any allocation.
constexpr size_t kReserveTracks = 256;
constexpr size_t kReserveDets = 512;
// Second association (low-score detections) and unconfirmed-track thresholds: fixed in the reference.
constexpr float kLowMatchThresh = 0.5f;
constexpr float kUnconfirmedMatchThresh = 0.7f;
// Tracked/lost pairs closer than this IoU distance are duplicates.
constexpr float kDuplicateIouDistance = 0.15f;

void CheckUnit(float v, const char* name) {
  if (!(v >= 0.f && v <= 1.f)) {
    throw Error(ErrorCode::kInvalidArgument, "track",
                std::string("Expected a number in [0, 1] for ") + name + " but received " + std::to_string(v),
                "set the ByteTrack thresholds (trackThresh, highThresh, matchThresh) between 0 and 1");
  }
}
}  // namespace

void ByteTracker::Validate(const ByteTrackParams& params) {
  CheckUnit(params.track_thresh, "track_thresh");
  CheckUnit(params.high_thresh, "high_thresh");
  CheckUnit(params.match_thresh, "match_thresh");
  if (params.track_buffer < 0) {
    throw Error(ErrorCode::kInvalidArgument, "track",
                "Expected a non-negative integer for track_buffer but received " + std::to_string(params.track_buffer),
                "trackBuffer is the number of frames (at 30 fps) a lost track is kept");
  }
  if (!(params.frame_rate > 0.f) || !std::isfinite(params.frame_rate)) {
    throw Error(ErrorCode::kInvalidArgument, "track",
                "Expected a positive number for frame_rate but received " + std::to_string(params.frame_rate),
                "pass the stream's frame rate in frames per second");
  }
}

void ByteTracker::SetParams(const ByteTrackParams& params) {
  Validate(params);
  params_ = params;
  track_thresh_ = params.track_thresh;
  high_thresh_ = params.high_thresh;
  match_thresh_ = params.match_thresh;
  // Same rounding as the reference: int(frame_rate / 30.0 * track_buffer).
  max_time_lost_ = static_cast<int>(static_cast<double>(params.frame_rate) / 30.0 * params.track_buffer);
}

ByteTracker::ByteTracker(const ByteTrackParams& params)
    : params_(params),
      track_thresh_(params.track_thresh),
      high_thresh_(params.high_thresh),
      match_thresh_(params.match_thresh),
      max_time_lost_(0) {
  SetParams(params);

  pool_.reserve(kReserveTracks);
  in_use_.reserve(kReserveTracks);
  free_slots_.reserve(kReserveTracks);
  for (auto* v : {&tracked_stracks_, &lost_stracks_, &unconfirmed_, &active_, &strack_pool_, &r_tracked_,
                  &activated_, &refind_, &cur_lost_, &cur_removed_, &tmp_a_, &tmp_b_, &u_track_}) {
    v->reserve(kReserveTracks);
  }
  detections_.reserve(kReserveDets);
  detections_low_.reserve(kReserveDets);
  remain_dets_.reserve(kReserveDets);
  u_detection_.reserve(kReserveDets);
  matches_.reserve(kReserveTracks);
  dup_a_.reserve(kReserveTracks);
  dup_b_.reserve(kReserveTracks);
}

ByteTracker::~ByteTracker() = default;

void ByteTracker::ResetState() {
  frame_id_ = 0;
  track_id_count_ = 0;
  pool_.clear();
  in_use_.clear();
  free_slots_.clear();
  tracked_stracks_.clear();
  lost_stracks_.clear();
}

int ByteTracker::NewTrack() {
  int slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    pool_[slot] = STrack();
    in_use_[slot] = 1;
  } else {
    slot = static_cast<int>(pool_.size());
    pool_.emplace_back();  // grows only past the high-water mark of live tracks
    in_use_.push_back(1);
  }
  return slot;
}

void ByteTracker::IouDistanceToDets(const std::vector<int>& tracks, const std::vector<DetIn>& dets,
                                    const std::vector<int>* det_subset, std::vector<float>& cost) const {
  const size_t rows = tracks.size();
  const size_t cols = det_subset ? det_subset->size() : dets.size();
  cost.resize(rows * cols);
  for (size_t r = 0; r < rows; ++r) {
    const STrack& t = pool_[tracks[r]];
    const Box a = t.tlbr();
    for (size_t c = 0; c < cols; ++c) {
      const DetIn& d = dets[det_subset ? (*det_subset)[c] : c];
      float v = ReferenceIouDistance(a, d.tlbr);
      if (params_.class_aware && d.class_id != t.class_id()) v = kClassMismatchCost;
      cost[r * cols + c] = v;
    }
  }
}

void ByteTracker::IouDistanceTracks(const std::vector<int>& a, const std::vector<int>& b,
                                    std::vector<float>& cost) const {
  const size_t rows = a.size(), cols = b.size();
  cost.resize(rows * cols);
  for (size_t r = 0; r < rows; ++r) {
    const STrack& ta = pool_[a[r]];
    const Box ba = ta.tlbr();
    for (size_t c = 0; c < cols; ++c) {
      const STrack& tb = pool_[b[c]];
      float v = ReferenceIouDistance(ba, tb.tlbr());
      if (params_.class_aware && ta.class_id() != tb.class_id()) v = kClassMismatchCost;
      cost[r * cols + c] = v;
    }
  }
}

void ByteTracker::JointStracks(const std::vector<int>& a, const std::vector<int>& b, std::vector<int>& out) {
  // Track ids are unique among live slots, so "same id" is "same slot"; a stamp replaces the reference's map.
  out.clear();
  const uint64_t stamp = ++epoch_;
  for (int t : a) {
    pool_[t].mark_ = stamp;
    out.push_back(t);
  }
  for (int t : b) {
    if (pool_[t].mark_ != stamp) {
      pool_[t].mark_ = stamp;
      out.push_back(t);
    }
  }
}

void ByteTracker::SubStracks(const std::vector<int>& a, const std::vector<int>& b, std::vector<int>& out) {
  out.clear();
  const uint64_t exclude = ++epoch_;
  for (int t : b) pool_[t].mark_ = exclude;
  const uint64_t taken = ++epoch_;
  for (int t : a) {
    if (pool_[t].mark_ == exclude || pool_[t].mark_ == taken) continue;
    pool_[t].mark_ = taken;
    out.push_back(t);
  }
  // The reference builds the result from a std::map keyed by track id: ascending ids.
  std::sort(out.begin(), out.end(), [this](int x, int y) { return pool_[x].track_id() < pool_[y].track_id(); });
}

void ByteTracker::RemoveDuplicateStracks() {
  const std::vector<int>& a = tracked_stracks_;
  const std::vector<int>& b = lost_stracks_;
  IouDistanceTracks(a, b, dists_);
  dup_a_.assign(a.size(), 0);
  dup_b_.assign(b.size(), 0);
  bool any = false;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = 0; j < b.size(); ++j) {
      if (dists_[i * b.size() + j] < kDuplicateIouDistance) {
        const int timep = pool_[a[i]].frame_id() - pool_[a[i]].start_frame();
        const int timeq = pool_[b[j]].frame_id() - pool_[b[j]].start_frame();
        if (timep > timeq) {
          dup_b_[j] = 1;
        } else {
          dup_a_[i] = 1;
        }
        any = true;
      }
    }
  }
  if (!any) return;
  size_t k = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!dup_a_[i]) tracked_stracks_[k++] = a[i];
  }
  tracked_stracks_.resize(k);
  k = 0;
  for (size_t j = 0; j < b.size(); ++j) {
    if (!dup_b_[j]) lost_stracks_[k++] = b[j];
  }
  lost_stracks_.resize(k);
}

void ByteTracker::RecycleDeadTracks() {
  // A slot that is in neither list can never be referenced again (removed tracks are only remembered through the
  // removed_listed_ flag of tracks that are still alive), so it goes back to the free list.
  const uint64_t alive = ++epoch_;
  for (int t : tracked_stracks_) pool_[t].mark_ = alive;
  for (int t : lost_stracks_) pool_[t].mark_ = alive;
  for (size_t s = 0; s < pool_.size(); ++s) {
    if (in_use_[s] && pool_[s].mark_ != alive) {
      const STrack& track = pool_[s];
      if (track.announced_) {
        events_.Push(track.track_id(), TrackEvent::Kind::kRemoved, track.tlbr(), track.class_id(), frame_id_);
      }
      in_use_[s] = 0;
      free_slots_.push_back(static_cast<int>(s));
    }
  }
}

void ByteTracker::Update(const Detection* dets, size_t n, std::vector<TrackedObject>& out) {
  out.clear();
  if (n > 0 && dets == nullptr) {
    throw Error(ErrorCode::kInvalidArgument, "track", "ByteTracker::Update got a null detection array with n > 0",
                "pass n = 0 for a frame without detections");
  }

  ////////////////// Step 1: detections, split by score //////////////////
  ++frame_id_;
  detections_.clear();
  detections_low_.clear();
  for (size_t i = 0; i < n; ++i) {
    const Detection& d = dets[i];
    DetIn in;
    in.tlwh = Tlwh::FromBox(d.box);
    // A box without positive size, with non-finite values or beyond any frame (kMaxBoxCoord) would poison the
    // Kalman state (a = w / h, squared sizes); the reference never receives one from a real detector, so dropping
    // it changes nothing there.
    if (!(in.tlwh.w > 0.f && in.tlwh.h > 0.f) || !std::isfinite(in.tlwh.x) || !std::isfinite(in.tlwh.y) ||
        !std::isfinite(in.tlwh.w) || !std::isfinite(in.tlwh.h) || !UsableBox(d.box)) {
      continue;
    }
    in.tlbr = in.tlwh.ToBox();
    in.score = d.score;
    in.class_id = d.class_id;
    if (d.score >= track_thresh_) {
      detections_.push_back(in);
    } else {
      detections_low_.push_back(in);
    }
  }

  unconfirmed_.clear();
  active_.clear();
  for (int t : tracked_stracks_) {
    if (!pool_[t].is_activated()) {
      unconfirmed_.push_back(t);
    } else {
      active_.push_back(t);
    }
  }

  ////////////////// Step 2: first association, high-score detections //////////////////
  JointStracks(active_, lost_stracks_, strack_pool_);
  for (int t : strack_pool_) pool_[t].Predict(kalman_filter_, !params_.legacy_iou_on_last_update);

  activated_.clear();
  refind_.clear();
  cur_lost_.clear();
  cur_removed_.clear();

  IouDistanceToDets(strack_pool_, detections_, nullptr, dists_);
  lapjv_.Solve(dists_.data(), static_cast<int>(strack_pool_.size()), static_cast<int>(detections_.size()),
               match_thresh_, matches_, u_track_, u_detection_);
  for (const Match& m : matches_) {
    STrack& track = pool_[strack_pool_[m.row]];
    const DetIn& det = detections_[m.col];
    if (track.state() == STrackState::kTracked) {
      track.Update(kalman_filter_, det.tlwh, det.score, det.class_id, frame_id_);
      activated_.push_back(strack_pool_[m.row]);
    } else {
      track.ReActivate(kalman_filter_, det.tlwh, det.score, det.class_id, frame_id_);
      refind_.push_back(strack_pool_[m.row]);
    }
  }

  ////////////////// Step 3: second association, low-score detections //////////////////
  remain_dets_.assign(u_detection_.begin(), u_detection_.end());
  r_tracked_.clear();
  for (int i : u_track_) {
    if (pool_[strack_pool_[i]].state() == STrackState::kTracked) r_tracked_.push_back(strack_pool_[i]);
  }
  IouDistanceToDets(r_tracked_, detections_low_, nullptr, dists_);
  lapjv_.Solve(dists_.data(), static_cast<int>(r_tracked_.size()), static_cast<int>(detections_low_.size()),
               kLowMatchThresh, matches_, u_track_, u_detection_);
  for (const Match& m : matches_) {
    STrack& track = pool_[r_tracked_[m.row]];
    const DetIn& det = detections_low_[m.col];
    if (track.state() == STrackState::kTracked) {
      track.Update(kalman_filter_, det.tlwh, det.score, det.class_id, frame_id_);
      activated_.push_back(r_tracked_[m.row]);
    } else {
      track.ReActivate(kalman_filter_, det.tlwh, det.score, det.class_id, frame_id_);
      refind_.push_back(r_tracked_[m.row]);
    }
  }
  for (int i : u_track_) {
    STrack& track = pool_[r_tracked_[i]];
    if (track.state() != STrackState::kLost) {
      track.MarkLost();
      cur_lost_.push_back(r_tracked_[i]);
    }
  }

  ////////////////// Unconfirmed tracks (usually tracks with only their first frame) //////////////////
  IouDistanceToDets(unconfirmed_, detections_, &remain_dets_, dists_);
  lapjv_.Solve(dists_.data(), static_cast<int>(unconfirmed_.size()), static_cast<int>(remain_dets_.size()),
               kUnconfirmedMatchThresh, matches_, u_track_, u_detection_);
  for (const Match& m : matches_) {
    const DetIn& det = detections_[remain_dets_[m.col]];
    pool_[unconfirmed_[m.row]].Update(kalman_filter_, det.tlwh, det.score, det.class_id, frame_id_);
    activated_.push_back(unconfirmed_[m.row]);
  }
  for (int i : u_track_) {
    pool_[unconfirmed_[i]].MarkRemoved();
    cur_removed_.push_back(unconfirmed_[i]);
  }

  ////////////////// Step 4: init new tracks //////////////////
  for (int i : u_detection_) {
    const DetIn& det = detections_[remain_dets_[i]];
    if (det.score < high_thresh_) continue;
    const int slot = NewTrack();
    // The id counter advances for every started track, including those that are never confirmed (reference).
    pool_[slot].Activate(kalman_filter_, det.tlwh, det.score, det.class_id, frame_id_, ++track_id_count_);
    activated_.push_back(slot);
  }

  ////////////////// Step 5: update state //////////////////
  for (int t : lost_stracks_) {
    STrack& track = pool_[t];
    if (frame_id_ - track.frame_id() > max_time_lost_) {
      track.MarkRemoved();
      cur_removed_.push_back(t);
    }
  }

  // tracked = joint(joint([t in tracked if Tracked], activated), refind)
  tmp_a_.clear();
  for (int t : tracked_stracks_) {
    if (pool_[t].state() == STrackState::kTracked) tmp_a_.push_back(t);
  }
  JointStracks(tmp_a_, activated_, tmp_b_);
  JointStracks(tmp_b_, refind_, tracked_stracks_);

  // lost = sub(sub(lost, tracked) + current_lost, removed). `removed` is the reference's removed_stracks list as it
  // was before this frame: tracks timed out in this frame stay in `lost` (as kRemoved) for one more frame.
  SubStracks(lost_stracks_, tracked_stracks_, tmp_a_);
  tmp_a_.insert(tmp_a_.end(), cur_lost_.begin(), cur_lost_.end());
  tmp_b_.clear();
  for (int t : tmp_a_) {
    if (!pool_[t].removed_listed_) tmp_b_.push_back(t);
  }
  SubStracks(tmp_b_, no_tracks_, lost_stracks_);  // only the dedup + id order of sub_stracks
  for (int t : cur_removed_) pool_[t].removed_listed_ = true;

  RemoveDuplicateStracks();

  for (int t : tracked_stracks_) {
    STrack& track = pool_[t];
    if (!track.is_activated()) continue;
    const bool is_new = !track.announced_;
    track.announced_ = true;
    OutputTrack(track.track_id(), track.tlbr(), track.score(), track.class_id(), track.start_frame(), is_new,
                track.lost_reported_, frame_id_, out, events_);
  }
  for (int t : lost_stracks_) {
    STrack& track = pool_[t];
    if (track.announced_) {
      ReportLost(track.track_id(), track.tlbr(), track.class_id(), track.lost_reported_, frame_id_, events_);
    }
  }

  RecycleDeadTracks();
}

void ByteTracker::Predict(std::vector<TrackedObject>& out) {
  out.clear();
  if (frame_id_ == 0) return;  // nothing seen yet: the first inferred frame stays frame 1
  // A frame of the stream (frame_id_ advances: lost tracks age by it, frames_tracked counts it) that is not a miss of
  // the tracked tracks (see Tracker::Predict).
  ++frame_id_;
  // The Kalman step Update() takes before it matches, on the same tracks (activated tracked ones and lost ones).
  active_.clear();
  for (int t : tracked_stracks_) {
    if (pool_[t].is_activated()) active_.push_back(t);
  }
  JointStracks(active_, lost_stracks_, strack_pool_);
  for (int t : strack_pool_) pool_[t].Predict(kalman_filter_, !params_.legacy_iou_on_last_update);

  // Tracked tracks (confirmed or not) are seen in this frame as far as the lost-track buffer goes: a track carried
  // through a skip that is then not detected starts its buffer at that inferred frame, not at the skip's start.
  for (int t : tracked_stracks_) pool_[t].Carry(frame_id_);

  // Lost tracks age as in Update()'s step 5 with nothing matched: one timed out in an earlier frame (removed_listed_)
  // leaves the lost list now, one whose buffer runs out in this frame is marked removed and leaves it on the next
  // frame (the reference's order, so the removal happens at the same frame number whether the frames are inferred or
  // not; RecycleDeadTracks reports kRemoved when the slot leaves).
  cur_removed_.clear();
  size_t k = 0;
  for (size_t i = 0; i < lost_stracks_.size(); ++i) {
    const int t = lost_stracks_[i];
    if (pool_[t].removed_listed_) continue;
    lost_stracks_[k++] = t;
  }
  lost_stracks_.resize(k);
  for (int t : lost_stracks_) {
    STrack& track = pool_[t];
    if (frame_id_ - track.frame_id() > max_time_lost_) {
      track.MarkRemoved();
      cur_removed_.push_back(t);
    }
  }
  for (int t : cur_removed_) pool_[t].removed_listed_ = true;

  for (int t : tracked_stracks_) {
    const STrack& track = pool_[t];
    if (!track.is_activated()) continue;
    TrackedObject o;
    o.track_id = track.track_id();
    o.box = track.tlbr();
    o.score = track.score();
    o.class_id = track.class_id();
    o.frames_tracked = static_cast<int32_t>(frame_id_ - track.start_frame() + 1);
    out.push_back(o);
  }

  RecycleDeadTracks();
}

}  // namespace track
}  // namespace camtrack
