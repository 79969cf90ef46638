#pragma once
// A stream's live configuration: the options that can change while the stream runs (Stream#configure() in TS;
// src/config/schema.ts marks them `reconfigurable`, LIVE_STREAM_FIELDS). "Live" here means "changeable on a running
// stream"; it has nothing to do with decode::LiveMode (camera vs file semantics).
//
//   LiveConfig       the value: fps limit, tracker (kind and parameters, or none), detection options. Complete, from
//                    the binding (native/binding/configure.cpp); no defaults here.
//   LiveConfigState  one per stream: holds the current LiveConfig, swapped whole by Set() from any thread (the JS
//                    thread), and the per-thread state that applies it from the next frame:
//                      - the source thread's fps gate (AdmitFrame), reading the fps limit, and its inference
//                        schedule (SourceConfig: interval, motion gating; pipeline/stream.cpp Stream::Schedule);
//                      - the postprocess thread's detection filter and tracker (Postprocess).
//
// Threads and cost: Set() validates and compiles the new value (detection tables, polygon bounds) on the caller's
// thread, then swaps a shared_ptr under a mutex and bumps an atomic version. Each reader checks the version once per
// frame (one atomic load) and takes the mutex only after a change, to copy the shared_ptr: no lock, no allocation per
// frame in steady state. A config a reader still uses stays alive until it moves on (shared ownership).
//
// Tracker on a change (postprocess thread, at the first frame after Set()): the same kind → its parameters change in
// place (SetTrackerParams): tracks and ids continue; another kind → a new tracker: the old one's tracks end without
// 'removed' events and the new one's ids start again at 1; none → no tracker. The lost-track buffer is converted
// from seconds with the stream's real frame rate (the fps limit when lower than the source's), also when only the
// fps limit changed.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/analytics/analytics_engine.h"
#include "core/batch/motion.h"
#include "core/batch/schedule.h"
#include "core/common/geometry.h"
#include "core/postprocess/detection_filter.h"
#include "core/track/factory.h"
#include "core/track/tracker.h"

namespace camtrack::pipeline {

struct LiveConfig {
  double fps_limit = 0;             // 0 = every frame; else at most this many frames per second (by PTS)
  bool tracking = false;            // false: detections only (tracker type 'none')
  track::TrackerConfig tracker;     // kind (ByteTrack, SORT, IoU) and its parameters, when tracking
  double track_buffer_seconds = 0;  // >0: lost-track buffer in seconds, converted with the stream's real fps
  postprocess::DetectionFilterConfig detection;  // the stream's detection options (detection_filter.h)
  // Lines, zones and speed after the tracker (core/analytics); null: none. `analytics_key` identifies its content
  // (the binding's JSON of it): a configure() that leaves it unchanged keeps the engine, its tracks and counts; a
  // changed one starts a new engine (counts from zero) at the next frame.
  std::shared_ptr<const analytics::AnalyticsConfig> analytics;
  std::string analytics_key;
  int interval = 0;           // inference.interval: frames skipped after each inferred one (batch/schedule.h)
  batch::MotionConfig motion;  // motion gating (batch/motion.h)

  batch::ScheduleConfig schedule() const { return {interval, motion.enabled, motion.max_skip_seconds}; }
};

// A change of a stream's cumulative line counts from outside the stream (Stream#resetAnalytics(), the counts kept in
// Redis): `reset` zeroes them first, then `add` is added (AnalyticsEngine::ResetCounts, AddCounts).
struct CountsCommand {
  bool reset = false;
  std::vector<analytics::LineCountsSeed> add;
};

class LiveConfigState {
 public:
  static constexpr size_t kMaxPendingCounts = 64;
  LiveConfigState() = default;
  LiveConfigState(const LiveConfigState&) = delete;
  LiveConfigState& operator=(const LiveConfigState&) = delete;

  // Any thread. Validates `config` (throws camtrack::Error(kInvalidArgument) and changes nothing when it is not
  // usable) and makes it the stream's config from the next frame each reader takes.
  void Set(const LiveConfig& config);

  // Any thread: queues `cmd` for the stream's analytics engine, applied by the postprocess thread before its next
  // frame's analytics (in the order given; dropped when the stream has no analytics then). Throws kInvalidState when
  // kMaxPendingCounts commands are already waiting (no frame has come for a while).
  void ChangeCounts(CountsCommand cmd);

  // Source thread, once per decoded frame: whether the frame at `pts_ms` passes the fps limit (false: drop it,
  // counted as dropped.fpsLimit by the caller). A new limit starts a fresh gate.
  bool AdmitFrame(int64_t pts_ms);
  // Source thread, once per admitted frame: the config in force for scheduling (interval, motion gating) and, in
  // `*version`, a number that changes whenever Set() replaced it. One atomic load in steady state.
  const LiveConfig& SourceConfig(uint64_t* version);
  // Source thread, at each (re)connection: the source's nominal frame rate (0: unknown), for the tracker's buffer.
  void SetSourceFps(double fps) { source_fps_.store(fps, std::memory_order_relaxed); }

  // Postprocess thread, once per frame of this stream, after parse + NMS: filters `dets` in place (a frame of
  // `frame_width` x `frame_height`), then updates the tracker with them: `tracks` cleared and filled, the tracker's
  // events appended to `events`. A frame that was not `inferred` (no detections) only moves the tracks on
  // (Tracker::Predict: not a miss). Without a tracker `tracks` is left empty.
  void Postprocess(std::vector<Detection>& dets, int frame_width, int frame_height, bool inferred,
                   std::vector<track::TrackedObject>& tracks, std::vector<track::TrackEvent>& events);

  // Which tracker runs now (postprocess thread; for tests and stats): nullptr before the first frame or with none.
  const track::Tracker* tracker() const { return tracker_.get(); }
  // The stream's analytics engine (postprocess thread, after Postprocess() of the frame): nullptr with none.
  analytics::AnalyticsEngine* analytics() { return analytics_.get(); }

 private:
  struct Compiled {
    LiveConfig config;
    postprocess::DetectionFilter filter;
  };
  // The current config when it changed since `*seen` (then *seen is updated), else nullptr.
  std::shared_ptr<const Compiled> LoadIfChanged(uint64_t* seen) const;
  void ApplyTracker(const LiveConfig& c);  // postprocess thread

  mutable std::mutex mu_;
  std::shared_ptr<const Compiled> current_;  // guarded by mu_
  std::atomic<uint64_t> version_{0};         // bumped under mu_ by Set(); 0: never set
  std::atomic<double> source_fps_{0};
  std::vector<CountsCommand> pending_counts_;  // guarded by mu_
  std::atomic<bool> counts_pending_{false};

  // Source thread only: the fps gate.
  uint64_t gate_version_ = 0;
  double min_gap_ms_ = 0;
  double next_pts_ms_ = -1e18;
  // Source thread only: the config the scheduler reads.
  uint64_t source_version_ = 0;
  std::shared_ptr<const Compiled> source_;

  // Postprocess thread only: the config in use, its tracker.
  uint64_t stage_version_ = 0;
  std::shared_ptr<const Compiled> stage_;
  std::unique_ptr<track::Tracker> tracker_;
  track::TrackerConfig::Kind tracker_kind_ = track::TrackerConfig::Kind::kByteTrack;
  std::unique_ptr<analytics::AnalyticsEngine> analytics_;
  std::string analytics_key_;
};

}  // namespace camtrack::pipeline
