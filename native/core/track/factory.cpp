#include "core/track/factory.h"

#include <cmath>
#include <string>

#include "core/common/error.h"

namespace camtrack {
namespace track {

std::unique_ptr<Tracker> CreateTracker(const TrackerConfig& config) {
  switch (config.kind) {
    case TrackerConfig::Kind::kByteTrack:
      return std::make_unique<ByteTracker>(config.byte_track);
    case TrackerConfig::Kind::kSort:
      return std::make_unique<SortTracker>(config.sort);
    case TrackerConfig::Kind::kIou:
      return std::make_unique<IouTracker>(config.iou);
  }
  throw Error(ErrorCode::kInvalidArgument, "track",
              "Unknown tracker kind " + std::to_string(static_cast<int>(config.kind)),
              "use one of bytetrack, sort, iou");
}

void ValidateTrackerConfig(const TrackerConfig& config) {
  switch (config.kind) {
    case TrackerConfig::Kind::kByteTrack:
      return ByteTracker::Validate(config.byte_track);
    case TrackerConfig::Kind::kSort:
      return SortTracker::Validate(config.sort);
    case TrackerConfig::Kind::kIou:
      return IouTracker::Validate(config.iou);
  }
  throw Error(ErrorCode::kInvalidArgument, "track",
              "Unknown tracker kind " + std::to_string(static_cast<int>(config.kind)),
              "use one of bytetrack, sort, iou");
}

void SetTrackerParams(Tracker& tracker, const TrackerConfig& config) {
  Tracker* t = &tracker;
  switch (config.kind) {
    case TrackerConfig::Kind::kByteTrack:
      if (auto* bt = dynamic_cast<ByteTracker*>(t)) return bt->SetParams(config.byte_track);
      break;
    case TrackerConfig::Kind::kSort:
      if (auto* so = dynamic_cast<SortTracker*>(t)) return so->SetParams(config.sort);
      break;
    case TrackerConfig::Kind::kIou:
      if (auto* io = dynamic_cast<IouTracker*>(t)) return io->SetParams(config.iou);
      break;
  }
  throw Error(ErrorCode::kInvalidArgument, "track",
              std::string("The tracker is not a ") + TrackerKindName(config.kind) + " tracker",
              "a change of tracker kind needs a new tracker (CreateTracker)");
}

void ApplyBufferSeconds(TrackerConfig& config, double seconds, double fps) {
  if (!(seconds >= 0) || !std::isfinite(seconds)) {
    throw Error(ErrorCode::kInvalidArgument, "track",
                "Expected a non-negative number of seconds for the lost-track buffer but received " +
                    std::to_string(seconds),
                "trackBufferSeconds is how long a lost track is kept");
  }
  if (!(fps > 0) || !std::isfinite(fps)) {
    throw Error(ErrorCode::kInvalidArgument, "track",
                "Expected a positive frame rate to convert the lost-track buffer but received " + std::to_string(fps),
                "pass the stream's real frame rate (fall back to a nominal rate when the stream reports none)");
  }
  if (seconds == 0) return;
  const double frames_d = std::round(seconds * fps);
  const int frames = frames_d < 1 ? 1 : (frames_d > 1e9 ? 1000000000 : static_cast<int>(frames_d));
  config.byte_track.track_buffer = frames;
  config.byte_track.frame_rate = 30.f;
  config.sort.max_age = frames;
  config.iou.max_age = frames;
}

const char* TrackerKindName(TrackerConfig::Kind kind) {
  switch (kind) {
    case TrackerConfig::Kind::kByteTrack:
      return "bytetrack";
    case TrackerConfig::Kind::kSort:
      return "sort";
    case TrackerConfig::Kind::kIou:
      return "iou";
  }
  return "unknown";
}

}  // namespace track
}  // namespace camtrack
