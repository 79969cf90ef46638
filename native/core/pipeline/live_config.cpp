#include "core/pipeline/live_config.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/common/error.h"

namespace camtrack::pipeline {
namespace {

void CheckNonNegative(double v, const char* name) {
  if (!(v >= 0) || !std::isfinite(v))
    throw Error(ErrorCode::kInvalidArgument, "config",
                std::string("Expected a finite number >= 0 for ") + name + " but received " + std::to_string(v),
                "the live options of a stream are validated by src/config; this is a bug in the caller");
}

}  // namespace

void LiveConfigState::Set(const LiveConfig& config) {
  // Everything that could fail is checked here, on the caller's thread, so that a bad value is an error of
  // configure() (or addStream()), never a failure of the stream's frames later.
  CheckNonNegative(config.fps_limit, "fpsLimit");
  CheckNonNegative(config.track_buffer_seconds, "trackBufferSeconds");
  if (config.tracking) track::ValidateTrackerConfig(config.tracker);
  if (config.analytics) analytics::ValidateAnalytics(*config.analytics);
  if (config.interval < 0)
    throw Error(ErrorCode::kInvalidArgument, "config",
                "Expected an integer >= 0 for inference.interval but received " + std::to_string(config.interval),
                "the live options of a stream are validated by src/config; this is a bug in the caller");
  CheckNonNegative(config.motion.threshold, "motion.threshold");
  CheckNonNegative(config.motion.min_area, "motion.minArea");
  CheckNonNegative(config.motion.max_skip_seconds, "motion.maxSkipSeconds");
  auto next = std::make_shared<const Compiled>(Compiled{config, postprocess::DetectionFilter(config.detection)});
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(next);
  version_.fetch_add(1, std::memory_order_release);
}

void LiveConfigState::ChangeCounts(CountsCommand cmd) {
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_counts_.size() >= kMaxPendingCounts)
    throw Error(ErrorCode::kInvalidState, "analytics",
                "too many analytics count changes waiting for the stream's next frame",
                "wait for the stream to deliver a frame");
  pending_counts_.push_back(std::move(cmd));
  counts_pending_.store(true, std::memory_order_release);
}

std::shared_ptr<const LiveConfigState::Compiled> LiveConfigState::LoadIfChanged(uint64_t* seen) const {
  if (version_.load(std::memory_order_acquire) == *seen) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  *seen = version_.load(std::memory_order_relaxed);
  return current_;
}

bool LiveConfigState::AdmitFrame(int64_t pts_ms) {
  if (auto next = LoadIfChanged(&gate_version_)) {
    const double limit = next->config.fps_limit;
    const double gap = limit > 0 ? 1000.0 / limit : 0;
    if (gap != min_gap_ms_) {
      // A new limit applies from this frame: the gate starts afresh instead of waiting out the old gap.
      min_gap_ms_ = gap;
      next_pts_ms_ = -1e18;
    }
  }
  if (min_gap_ms_ <= 0) return true;
  if (double(pts_ms) + 0.5 < next_pts_ms_) return false;
  // The next frame may come one gap later; after a pause in the input, no earlier than half a gap before this one
  // plus a gap (the gate catches up instead of letting a burst through). The first frame starts the gate.
  next_pts_ms_ = next_pts_ms_ < -1e17 ? double(pts_ms) + min_gap_ms_
                                      : std::max(next_pts_ms_ + min_gap_ms_, double(pts_ms) - min_gap_ms_ / 2);
  return true;
}

const LiveConfig& LiveConfigState::SourceConfig(uint64_t* version) {
  if (auto next = LoadIfChanged(&source_version_)) source_ = std::move(next);
  *version = source_version_;
  static const LiveConfig kNone{};  // never configured (the pipeline configures every stream before it starts)
  return source_ ? source_->config : kNone;
}

void LiveConfigState::ApplyTracker(const LiveConfig& c) {
  if (!c.tracking) {
    tracker_.reset();
    return;
  }
  track::TrackerConfig cfg = c.tracker;
  if (c.track_buffer_seconds > 0) {
    // Lost-track buffers are configured in seconds and converted with this stream's real frame rate (the one
    // frames reach the tracker at: the fps limit when it is lower than the source's).
    const double source_fps = source_fps_.load(std::memory_order_relaxed);
    const double fps = c.fps_limit > 0 && source_fps > 0 ? std::min(c.fps_limit, source_fps)
                                                        : (source_fps > 0 ? source_fps : 30.0);
    track::ApplyBufferSeconds(cfg, c.track_buffer_seconds, fps);
  }
  if (tracker_ && tracker_kind_ == cfg.kind) {
    track::SetTrackerParams(*tracker_, cfg);  // same kind: tracks and ids continue
  } else {
    tracker_ = track::CreateTracker(cfg);
    tracker_kind_ = cfg.kind;
  }
}

void LiveConfigState::Postprocess(std::vector<Detection>& dets, int frame_width, int frame_height, bool inferred,
                                  std::vector<track::TrackedObject>& tracks, std::vector<track::TrackEvent>& events) {
  if (auto next = LoadIfChanged(&stage_version_)) {
    stage_ = std::move(next);
    ApplyTracker(stage_->config);
    if (!stage_->config.analytics) {
      analytics_.reset();
      analytics_key_.clear();
    } else if (!analytics_ || stage_->config.analytics_key != analytics_key_) {
      analytics_ = std::make_unique<analytics::AnalyticsEngine>(*stage_->config.analytics);  // validated by Set()
      analytics_key_ = stage_->config.analytics_key;
    }
  }
  if (counts_pending_.load(std::memory_order_acquire)) {
    std::vector<CountsCommand> cmds;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cmds.swap(pending_counts_);
      counts_pending_.store(false, std::memory_order_relaxed);
    }
    for (const CountsCommand& c : cmds) {
      if (!analytics_) break;
      if (c.reset) analytics_->ResetCounts();
      analytics_->AddCounts(c.add);
    }
  }
  tracks.clear();
  if (!stage_) return;  // never configured (the pipeline sets every stream's config before it starts)
  if (inferred) stage_->filter.Apply(dets, frame_width, frame_height);
  if (tracker_) {
    if (inferred)
      tracker_->Update(dets.data(), dets.size(), tracks);
    else
      tracker_->Predict(tracks);
    tracker_->TakeEvents(events);
  }
}

}  // namespace camtrack::pipeline
