#pragma once
// A zone: a polygon, the anchor of a box that must lie in it, a class filter, inertia on entering and leaving, dwell,
// loitering and overcrowding. Per-track state is a value (ZoneTrackState) and ZoneStep() a pure function of
// (previous state, what this frame shows of the track, timestamp) → (next state, transition).
//
// Membership, per track:
//  - entering: the anchor inside for enter_frames frames in a row (presence needs to be real, not one flicker);
//    the visit starts at the first of those frames (dwell counts from there);
//  - leaving: the anchor outside, or the track not seen at all (occluded, undetected, not output by the tracker),
//    for exit_frames frames in a row. An object occluded inside the zone for fewer frames stays inside and counted
//    (supervision#1855); detections that drop for a few frames do not flip presence (frigate#238);
//  - dwell: the stream's timestamp minus the visit's start (time, not frame counts: a stream's frame rate varies);
//  - loiter: once per visit, when the dwell reaches loiter_ms;
//  - occupancy: the tracks inside; overcrowd once when it exceeds max_occupancy, again only after it fell to
//    max_occupancy − 1 or below (hysteresis: a count hovering at the limit does not fire every frame).
#include <cstdint>
#include <string>
#include <vector>

#include "core/analytics/geometry.h"

namespace camtrack::analytics {

constexpr int kMaxInertiaFrames = 10000;

struct ZoneConfig {
  std::string id;
  std::vector<Point> polygon;    // ≥ 3 vertices, simple (not self-intersecting), concave allowed
  Anchor anchor = Anchor::kBottomCenter;
  std::vector<int32_t> classes;  // empty: every class
  int enter_frames = 1;          // 1..kMaxInertiaFrames
  int exit_frames = 1;           // 1..kMaxInertiaFrames
  int64_t loiter_ms = 0;         // 0: no loiter events
  int32_t max_occupancy = 0;     // 0: no overcrowd events
};

// Checks a zone (polygon finite, ≥ 3 points, non-zero area, simple; frames; thresholds); throws camtrack::Error
// kInvalidArgument naming `path`.
void ValidateZone(const ZoneConfig& c, const std::string& path);

bool ZoneAcceptsClass(const ZoneConfig& c, int32_t class_id);

struct ZoneTrackState {
  bool inside = false;
  bool loitered = false;   // this visit's loiter event was given
  int32_t streak = 0;      // frames in a row against the current membership (inside → outside/missing, or back)
  int64_t streak_ts = 0;   // timestamp of the streak's first frame
  int64_t entered_ts = 0;  // the visit's start (inside only)
};

enum class ZoneTransition : int8_t { kNone, kEnter, kExit };

// One frame of one track: `seen` false when the track is not in the frame (or its box is unusable, or its class is
// filtered out), else `anchor_inside` says where its anchor is.
ZoneTransition ZoneStep(const ZoneConfig& c, ZoneTrackState* s, bool seen, bool anchor_inside, int64_t ts_ms);

// Dwell of a track inside the zone at ts_ms (0 when outside).
inline int64_t ZoneDwellMs(const ZoneTrackState& s, int64_t ts_ms) { return s.inside ? ts_ms - s.entered_ts : 0; }

// Whether the loiter event fires now (once per visit); marks it given.
bool ZoneLoiterDue(const ZoneConfig& c, ZoneTrackState* s, int64_t ts_ms);

// Overcrowding with hysteresis: *armed true until it fires; re-armed at occupancy ≤ max − 1. True: fire now.
bool ZoneOvercrowdStep(const ZoneConfig& c, bool* armed, int32_t occupancy);

}  // namespace camtrack::analytics
