#include "core/track/sort_tracker.h"

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

// filterpy defaults modified as in sort.py's KalmanBoxTracker.__init__.
constexpr double kR[4] = {1, 1, 10, 10};                         // R[2:,2:] *= 10
constexpr double kP0[7] = {10, 10, 10, 10, 1e4, 1e4, 1e4};       // P[4:,4:] *= 1000; P *= 10
constexpr double kQ[7] = {1, 1, 1, 1, 0.01, 0.01, 0.0001};       // Q[-1,-1] *= 0.01; Q[4:,4:] *= 0.01

// sort.py iou_batch: continuous coordinates, no +1.
inline double SortIoU(const Box& a, const Box& b) {
  const double xx1 = std::max<double>(a.x1, b.x1), yy1 = std::max<double>(a.y1, b.y1);
  const double xx2 = std::min<double>(a.x2, b.x2), yy2 = std::min<double>(a.y2, b.y2);
  const double w = std::max(0.0, xx2 - xx1), h = std::max(0.0, yy2 - yy1);
  const double wh = w * h;
  const double uni = (double(a.x2) - a.x1) * (double(a.y2) - a.y1) + (double(b.x2) - b.x1) * (double(b.y2) - b.y1) - wh;
  return uni > 0 ? wh / uni : 0.0;
}

// Inverse of a 4x4 matrix by Gauss-Jordan elimination with partial pivoting. Returns false if singular.
bool Invert4(const double* m, double* inv) {
  double a[4][8];
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      a[i][j] = m[i * 4 + j];
      a[i][j + 4] = i == j ? 1.0 : 0.0;
    }
  }
  for (int c = 0; c < 4; ++c) {
    int piv = c;
    for (int r = c + 1; r < 4; ++r) {
      if (std::fabs(a[r][c]) > std::fabs(a[piv][c])) piv = r;
    }
    if (a[piv][c] == 0.0 || !std::isfinite(a[piv][c])) return false;
    if (piv != c) {
      for (int j = 0; j < 8; ++j) std::swap(a[c][j], a[piv][j]);
    }
    const double d = a[c][c];
    for (int j = 0; j < 8; ++j) a[c][j] /= d;
    for (int r = 0; r < 4; ++r) {
      if (r == c) continue;
      const double f = a[r][c];
      if (f == 0.0) continue;
      for (int j = 0; j < 8; ++j) a[r][j] -= f * a[c][j];
    }
  }
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) inv[i * 4 + j] = a[i][j + 4];
  }
  return true;
}
}  // namespace

void SortTracker::Validate(const SortParams& params) {
  if (!(params.iou_threshold >= 0.f && params.iou_threshold <= 1.f)) {
    throw Error(ErrorCode::kInvalidArgument, "track",
                "Expected a number in [0, 1] for iou_threshold but received " + std::to_string(params.iou_threshold),
                "SORT's iouThreshold is the minimum IoU of a track/detection match (reference default 0.3)");
  }
  if (params.max_age < 0 || params.min_hits < 0) {
    throw Error(ErrorCode::kInvalidArgument, "track",
                "Expected non-negative integers for max_age and min_hits but received " +
                    std::to_string(params.max_age) + " and " + std::to_string(params.min_hits),
                "SORT's reference defaults are maxAge 1 and minHits 3");
  }
}

void SortTracker::SetParams(const SortParams& params) {
  Validate(params);
  params_ = params;
}

SortTracker::SortTracker(const SortParams& params) : params_(params) {
  Validate(params);
  tracks_.reserve(kReserveTracks);
  dets_.reserve(kReserveDets);
  trk_boxes_.reserve(kReserveTracks);
  iou_.reserve(kReserveTracks * 16);
  square_.reserve(64 * 64);
  x_.reserve(kReserveTracks);
  y_.reserve(kReserveTracks);
  matches_.reserve(kReserveTracks);
  unmatched_dets_.reserve(kReserveDets);
  det_rows_.reserve(kReserveDets);
  trk_cols_.reserve(kReserveTracks);
  det_used_.reserve(kReserveDets);
  trk_used_.reserve(kReserveTracks);
}

SortTracker::~SortTracker() = default;

void SortTracker::ResetState() {
  frame_count_ = 0;
  next_id_ = 1;
  tracks_.clear();
}

void SortTracker::Init(Track& t, const Box& b) {
  const double w = double(b.x2) - b.x1, h = double(b.y2) - b.y1;
  t.x = {b.x1 + w / 2.0, b.y1 + h / 2.0, w * h, w / h, 0, 0, 0};
  t.p.fill(0.0);
  for (int i = 0; i < 7; ++i) t.p[i * 7 + i] = kP0[i];
}

void SortTracker::PredictTrack(Track& t) {
  if (t.x[6] + t.x[2] <= 0) t.x[6] *= 0.0;
  // x = F x
  t.x[0] += t.x[4];
  t.x[1] += t.x[5];
  t.x[2] += t.x[6];
  // P = F P F^T + Q, with F = [[I3 0 I3], [0 1 0], [0 0 I3]] (position i += velocity i + 4 for i < 3).
  double fp[49];
  for (int i = 0; i < 7; ++i) {
    for (int j = 0; j < 7; ++j) fp[i * 7 + j] = i < 3 ? t.p[i * 7 + j] + t.p[(i + 4) * 7 + j] : t.p[i * 7 + j];
  }
  for (int i = 0; i < 7; ++i) {
    for (int j = 0; j < 7; ++j) t.p[i * 7 + j] = j < 3 ? fp[i * 7 + j] + fp[i * 7 + j + 4] : fp[i * 7 + j];
    t.p[i * 7 + i] += kQ[i];
  }
}

void SortTracker::Correct(Track& t, const Box& b) {
  // filterpy KalmanFilter.update with H = [I4 0]: y = z - Hx; S = HPH' + R; K = PH' S^-1; x += K y;
  // P = (I - KH) P (I - KH)' + K R K'.
  const double w = double(b.x2) - b.x1, h = double(b.y2) - b.y1;
  const double z[4] = {b.x1 + w / 2.0, b.y1 + h / 2.0, w * h, w / h};
  double s[16], si[16];
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) s[i * 4 + j] = t.p[i * 7 + j] + (i == j ? kR[i] : 0.0);
  }
  if (!Invert4(s, si)) {
    // Cannot happen for a finite state (S = P + R is positive definite); leave the state for the NaN check.
    for (double& v : t.x) v = std::nan("");
    return;
  }
  double k[28];  // 7x4
  for (int i = 0; i < 7; ++i) {
    for (int j = 0; j < 4; ++j) {
      double acc = 0;
      for (int m = 0; m < 4; ++m) acc += t.p[i * 7 + m] * si[m * 4 + j];
      k[i * 4 + j] = acc;
    }
  }
  double y[4];
  for (int i = 0; i < 4; ++i) y[i] = z[i] - t.x[i];
  for (int i = 0; i < 7; ++i) {
    double acc = 0;
    for (int m = 0; m < 4; ++m) acc += k[i * 4 + m] * y[m];
    t.x[i] += acc;
  }
  double a[49];  // I - KH
  for (int i = 0; i < 7; ++i) {
    for (int j = 0; j < 7; ++j) a[i * 7 + j] = (i == j ? 1.0 : 0.0) - (j < 4 ? k[i * 4 + j] : 0.0);
  }
  double ap[49];
  for (int i = 0; i < 7; ++i) {
    for (int j = 0; j < 7; ++j) {
      double acc = 0;
      for (int m = 0; m < 7; ++m) acc += a[i * 7 + m] * t.p[m * 7 + j];
      ap[i * 7 + j] = acc;
    }
  }
  for (int i = 0; i < 7; ++i) {
    for (int j = 0; j < 7; ++j) {
      double acc = 0;
      for (int m = 0; m < 7; ++m) acc += ap[i * 7 + m] * a[j * 7 + m];
      double krk = 0;
      for (int m = 0; m < 4; ++m) krk += k[i * 4 + m] * kR[m] * k[j * 4 + m];
      t.p[i * 7 + j] = acc + krk;
    }
  }
}

Box SortTracker::State(const Track& t) {
  const double w = std::sqrt(t.x[2] * t.x[3]);
  const double h = t.x[2] / w;
  return Box{float(t.x[0] - w / 2.0), float(t.x[1] - h / 2.0), float(t.x[0] + w / 2.0), float(t.x[1] + h / 2.0)};
}

void SortTracker::Associate() {
  // sort.py associate_detections_to_trackers(dets, trks, iou_threshold). Rows = detections, cols = tracks.
  matches_.clear();
  unmatched_dets_.clear();
  const int nd = static_cast<int>(dets_.size()), nt = static_cast<int>(trk_boxes_.size());
  if (nt == 0 || nd == 0) {
    for (int d = 0; d < nd; ++d) unmatched_dets_.push_back(d);
    return;
  }
  const double thr = params_.iou_threshold;
  iou_.resize(size_t(nd) * nt);
  for (int d = 0; d < nd; ++d) {
    for (int t = 0; t < nt; ++t) {
      double v = SortIoU(dets_[d].box, trk_boxes_[t]);
      // Across classes: an IoU below any threshold, so the pair is never kept.
      if (params_.class_aware && dets_[d].class_id != tracks_[t].class_id) v = -1.0;
      iou_[size_t(d) * nt + t] = v;
    }
  }
  // matched_indices, in row (detection) order.
  det_rows_.clear();
  trk_cols_.clear();
  // Shortcut: every row and column has at most one entry > thr, and at least one such entry exists.
  det_used_.assign(nd, 0);
  trk_used_.assign(nt, 0);
  bool unique = true, any = false;
  for (int d = 0; d < nd && unique; ++d) {
    for (int t = 0; t < nt; ++t) {
      if (iou_[size_t(d) * nt + t] > thr) {
        any = true;
        if (++det_used_[d] > 1 || ++trk_used_[t] > 1) {
          unique = false;
          break;
        }
      }
    }
  }
  if (unique && any) {
    for (int d = 0; d < nd; ++d) {
      for (int t = 0; t < nt; ++t) {
        if (iou_[size_t(d) * nt + t] > thr) {
          det_rows_.push_back(d);
          trk_cols_.push_back(t);
        }
      }
    }
  } else {
    // linear_assignment(-iou_matrix) = lap.lapjv(-iou, extend_cost=True): square of max(nd, nt), zero padding.
    const int n = std::max(nd, nt);
    square_.assign(size_t(n) * n, 0.0);
    for (int d = 0; d < nd; ++d) {
      for (int t = 0; t < nt; ++t) square_[size_t(d) * n + t] = -iou_[size_t(d) * nt + t];
    }
    if (x_.size() < size_t(n)) {
      x_.resize(n);
      y_.resize(n);
    }
    if (lapjv_.SolveSquare(n, square_.data(), x_.data(), y_.data()) != 0) {
      throw Error(ErrorCode::kInternal, "track", "linear assignment (LAPJV) failed in SortTracker",
                  "this is a bug in camtrack's tracker; please report it with the detections that caused it");
    }
    for (int d = 0; d < nd; ++d) {
      if (x_[d] >= 0 && x_[d] < nt) {
        det_rows_.push_back(d);
        trk_cols_.push_back(x_[d]);
      }
    }
  }
  det_used_.assign(nd, 0);
  for (int d : det_rows_) det_used_[d] = 1;
  for (int d = 0; d < nd; ++d) {
    if (!det_used_[d]) unmatched_dets_.push_back(d);
  }
  for (size_t m = 0; m < det_rows_.size(); ++m) {
    const int d = det_rows_[m], t = trk_cols_[m];
    if (iou_[size_t(d) * nt + t] < thr) {
      unmatched_dets_.push_back(d);
    } else {
      matches_.push_back({d, t});
    }
  }
}

void SortTracker::Update(const Detection* dets, size_t n, std::vector<TrackedObject>& out) {
  out.clear();
  CopyValidDetections(dets, n, "SortTracker", dets_);
  ++frame_count_;

  // Predict every track; drop those whose prediction is not a finite box. trk_boxes_[k] is kept track k's box.
  size_t keep = 0;
  trk_boxes_.clear();
  for (size_t i = 0; i < tracks_.size(); ++i) {
    Track& t = tracks_[i];
    PredictTrack(t);
    if (t.time_since_update > 0) t.hit_streak = 0;
    ++t.time_since_update;
    const Box b = State(t);
    if (!(std::isfinite(b.x1) && std::isfinite(b.y1) && std::isfinite(b.x2) && std::isfinite(b.y2))) {
      if (t.announced) events_.Push(t.id, TrackEvent::Kind::kRemoved, Box{}, t.class_id, frame_count_);
      continue;
    }
    if (keep != i) tracks_[keep] = t;
    ++keep;
    trk_boxes_.push_back(b);
  }
  tracks_.resize(keep);

  Associate();

  for (const Match& m : matches_) {
    Track& t = tracks_[m.col];
    const Detection& d = dets_[m.row];
    t.time_since_update = 0;
    ++t.hits;
    ++t.hit_streak;
    t.score = d.score;
    t.class_id = d.class_id;
    Correct(t, d.box);
  }
  for (int di : unmatched_dets_) {
    const Detection& d = dets_[di];
    Track t;
    Init(t, d.box);
    t.id = next_id_++;
    t.start_frame = frame_count_;
    t.time_since_update = 0;
    t.hits = 0;
    t.hit_streak = 0;
    t.score = d.score;
    t.class_id = d.class_id;
    t.announced = false;
    t.lost_reported = false;
    t.output = false;
    tracks_.push_back(t);  // grows only past the high-water mark of live tracks
  }

  // Output (reverse creation order, as the reference) and lifecycle.
  for (size_t i = tracks_.size(); i-- > 0;) {
    Track& t = tracks_[i];
    t.output = t.time_since_update < 1 && (t.hit_streak >= params_.min_hits || frame_count_ <= params_.min_hits);
    if (!t.output) continue;
    const bool is_new = !t.announced;
    t.announced = true;
    OutputTrack(t.id, State(t), t.score, t.class_id, t.start_frame, is_new, t.lost_reported, frame_count_, out,
                events_);
  }
  for (Track& t : tracks_) {
    if (t.time_since_update > params_.max_age) continue;
    // !t.lost_reported (ReportLost's own test) first: no State() for a track whose loss is already reported.
    if (t.announced && !t.output && !t.lost_reported) {
      ReportLost(t.id, State(t), t.class_id, t.lost_reported, frame_count_, events_);
    }
  }
  keep = 0;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    const Track& t = tracks_[i];
    if (t.time_since_update > params_.max_age) {
      if (t.announced) events_.Push(t.id, TrackEvent::Kind::kRemoved, State(t), t.class_id, frame_count_);
      continue;
    }
    if (keep != i) tracks_[keep] = t;
    ++keep;
  }
  tracks_.resize(keep);
}

void SortTracker::Predict(std::vector<TrackedObject>& out) {
  out.clear();
  if (frame_count_ == 0) return;  // nothing seen yet
  // A frame of the stream (see Tracker::Predict): every track takes its Kalman step; tracks matched on the last
  // inferred frame (time_since_update 0) are carried (not aged: time_since_update and hit_streak stay); lost tracks
  // (time_since_update > 0) age exactly as Update() ages a track without a match, and are deleted past max_age.
  ++frame_count_;
  size_t keep = 0;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    Track& t = tracks_[i];
    PredictTrack(t);
    if (t.time_since_update > 0) {
      t.hit_streak = 0;
      ++t.time_since_update;
    }
    const Box b = State(t);
    if (!(std::isfinite(b.x1) && std::isfinite(b.y1) && std::isfinite(b.x2) && std::isfinite(b.y2))) {
      if (t.announced) events_.Push(t.id, TrackEvent::Kind::kRemoved, Box{}, t.class_id, frame_count_);
      continue;
    }
    if (t.time_since_update > params_.max_age) {
      if (t.announced) events_.Push(t.id, TrackEvent::Kind::kRemoved, b, t.class_id, frame_count_);
      continue;
    }
    if (keep != i) tracks_[keep] = t;
    ++keep;
  }
  tracks_.resize(keep);
  // The tracks output on the last inferred frame, at their predicted boxes, in the reference's order.
  for (size_t i = tracks_.size(); i-- > 0;) {
    const Track& t = tracks_[i];
    if (!t.output) continue;
    TrackedObject o;
    o.track_id = t.id;
    o.box = State(t);
    o.score = t.score;
    o.class_id = t.class_id;
    o.frames_tracked = static_cast<int32_t>(frame_count_ - t.start_frame + 1);
    out.push_back(o);
  }
}

}  // namespace track
}  // namespace camtrack
