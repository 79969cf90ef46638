#pragma once
// AnalyticsEngine: one stream's lines, zones and speed over its tracks, frame after frame. It owns the per-track
// states of every rule (line_counter.h, zone.h, speed.h) and the cumulative counts, and turns one frame's tracks
// into that frame's events and results (AnalyticsFrame). Used by the standalone Analytics (native/binding) and by
// the pipeline's post-track stage (analytics_stage.h).
//
// Threading: none; one engine belongs to one stream and is called by one thread at a time, in frame order.
// Memory: the track table, the per-track states and every output vector are reserved up front and reused; a frame
// allocates only when more tracks are alive than ever before (the table doubles) or a class is counted on a line for
// the first time.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/analytics/line_counter.h"
#include "core/analytics/speed.h"
#include "core/analytics/zone.h"
#include "core/track/tracker.h"

namespace camtrack::analytics {

struct AnalyticsConfig {
  std::vector<LineConfig> lines;
  std::vector<ZoneConfig> zones;
  SpeedConfig speed;
  bool use_predicted = false;  // frames not inferred: run the rules on the tracker's predicted boxes (else skip them)
  int32_t forget_frames = 300; // a track unseen for this many frames (and inside no zone) is forgotten
};

// Validates every line and zone (paths "lines[i]" / "zones[i]"), and the speed options; throws camtrack::Error.
void ValidateAnalytics(const AnalyticsConfig& c);

struct AnalyticsEvent {
  enum class Kind : uint8_t { kLineCross, kZoneEnter, kZoneExit, kLoiter, kOvercrowd, kSpeed };
  Kind kind = Kind::kLineCross;
  int32_t index = -1;     // line or zone index in the config (-1: speed)
  int64_t track_id = 0;   // 0 for overcrowd
  int32_t class_id = 0;
  int8_t direction = 0;   // line-cross: +1 in, -1 out
  double value = 0;       // loiter, zone-exit: dwell (s); overcrowd: occupancy; speed: speed
  int64_t ts_ms = 0;
};
const char* EventKindName(AnalyticsEvent::Kind k);  // "line-cross", "zone-enter", …

struct LineClassCount {
  int32_t class_id = 0;
  uint64_t in = 0, out = 0;
};

struct LineResult {
  std::vector<int64_t> crossed_in, crossed_out;  // this frame
  uint64_t in = 0, out = 0;                      // cumulative
  std::vector<LineClassCount> per_class;         // cumulative, in order of first count
};

struct ZoneResult {
  int32_t occupancy = 0;
  std::vector<int64_t> entered, exited;  // this frame
};

struct TrackZone {
  int64_t track_id = 0;
  int32_t zone = 0;
  int64_t dwell_ms = 0;
};

struct TrackSpeed {
  int64_t track_id = 0;
  double speed = 0;  // m/s with a scale, px/s without
  double direction_deg = 0;
};

struct AnalyticsFrame {
  // The config the frame was made with (its line and zone ids, the speed unit): shared with the engine, so a result
  // still on its way to JS keeps the names it was counted under after configure() replaced the engine.
  std::shared_ptr<const AnalyticsConfig> config;
  int64_t ts_ms = 0;
  bool evaluated = false;  // false: a frame not inferred, skipped by the rules (use_predicted off)
  std::vector<AnalyticsEvent> events;
  std::vector<LineResult> lines;       // one per configured line
  std::vector<ZoneResult> zones;       // one per configured zone
  std::vector<TrackZone> memberships;  // tracks inside a zone (after inertia), with their dwell
  std::vector<TrackSpeed> speeds;      // tracks with a velocity (speed enabled)
  void Reserve(size_t lines, size_t zones, size_t tracks);
};

// Cumulative counts of one line (by its id) to add to an engine's: counts kept elsewhere (Redis) and brought back
// after a restart or a move to another worker (AnalyticsEngine::AddCounts).
struct LineCountsSeed {
  std::string line_id;
  uint64_t in = 0, out = 0;
  std::vector<LineClassCount> per_class;
};

class AnalyticsEngine {
 public:
  static constexpr size_t kInitialTracks = 256;
  static constexpr size_t kMaxTracks = 1 << 16;

  explicit AnalyticsEngine(AnalyticsConfig config);  // validates; throws camtrack::Error

  const AnalyticsConfig& config() const { return *shared_config_; }
  bool metric() const { return config_.speed.metric(); }

  // One frame: the tracker's output (or the user's tracks), the frame's timestamp (ms, non-decreasing), whether a
  // detector ran on it. Fills *out (its vectors cleared and reused).
  void Update(const track::TrackedObject* tracks, size_t n, int64_t ts_ms, bool inferred, AnalyticsFrame* out);

  // Forgets every track and zeroes the counts.
  void Reset();
  // Zeroes the lines' cumulative counts (in, out, per class); tracks, their line histories and zones are kept.
  void ResetCounts();
  // Adds `seed`'s counts to the lines with those ids (ids not configured are ignored). Allocates (not per frame).
  void AddCounts(const std::vector<LineCountsSeed>& seed);

 private:
  struct Slot {
    int64_t track_id = 0;  // 0: free
    int64_t last_seen = 0; // frame number
    int64_t seen_in = -1;  // frame number of the last Update that saw it
    int32_t class_id = 0;
    SpeedTrackState speed;
  };
  int32_t Find(int64_t id) const;
  int32_t Insert(int64_t id);
  void Free(int32_t slot);
  void Grow();
  void RebuildIndex();
  void FillResults(AnalyticsFrame* out);
  void StepZones(int32_t slot, bool seen, const Box* box, int64_t ts, AnalyticsFrame* out);

  std::shared_ptr<const AnalyticsConfig> shared_config_;
  const AnalyticsConfig& config_;  // *shared_config_
  std::vector<LineGeometry> geometry_;
  std::vector<LineResult> counts_;  // cumulative (crossed_* unused)
  std::vector<bool> overcrowd_armed_;
  std::vector<Slot> slots_;
  std::vector<LineTrackState> line_states_;  // slot * lines + line
  std::vector<ZoneTrackState> zone_states_;  // slot * zones + zone
  std::vector<int32_t> free_;
  std::vector<int32_t> index_;  // open addressing: -1 empty, -2 deleted, else slot
  size_t tombstones_ = 0;
  int64_t frame_ = 0;
};

}  // namespace camtrack::analytics
