#pragma once
// camtrack::track::CreateTracker — one entry point that builds any of the trackers from a plain config, and the
// seconds → frames conversion of the lost-track buffer.
//
// Ownership: CreateTracker returns a new tracker owned by the caller (one per stream). TrackerConfig is a plain
// value. Thread-safety: both functions are pure (no shared state); call them from any thread.
#include <memory>

#include "core/track/byte_tracker.h"
#include "core/track/iou_tracker.h"
#include "core/track/sort_tracker.h"
#include "core/track/tracker.h"

namespace camtrack {
namespace track {

struct TrackerConfig {
  enum class Kind { kByteTrack, kSort, kIou };
  Kind kind = Kind::kByteTrack;
  ByteTrackParams byte_track;  // used when kind == kByteTrack
  SortParams sort;             // used when kind == kSort
  IouParams iou;               // used when kind == kIou
};

// Builds the tracker `config.kind` selects with its parameters. Throws camtrack::Error(kInvalidArgument, "track")
// for invalid parameters (see each tracker's constructor) or an unknown kind.
std::unique_ptr<Tracker> CreateTracker(const TrackerConfig& config);

// Checks `config` as CreateTracker would (the parameters of `config.kind` only), without building a tracker.
void ValidateTrackerConfig(const TrackerConfig& config);

// Changes the parameters of `tracker`, built by CreateTracker for `config.kind`, in place (SetParams of its kind):
// its tracks, ids and pending events are kept. Throws camtrack::Error(kInvalidArgument, "track") for invalid
// parameters, or when `tracker` is not of `config.kind` (a change of kind needs a new tracker); then nothing changes.
void SetTrackerParams(Tracker& tracker, const TrackerConfig& config);

// Expresses the lost-track buffer of EVERY kind in `config` as `seconds` at the stream's real frame rate `fps`:
// frames = max(1, round(seconds * fps)); ByteTrack gets track_buffer = frames with frame_rate = 30 (so its
// max_time_lost = int(frame_rate / 30 * track_buffer) = frames), SORT and IoU get max_age = frames.
// seconds == 0 leaves the frame-based values unchanged. Throws camtrack::Error(kInvalidArgument, "track") for a
// negative or non-finite `seconds` or a non-positive or non-finite `fps` (callers fall back to a nominal rate
// before calling when a stream reports none).
void ApplyBufferSeconds(TrackerConfig& config, double seconds, double fps);

// "bytetrack" / "sort" / "iou" (for messages and JSON).
const char* TrackerKindName(TrackerConfig::Kind kind);

}  // namespace track
}  // namespace camtrack
